/* severity.h — the severity ladder of DESIGN.md and its journald priorities. */
#pragma once

enum severity {
    SEV_NONE = 0,
    SEV_LOW,
    SEV_MEDIUM,
    SEV_HIGH,
    SEV_CRITICAL,
};

const char *severity_name(enum severity s);      /* "none" … "critical" */
int severity_from_name(const char *name);        /* enum value, or -1 when unknown */
int severity_syslog_priority(enum severity s);   /* LOG_CRIT, LOG_ERR, LOG_WARNING, LOG_NOTICE, LOG_INFO */
