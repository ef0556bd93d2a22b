/* severity.c — see severity.h. */
#include "severity.h"

#include <string.h>
#include <syslog.h>

static const char *const severity_names[] = {
    [SEV_NONE] = "none",
    [SEV_LOW] = "low",
    [SEV_MEDIUM] = "medium",
    [SEV_HIGH] = "high",
    [SEV_CRITICAL] = "critical",
};

const char *severity_name(enum severity s)
{
    if ((unsigned)s > SEV_CRITICAL)
        return "none";
    return severity_names[s];
}

int severity_from_name(const char *name)
{
    for (int s = SEV_NONE; s <= SEV_CRITICAL; s++)
        if (name && strcmp(name, severity_names[s]) == 0)
            return s;
    return -1;
}

int severity_syslog_priority(enum severity s)
{
    switch (s) {
    case SEV_CRITICAL: return LOG_CRIT;
    case SEV_HIGH: return LOG_ERR;
    case SEV_MEDIUM: return LOG_WARNING;
    case SEV_LOW: return LOG_NOTICE;
    default: return LOG_INFO;
    }
}
