/* match_driver.c — the matching benchmark's driver (built by bench_match
 * against build/libcpecwatch.a): loads a ruleset, reads a text file, and
 * runs ruleset_match() over every line as one item's title, the whole
 * pipeline of the match stage (normalisation, the automaton, regexes, rules,
 * extraction, gazetteer). Prints "items bytes seconds alerts" on one line.
 *
 * usage: match_driver RULES.CONF TEXT */
#include <libconfig.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "rules.h"

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static char *slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *buf = n >= 0 ? malloc((size_t)n + 1) : NULL;
    if (buf && fread(buf, 1, (size_t)n, f) == (size_t)n) {
        buf[n] = '\0';
        *len = (size_t)n;
    } else {
        free(buf);
        buf = NULL;
    }
    fclose(f);
    return buf;
}

int main(int argc, char **argv)
{
    if (argc != 3) {
        fprintf(stderr, "usage: match_driver RULES.CONF TEXT\n");
        return 2;
    }
    config_t cfg;
    config_init(&cfg);
    if (!config_read_file(&cfg, argv[1])) {
        fprintf(stderr, "%s:%d: %s\n", argv[1], config_error_line(&cfg), config_error_text(&cfg));
        return 2;
    }
    char err[512];
    struct ruleset *rs = ruleset_new(&cfg, err, sizeof err);
    size_t len = 0;
    char *text = rs ? slurp(argv[2], &len) : NULL;
    if (!text) {
        fprintf(stderr, "%s\n", rs ? "cannot read the text" : err);
        return 2;
    }
    size_t items = 0, alerts = 0;
    double t0 = now_s();
    for (char *line = text, *nl; *line; line = nl + 1) {
        nl = strchr(line, '\n');
        if (!nl)
            nl = line + strlen(line) - 1;
        else
            *nl = '\0';
        struct match_result m;
        ruleset_match(rs, line, NULL, &m);
        items++;
        alerts += m.severity != SEV_NONE;
    }
    double t = now_s() - t0;
    printf("%zu %zu %.6f %zu\n", items, len, t, alerts);
    free(text);
    ruleset_free(rs);
    config_destroy(&cfg);
    return 0;
}
