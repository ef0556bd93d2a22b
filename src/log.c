/* log.c — see log.h. The settings are written once at start-up, before the
 * event loop runs, and only read afterwards. */
#include "log.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>

static struct {
    const char *ident;
    bool verbose;
    bool to_journal;   /* stderr is connected to journald: use <N> prefixes */
} log_conf = { .ident = "cpecwatch" };

/* JOURNAL_STREAM is "DEV:INO" of the stream systemd connected; it only
 * counts when it is still our stderr (not inherited by a child's pipe). */
static bool stderr_is_journal(void)
{
    const char *e = getenv("JOURNAL_STREAM");
    unsigned long long dev, ino;
    struct stat st;
    if (!e || sscanf(e, "%llu:%llu", &dev, &ino) != 2 || fstat(2, &st) < 0)
        return false;
    return st.st_dev == dev && st.st_ino == ino;
}

void log_setup(const char *ident, bool verbose)
{
    log_conf.ident = ident;
    log_conf.verbose = verbose;
    log_conf.to_journal = stderr_is_journal();
}

void log_msg(int priority, const char *fmt, ...)
{
    if (priority >= LOG_DEBUG && !log_conf.verbose)
        return;
    char line[2048];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    if (log_conf.to_journal)
        fprintf(stderr, "<%d>%s\n", priority, line);
    else
        fprintf(stderr, "%s: %s\n", log_conf.ident, line);
}
