/*
 * log.c - leveled key=value logging to stderr (see log.h).
 */
#include "base/log.h"

#include <stdarg.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

struct nc_log {
    FILE *stream;
    atomic_int level;
};

static const char *const level_names[] = {"error", "warn", "info", "debug"};

nc_log *nc_log_new(FILE *stream, enum nc_log_level level)
{
    nc_log *log = calloc(1, sizeof(*log));
    if (!log)
        return NULL;
    log->stream = stream ? stream : stderr;
    atomic_init(&log->level, (int)level);
    return log;
}

void nc_log_free(nc_log *log)
{
    free(log);
}

void nc_log_set_level(nc_log *log, enum nc_log_level level)
{
    atomic_store(&log->level, (int)level);
}

enum nc_log_level nc_log_get_level(const nc_log *log)
{
    return (enum nc_log_level)atomic_load(&((nc_log *)log)->level);
}

int nc_log_enabled(const nc_log *log, enum nc_log_level level)
{
    return log && (int)level <= atomic_load(&((nc_log *)log)->level);
}

int nc_log_level_parse(const char *name)
{
    if (!name)
        return -1;
    for (int i = 0; i < 4; i++)
        if (!strcasecmp(name, level_names[i]))
            return i;
    if (!strcasecmp(name, "warning"))
        return NC_LOG_WARN;
    return -1;
}

const char *nc_log_level_name(enum nc_log_level level)
{
    if ((int)level < 0 || (int)level > NC_LOG_DEBUG)
        return "?";
    return level_names[level];
}

void nc_log_msg(nc_log *log, enum nc_log_level level, const char *fmt, ...)
{
    char line[2048];
    struct timespec ts;
    struct tm tm;
    size_t n;
    int w;
    va_list ap;

    if (!nc_log_enabled(log, level))
        return;
    clock_gettime(CLOCK_REALTIME, &ts);
    gmtime_r(&ts.tv_sec, &tm);
    n = strftime(line, sizeof(line), "%Y-%m-%dT%H:%M:%S", &tm);
    w = snprintf(line + n, sizeof(line) - n, ".%03ldZ %-5s ", ts.tv_nsec / 1000000L,
                 nc_log_level_name(level));
    if (w > 0)
        n += (size_t)w;
    va_start(ap, fmt);
    w = vsnprintf(line + n, sizeof(line) - n, fmt, ap);
    va_end(ap);
    if (w < 0)
        w = 0;
    n += (size_t)w;
    if (n > sizeof(line) - 2) {
        /* Truncated: mark it so a reader knows the line was cut. */
        n = sizeof(line) - 5;
        memcpy(line + n, "...", 4); /* with its NUL */
        n += 3;
    }
    /* Control characters from message contents would forge log lines. */
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)line[i] < 0x20 && line[i] != '\t')
            line[i] = ' ';
    line[n++] = '\n';
    fwrite(line, 1, n, log->stream);
    fflush(log->stream);
}
