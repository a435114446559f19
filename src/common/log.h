/* log.h - one line per event, key=value, to stderr.
 *
 *   log_info("event=listen addr=%s port=%d", host, port);
 *
 * Each line starts with ts=<RFC 3339 UTC> level=<level>. Thread-safe: a line
 * is written with a single write(2). */
#ifndef TANDEM_LOG_H
#define TANDEM_LOG_H

enum log_level { LOG_DEBUG, LOG_INFO, LOG_WARN, LOG_ERR };

/* log_set_level - lines below @lvl are dropped (default LOG_INFO). */
void log_set_level(enum log_level lvl);

void log_write(enum log_level lvl, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#define log_debug(...) log_write(LOG_DEBUG, __VA_ARGS__)
#define log_info(...)  log_write(LOG_INFO, __VA_ARGS__)
#define log_warn(...)  log_write(LOG_WARN, __VA_ARGS__)
#define log_err(...)   log_write(LOG_ERR, __VA_ARGS__)

#endif
