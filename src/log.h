/* log.h — the daemon's log: stderr with "<N>" priority prefixes when
 * stderr is the journal (JOURNAL_STREAM), plain "cpecwatchd: " lines
 * otherwise. Only the edges log; core modules return errors instead. */
#pragma once
#include <stdbool.h>
#include <syslog.h>

void log_setup(const char *ident, bool verbose);
void log_msg(int priority, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#define log_error(...) log_msg(LOG_ERR, __VA_ARGS__)
#define log_warning(...) log_msg(LOG_WARNING, __VA_ARGS__)
#define log_notice(...) log_msg(LOG_NOTICE, __VA_ARGS__)
#define log_info(...) log_msg(LOG_INFO, __VA_ARGS__)
#define log_debug(...) log_msg(LOG_DEBUG, __VA_ARGS__)
