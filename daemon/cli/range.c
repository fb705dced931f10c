/*
 * range.c - --from / --to and the per-partition offsets they come to (see
 * range.h).
 */
#include "cli/range.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/clock.h"

/* Exactly n ASCII digits at s, as a number. Returns 0, or -1. */
static int digits(const char *s, int n, int *out)
{
    int v = 0;
    for (int i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return -1;
        v = v * 10 + (s[i] - '0');
    }
    *out = v;
    return 0;
}

/*
 * RFC 3339 (2026-11-27T10:00:00Z, 2026-11-27T12:00:00.5+02:00, a space for
 * the T) or a bare date (midnight UTC) -> milliseconds since the epoch.
 */
static int parse_time(const char *s, int64_t *ms)
{
    int y, mo, d, h = 0, mi = 0, sec = 0, n = 0;
    double frac = 0;
    struct tm tm;
    const char *p;
    (void)n;
    if (digits(s, 4, &y) || s[4] != '-' || digits(s + 5, 2, &mo) || s[7] != '-' ||
        digits(s + 8, 2, &d))
        return -1;
    p = s + 10;
    if (*p == 'T' || *p == 't' || *p == ' ') {
        if (digits(p + 1, 2, &h) || p[3] != ':' || digits(p + 4, 2, &mi) || p[6] != ':' ||
            digits(p + 7, 2, &sec))
            return -1;
        p += 9;
        if (*p == '.') {
            char *end;
            frac = strtod(p, &end);
            p = end;
        }
    }
    memset(&tm, 0, sizeof(tm));
    tm.tm_year = y - 1900;
    tm.tm_mon = mo - 1;
    tm.tm_mday = d;
    tm.tm_hour = h;
    tm.tm_min = mi;
    tm.tm_sec = sec;
    if (mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || sec > 60)
        return -1;
    int64_t t = (int64_t)timegm(&tm);
    if (*p == 'Z' || *p == 'z') {
        p++;
    } else if (*p == '+' || *p == '-') {
        int oh, om;
        if (digits(p + 1, 2, &oh) || p[3] != ':' || digits(p + 4, 2, &om))
            return -1;
        t -= (*p == '+' ? 1 : -1) * (int64_t)(oh * 3600 + om * 60);
        p += 6;
    } else if (p != s + 10) {
        return -1; /* a time of day needs its offset */
    }
    if (*p)
        return -1;
    *ms = t * 1000 + (int64_t)(frac * 1000 + 0.5);
    return 0;
}

int nc_bound_parse(const char *s, struct nc_bound *b)
{
    char *end;
    memset(b, 0, sizeof(*b));
    if (!strcmp(s, "beginning") || !strcmp(s, "earliest")) {
        b->kind = NC_B_BEGINNING;
        return 0;
    }
    if (!strcmp(s, "end") || !strcmp(s, "latest")) {
        b->kind = NC_B_END;
        return 0;
    }
    if (parse_time(s, &b->value) == 0) {
        b->kind = NC_B_TIME;
        return 0;
    }
    if (!strchr(s, ':')) {
        errno = 0;
        long long v = strtoll(s, &end, 10);
        if (errno || *end || end == s || v < 0)
            return -1;
        b->kind = NC_B_OFFSET;
        b->value = v;
        return 0;
    }
    /* PARTITION:OFFSET[,PARTITION:OFFSET...] */
    b->kind = NC_B_PARTS;
    const char *p = s;
    while (*p) {
        long part = strtol(p, &end, 10);
        if (end == p || *end != ':' || part < 0 || b->nparts == NC_CLI_MAX_ITEMS)
            return -1;
        p = end + 1;
        long long off = strtoll(p, &end, 10);
        if (end == p || off < 0 || (*end && *end != ','))
            return -1;
        b->part[b->nparts] = (int32_t)part;
        b->off[b->nparts++] = off;
        p = *end ? end + 1 : end;
    }
    return 0;
}

/*
 * Resolves a timestamp bound to offsets with offsetsForTimes. A partition for
 * which the broker answers "none" although its last message is not older
 * than the timestamp did not do the lookup (the mock cluster never does, see
 * docs/kafka.md): that partition is scanned instead, filtering on the
 * message timestamps (scan_from / scan_to).
 */
static int resolve_time(struct nc_kcmd *k, struct nc_range *r, int is_to, int64_t ts,
                        const int64_t *lows, int timeout_ms)
{
    rd_kafka_topic_partition_list_t *l = rd_kafka_topic_partition_list_new((int)r->npr);
    rd_kafka_resp_err_t e;
    int rc = -1;
    for (size_t i = 0; i < r->npr; i++)
        rd_kafka_topic_partition_list_add(l, r->pr[i].topic, r->pr[i].partition)->offset = ts;
    e = rd_kafka_offsets_for_times(nc_kafka_in_handle(k->in), l, timeout_ms);
    if (e) {
        fprintf(stderr, "newsclf %s: offsets for %s: %s\n", k->name, is_to ? "--to" : "--from",
                rd_kafka_err2str(e));
        goto out;
    }
    for (size_t i = 0; i < r->npr; i++) {
        struct nc_prange *p = &r->pr[i];
        const rd_kafka_topic_partition_t *t = &l->elems[i];
        if (t->err) {
            fprintf(stderr, "newsclf %s: offsets of %s/%d: %s\n", k->name, p->topic,
                    (int)p->partition, rd_kafka_err2str(t->err));
            goto out;
        }
        if (t->offset >= 0) {
            if (is_to)
                p->end = t->offset < p->end ? t->offset : p->end;
            else
                p->start = t->offset;
        } else if (lows[i] < p->end) {
            /* "No message at or after ts" in a non-empty partition: check
             * its last message before believing it. */
            if (is_to)
                p->scan_to = 1;
            else
                p->scan_from = 1;
        } else if (!is_to) {
            p->start = p->end; /* empty partition */
        }
    }
    rc = 0;
out:
    rd_kafka_topic_partition_list_destroy(l);
    return rc;
}

