/* fuzz_config.c — the YAML config path that `llmotlp validate` takes: parse (env expansion,
 * Collector scalar rules), bind every component's declared fields, run each factory's validate,
 * check the pipeline graph; then describe the pipelines and list the warnings.
 * Input: the YAML text.
 *
 * The one idea: service_load_string() is the whole of `validate` and stops before any component
 * is created, so it opens no port and writes no file (a validate may stat() a directory named in
 * the config, read-only); the fuzzer can run it millions of times. It asserts memory safety
 * (ASan/UBSan), bounded work, and that a refusal always comes with a message. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/service.h"
#include "fuzz/fuzz_util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fuzz_quiet();
    char *yaml = malloc(size + 1);
    if (!yaml)
        return 0;
    memcpy(yaml, data, size);
    yaml[size] = '\0';
    struct error err = {0};
    struct service *s = service_load_string(yaml, &err);
    free(yaml);
    if (getenv("FUZZ_VERBOSE")) /* to see what a seed exercises: FUZZ_VERBOSE=1 ./fuzz_config f */
        fprintf(stderr, "%s\n", s ? "config OK" : err.msg);
    if (!s) {
        FUZZ_CHECK(err.msg[0], "config refused without a message");
        return 0;
    }
    char buf[2048];
    for (size_t i = 0; i < service_pipeline_count(s); i++) {
        const char *line = service_pipeline_describe(s, i, buf, sizeof buf);
        FUZZ_CHECK(line && strlen(line) < sizeof buf, "pipeline description overflows");
    }
    for (size_t i = 0; i < service_warning_count(s); i++)
        FUZZ_CHECK(service_warning(s, i), "warning %zu is NULL", i);
    service_free(s);
    return 0;
}
