/*
 * log.c - leveled key=value logging to stderr, as text or JSON lines, with
 * journald priority prefixes and a repeat limiter (see log.h).
 */
#include "base/log.h"

#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>

#define LINE_MAX_BYTES 2048
#define RECENT_SLOTS 32

/* One recently written rate-limited line: its hash, when, how many dropped. */
struct recent {
    uint64_t hash;
    int64_t last_ms;
    unsigned long dropped;
};

struct nc_log {
    FILE *stream;
    atomic_int level;
    atomic_int format;
    int journal;
    pthread_mutex_t lock; /* guards recent[] */
    struct recent recent[RECENT_SLOTS];
};

static const char *const level_names[] = {"error", "warn", "info", "debug"};
/* sd-daemon.h: SD_ERR, SD_WARNING, SD_INFO, SD_DEBUG. */
static const char *const journal_prefix[] = {"<3>", "<4>", "<6>", "<7>"};

/* True if JOURNAL_STREAM ("<device>:<inode>") names the file fp writes to. */
static int is_journal(FILE *fp)
{
    const char *env = getenv("JOURNAL_STREAM");
    unsigned long long dev, ino;
    struct stat st;
    char *end;

    if (!env || *env < '0' || *env > '9')
        return 0;
    errno = 0;
    dev = strtoull(env, &end, 10);
    if (errno || *end != ':' || end[1] < '0' || end[1] > '9')
        return 0;
    ino = strtoull(end + 1, &end, 10);
    if (errno || *end)
        return 0;
    if (fstat(fileno(fp), &st) != 0)
        return 0;
    return (unsigned long long)st.st_dev == dev && (unsigned long long)st.st_ino == ino;
}

nc_log *nc_log_new(FILE *stream, enum nc_log_level level)
{
    nc_log *log = calloc(1, sizeof(*log));
    if (!log)
        return NULL;
    log->stream = stream ? stream : stderr;
    atomic_init(&log->level, (int)level);
    atomic_init(&log->format, NC_LOG_TEXT);
    log->journal = is_journal(log->stream);
    pthread_mutex_init(&log->lock, NULL);
    return log;
}

void nc_log_free(nc_log *log)
{
    if (!log)
        return;
    pthread_mutex_destroy(&log->lock);
    free(log);
}

void nc_log_set_level(nc_log *log, enum nc_log_level level)
{
    atomic_store(&log->level, (int)level);
}

void nc_log_set_format(nc_log *log, enum nc_log_format format)
{
    atomic_store(&log->format, (int)format);
}

int nc_log_is_journal(const nc_log *log)
{
    return log && log->journal;
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

/* "2026-01-02T03:04:05.678Z" into buf (at least 32 bytes); its length. */
static size_t format_time(char *buf, size_t len)
{
    struct timespec ts;
    struct tm tm;
    size_t n;

    clock_gettime(CLOCK_REALTIME, &ts);
    gmtime_r(&ts.tv_sec, &tm);
    n = strftime(buf, len, "%Y-%m-%dT%H:%M:%S", &tm);
    n += (size_t)snprintf(buf + n, len - n, ".%03ldZ", ts.tv_nsec / 1000000L);
    return n;
}

/* Growing output into a fixed buffer; full stays set once something was cut. */
struct out {
    char *buf;
    size_t len, cap;
    int full;
};

static void put(struct out *o, const char *s, size_t n)
{
    if (o->len + n > o->cap) {
        n = o->cap - o->len;
        o->full = 1;
    }
    memcpy(o->buf + o->len, s, n);
    o->len += n;
}

/* s[0..n) as the body of a JSON string; control characters escaped. */
static void put_json(struct out *o, const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        char esc[8];
        if (c == '"' || c == '\\') {
            esc[0] = '\\';
            esc[1] = (char)c;
            put(o, esc, 2);
        } else if (c < 0x20) {
            snprintf(esc, sizeof(esc), "\\u%04x", c);
            put(o, esc, 6);
        } else {
            put(o, (const char *)&s[i], 1);
        }
    }
}

/* Length of a context key ([A-Za-z0-9_.-]+ followed by '=') at s, else 0. */
static size_t key_len(const char *s)
{
    size_t n = 0;
    while (s[n] && (strchr("_.-", s[n]) || (s[n] >= 'a' && s[n] <= 'z') ||
                    (s[n] >= 'A' && s[n] <= 'Z') || (s[n] >= '0' && s[n] <= '9')))
        n++;
    return n > 0 && s[n] == '=' ? n : 0;
}

/* Where the next " key=" starts in body after from (its space), or the end. */
static const char *next_key(const char *from)
{
    const char *p = from;
    while ((p = strchr(p, ' ')) != NULL) {
        if (key_len(p + 1))
            return p;
        p++;
    }
    return from + strlen(from);
}

