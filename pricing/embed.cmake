# embed.cmake — turns a file of pricing/ (schema.sql, prices.csv) into a C array at build time, so
# the binary and the file can never drift apart.
# Run as: cmake -DIN=schema.sql -DOUT=file.c [-DNAME=pricing_schema_sql] -P embed.cmake
if(NOT DEFINED NAME)
  set(NAME pricing_schema_sql)
endif()
get_filename_component(base ${IN} NAME)
file(READ ${IN} hex HEX)
string(REGEX REPLACE "([0-9a-f][0-9a-f])" "0x\\1," bytes "${hex}")
file(WRITE ${OUT}
  "/* generated from pricing/${base} by pricing/embed.cmake: do not edit */\n"
  "const char ${NAME}[] = {${bytes}0x00};\n")
