# embed.cmake — turns pricing/schema.sql into a C array at build time, so the binary and the
# schema file can never drift apart. Run as: cmake -DIN=schema.sql -DOUT=file.c -P embed.cmake
file(READ ${IN} hex HEX)
string(REGEX REPLACE "([0-9a-f][0-9a-f])" "0x\\1," bytes "${hex}")
file(WRITE ${OUT}
  "/* generated from pricing/schema.sql by pricing/embed.cmake: do not edit */\n"
  "const char pricing_schema_sql[] = {${bytes}0x00};\n")
