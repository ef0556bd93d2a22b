/* fuzz_config.c — config_load (libconfig parse, validation of globals,
 * feeds, sinks, and ruleset_new for groups, rules, regexes and gazetteer)
 * on hostile configuration text. The text is written to a private temporary
 * file because config_load reads a path. Inputs that @include or name a
 * *_file are skipped: those name files the operator chose, and following
 * fuzzed names would read /dev/zero or the fuzzer's own corpus rather than
 * test our code.
 * Contract checked: failure always comes with a message. */
#include "fuzz.h"
#include "config.h"

#include <stdio.h>
#include <unistd.h>

static char conf_path[64];

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    snprintf(conf_path, sizeof conf_path, "/tmp/fuzz_config.%ld.conf", (long)getpid());
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (memmem(data, size, "@include", 8) || memmem(data, size, "_file", 5))
        return 0;
    FILE *fp = fopen(conf_path, "we");
    if (!fp)
        abort();
    if (fwrite(data, 1, size, fp) != size || fclose(fp) != 0)
        abort();
    char err[4096] = "";
    struct config *cfg = config_load(conf_path, err, sizeof err);
    if (!cfg && !err[0])
        abort();
    config_free(cfg);
    unlink(conf_path);
    return 0;
}
