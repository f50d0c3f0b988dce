/* gen_cmd.h — `llmotlp gen ...`: the gateway-traffic generator's command line. */
#ifndef LLMOTLP_GEN_CMD_H
#define LLMOTLP_GEN_CMD_H

/* argv[0] is "gen". Returns the process exit code: 0 when every request sent was accepted
 * whole, 1 on any refusal, partial rejection or unreachable endpoint, 2 on a usage error. */
int gen_main(int argc, char **argv);

#endif
