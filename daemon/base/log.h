/*
 * log.h - leveled logging to stderr with key=value context.
 *
 * One line per event: "<RFC 3339 UTC time> <level> <message> key=value ...".
 * The message and the context are one printf-style format string, e.g.
 *   nc_log_warn(log, "produce retry topic=%s partition=%d", t, p);
 * With logging.format json (nc_log_set_format) each line is instead one JSON
 * object: {"time", "level", "message", then each key=value of the context as
 * a string field}. When the stream is the systemd journal (JOURNAL_STREAM
 * names its device and inode, see systemd.exec(5)) each line starts with its
 * sd-daemon(3) priority, "<3>" for error ... "<7>" for debug, so
 * `journalctl -p err` finds the errors.
 * Each line is formatted into a buffer first and written with one fwrite, so
 * lines from several threads never interleave. The level is an atomic so a
 * reload (SIGHUP) can change it while other threads log. Callers never pass
 * secrets here (no config values of sasl.* / ssl.* keys are logged).
 */
#ifndef NC_LOG_H
#define NC_LOG_H

#include <stdio.h>

/* Log levels, most severe first; the config's logging.level is one of these. */
enum nc_log_level { NC_LOG_ERROR = 0, NC_LOG_WARN, NC_LOG_INFO, NC_LOG_DEBUG };

/* Line formats; the config's logging.format is one of these. */
enum nc_log_format { NC_LOG_TEXT = 0, NC_LOG_JSON };

typedef struct nc_log nc_log;

/* A logger writing to stream (stderr when NULL), at level and above. */
nc_log *nc_log_new(FILE *stream, enum nc_log_level level);
void nc_log_free(nc_log *log);

void nc_log_set_level(nc_log *log, enum nc_log_level level);
void nc_log_set_format(nc_log *log, enum nc_log_format format);
/* True if lines carry journald priority prefixes (stream is the journal). */
int nc_log_is_journal(const nc_log *log);
enum nc_log_level nc_log_get_level(const nc_log *log);
int nc_log_enabled(const nc_log *log, enum nc_log_level level);

/* "debug", "info", "warn"/"warning", "error" -> level; -1 when unknown. */
int nc_log_level_parse(const char *name);
const char *nc_log_level_name(enum nc_log_level level);

#if defined(__GNUC__)
#define NC_PRINTF(a, b) __attribute__((format(printf, a, b)))
#else
#define NC_PRINTF(a, b)
#endif

void nc_log_msg(nc_log *log, enum nc_log_level level, const char *fmt, ...) NC_PRINTF(3, 4);

/*
 * As nc_log_msg, but lines with the same level and key (NULL: the same text)
 * are written at most once per interval_ms; the next one written after that
 * carries "repeated=N", the number dropped in between. For noisy sources
 * such as librdkafka's connection errors (kafka/conf.c).
 */
void nc_log_limited(nc_log *log, enum nc_log_level level, int interval_ms, const char *key,
                    const char *fmt, ...) NC_PRINTF(5, 6);

#define nc_log_debug(log, ...) nc_log_msg((log), NC_LOG_DEBUG, __VA_ARGS__)
#define nc_log_info(log, ...) nc_log_msg((log), NC_LOG_INFO, __VA_ARGS__)
#define nc_log_warn(log, ...) nc_log_msg((log), NC_LOG_WARN, __VA_ARGS__)
#define nc_log_error(log, ...) nc_log_msg((log), NC_LOG_ERROR, __VA_ARGS__)

#endif
