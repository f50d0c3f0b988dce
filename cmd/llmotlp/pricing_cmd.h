/* pricing_cmd.h — `llmotlp pricing ...`: the pricing store's administration command line. */
#ifndef LLMOTLP_PRICING_CMD_H
#define LLMOTLP_PRICING_CMD_H

/* argv[0] is "pricing". Returns the process exit code: 0 ok, 1 error, 2 usage. */
int pricing_main(int argc, char **argv);

#endif