/* body "message k=v k2=v2" as one JSON object's message and fields. */
static void put_json_body(struct out *o, const char *body)
{
    const char *end = next_key(body);

    put(o, ",\"message\":\"", 12);
    put_json(o, body, (size_t)(end - body));
    put(o, "\"", 1);
    while (*end) {
        const char *k = end + 1;
        size_t kl = key_len(k);
        const char *v = k + kl + 1;
        end = next_key(v);
        put(o, ",\"", 2);
        put_json(o, k, kl);
        put(o, "\":\"", 3);
        put_json(o, v, (size_t)(end - v));
        put(o, "\"", 1);
    }
    put(o, "}", 1);
}

/* Writes one finished body as a line in the logger's format. */
static void emit(nc_log *log, enum nc_log_level level, const char *body)
{
    char line[3 * LINE_MAX_BYTES];
    char ts[40];
    struct out o = {line, 0, sizeof(line) - 1, 0};
    size_t tn = format_time(ts, sizeof(ts));

    if (log->journal)
        put(&o, journal_prefix[level], 3);
    if (atomic_load(&log->format) == NC_LOG_JSON) {
        put(&o, "{\"time\":\"", 9);
        put(&o, ts, tn);
        put(&o, "\",\"level\":\"", 11);
        put(&o, level_names[level], strlen(level_names[level]));
        put(&o, "\"", 1);
        put_json_body(&o, body);
        if (o.full) { /* cut JSON would not parse: say so in a line that does */
            snprintf(line, sizeof(line) - 1, "%s{\"time\":\"%s\",\"level\":\"%s\",\"message\":"
                     "\"(line too long to log)\"}", log->journal ? journal_prefix[level] : "",
                     ts, level_names[level]);
            o.len = strlen(line);
        }
    } else {
        size_t start = o.len;
        char head[64];
        int hn = snprintf(head, sizeof(head), "%s %-5s ", ts, level_names[level]);
        put(&o, head, (size_t)hn);
        put(&o, body, strlen(body));
        /* Control characters from message contents would forge log lines. */
        for (size_t i = start; i < o.len; i++)
            if ((unsigned char)line[i] < 0x20 && line[i] != '\t')
                line[i] = ' ';
    }
    line[o.len++] = '\n';
    fwrite(line, 1, o.len, log->stream);
    fflush(log->stream);
}

/* fmt/ap into body (LINE_MAX_BYTES), marked with "..." when cut. */
static void format_body(char *body, const char *fmt, va_list ap) NC_PRINTF(2, 0);

static void format_body(char *body, const char *fmt, va_list ap)
{
    int w = vsnprintf(body, LINE_MAX_BYTES, fmt, ap);
    if (w < 0)
        body[0] = '\0';
    else if (w >= LINE_MAX_BYTES) /* truncated: mark it so a reader knows */
        memcpy(body + LINE_MAX_BYTES - 4, "...", 4);
}

void nc_log_msg(nc_log *log, enum nc_log_level level, const char *fmt, ...)
{
    char body[LINE_MAX_BYTES];
    va_list ap;

    if (!nc_log_enabled(log, level))
        return;
    va_start(ap, fmt);
    format_body(body, fmt, ap);
    va_end(ap);
    emit(log, level, body);
}

/* FNV-1a of level and text. */
static uint64_t line_hash(enum nc_log_level level, const char *s)
{
    uint64_t h = 1469598103934665603ULL ^ (uint64_t)level;
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 1099511628211ULL;
    return h;
}

/* How many identical lines were dropped before this one, or -1 to drop it. */
static long admit(nc_log *log, uint64_t h, int interval_ms)
{
    struct timespec ts;
    int64_t now;
    struct recent *slot = NULL, *oldest = &log->recent[0];
    long dropped = 0;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    now = (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
    pthread_mutex_lock(&log->lock);
    for (size_t i = 0; i < RECENT_SLOTS && !slot; i++) {
        if (log->recent[i].hash == h && log->recent[i].last_ms)
            slot = &log->recent[i];
        else if (log->recent[i].last_ms < oldest->last_ms)
            oldest = &log->recent[i];
    }
    if (slot && now - slot->last_ms < interval_ms) {
        slot->dropped++;
        dropped = -1;
    } else {
        if (!slot) {
            slot = oldest;
            slot->dropped = 0;
        }
        dropped = (long)slot->dropped;
        slot->hash = h;
        slot->last_ms = now ? now : 1;
        slot->dropped = 0;
    }
    pthread_mutex_unlock(&log->lock);
    return dropped;
}

void nc_log_limited(nc_log *log, enum nc_log_level level, int interval_ms, const char *key,
                    const char *fmt, ...)
{
    char body[LINE_MAX_BYTES];
    va_list ap;
    long dropped;

    if (!nc_log_enabled(log, level))
        return;
    va_start(ap, fmt);
    format_body(body, fmt, ap);
    va_end(ap);
    dropped = admit(log, line_hash(level, key ? key : body), interval_ms);
    if (dropped < 0)
        return;
    if (dropped > 0) {
        size_t n = strlen(body);
        if (n + 32 < sizeof(body))
            snprintf(body + n, sizeof(body) - n, " repeated=%ld", dropped);
    }
    emit(log, level, body);
}