/* For partitions marked scan_*: reads the last message of the range; when
 * its timestamp confirms the broker's "none", no scan is needed. */
static int confirm_scans(struct nc_kcmd *k, struct nc_range *r, int timeout_ms)
{
    rd_kafka_topic_partition_list_t *l = rd_kafka_topic_partition_list_new(4);
    int rc = -1, pending = 0;
    for (size_t i = 0; i < r->npr; i++)
        if (r->pr[i].scan_from || r->pr[i].scan_to) {
            rd_kafka_topic_partition_list_add(l, r->pr[i].topic, r->pr[i].partition)->offset =
                r->pr[i].end - 1;
            pending++;
        }
    if (!pending) {
        rc = 0;
        goto out;
    }
    if (nc_kafka_in_assign(k->in, l) != 0)
        goto out;
    int64_t deadline = nc_now_ms() + timeout_ms;
    while (pending && !*k->stop && nc_now_ms() < deadline) {
        rd_kafka_message_t *m = nc_kafka_in_poll(k->in, 100);
        if (!m)
            continue;
        for (size_t i = 0; i < r->npr && !m->err; i++) {
            struct nc_prange *p = &r->pr[i];
            if (!(p->scan_from || p->scan_to) || p->partition != m->partition ||
                strcmp(p->topic, rd_kafka_topic_name(m->rkt)) != 0 || m->offset != p->end - 1)
                continue;
            int64_t ts = rd_kafka_message_timestamp(m, NULL);
            if (p->scan_from && ts >= 0 && ts < r->from.value) {
                p->scan_from = 0;
                p->start = p->end; /* all older than --from: nothing to read */
            }
            if (p->scan_to && ts >= 0 && ts < r->to.value)
                p->scan_to = 0; /* all older than --to: read to the end */
            if (p->scan_from || p->scan_to)
                fprintf(stderr,
                        "newsclf %s: %s/%d: the broker did not look up the timestamp; "
                        "scanning the partition\n",
                        k->name, p->topic, (int)p->partition);
            pending--;
        }
        if (m->err && m->err != RD_KAFKA_RESP_ERR__PARTITION_EOF)
            fprintf(stderr, "newsclf %s: %s\n", k->name, rd_kafka_message_errstr(m));
        rd_kafka_message_destroy(m);
    }
    if (pending) {
        fprintf(stderr, "newsclf %s: timed out reading the last messages\n", k->name);
        goto out;
    }
    rc = 0;
out:
    nc_kafka_in_assign(k->in, NULL);
    rd_kafka_topic_partition_list_destroy(l);
    return rc;
}

/* Applies --from and --to to every partition's [low, high). */
int nc_range_plan(struct nc_kcmd *k, struct nc_range *r, const int64_t *lows, int timeout_ms)
{
    for (size_t i = 0; i < r->npr; i++) {
        struct nc_prange *p = &r->pr[i];
        p->start = lows[i];
        switch (r->from.kind) {
        case NC_B_END:
            p->start = p->end;
            break;
        case NC_B_OFFSET:
            p->start = r->from.value;
            break;
        case NC_B_PARTS: {
            p->start = p->end; /* partitions not named are not read */
            for (size_t x = 0; x < r->from.nparts; x++)
                if (r->from.part[x] == p->partition)
                    p->start = r->from.off[x];
            break;
        }
        default:
            break;
        }
        switch (r->to.kind) {
        case NC_B_OFFSET:
            if (r->to.value < p->end)
                p->end = r->to.value;
            break;
        case NC_B_PARTS:
            for (size_t x = 0; x < r->to.nparts; x++)
                if (r->to.part[x] == p->partition && r->to.off[x] < p->end)
                    p->end = r->to.off[x];
            break;
        default:
            break;
        }
        if (p->start < lows[i]) {
            fprintf(stderr,
                    "newsclf %s: %s/%d starts at offset %" PRId64 " now (older data is "
                    "deleted); reading from there\n",
                    k->name, p->topic, (int)p->partition, lows[i]);
            p->start = lows[i];
        }
    }
    if (r->from.kind == NC_B_TIME && resolve_time(k, r, 0, r->from.value, lows, timeout_ms) != 0)
        return -1;
    if (r->to.kind == NC_B_TIME && resolve_time(k, r, 1, r->to.value, lows, timeout_ms) != 0)
        return -1;
    if (confirm_scans(k, r, timeout_ms) != 0)
        return -1;
    for (size_t i = 0; i < r->npr; i++)
        if (r->pr[i].start >= r->pr[i].end)
            r->pr[i].done = 1;
    return 0;
}

struct nc_prange *nc_range_find(struct nc_range *r, const rd_kafka_message_t *m)
{
    const char *t = rd_kafka_topic_name(m->rkt);
    for (size_t i = 0; i < r->npr; i++)
        if (r->pr[i].partition == m->partition && !strcmp(r->pr[i].topic, t))
            return &r->pr[i];
    return NULL;
}

