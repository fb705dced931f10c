/*
 * pipeline_load.c - the Kafka side of bench/pipeline and of the daemon
 * tests: produce articles, read outputs, pre-commit a group's offsets.
 *
 *   pipeline_load produce -b BROKERS -t TOPIC [-f LINES_FILE] [-m MESSAGE_FILE]...
 *                 [-n COUNT] [--header K=V]... [--keyed] [--rate PER_SEC]
 *       One message per line of LINES_FILE (cycled until COUNT), and/or one
 *       per MESSAGE_FILE (whole file, any bytes). --keyed: key "k<seq>".
 *       Timestamps are the wall clock at produce time. --rate: each record
 *       also carries the header bench-sent-us (wall clock in microseconds
 *       at the produce call; newsclfd copies input headers to its outputs),
 *       and the producer sends at once (linger.ms=0, no Nagle), so the
 *       latency measured is the daemon's, not this client's batching.
 *   pipeline_load consume -b BROKERS -t TOPIC[,TOPIC...] [-n EXPECT]
 *                 [--idle-ms MS] [--timeout-ms MS] [--dump FILE] [--stats]
 *                 [--min-ts EPOCH_MS] [--ready-file FILE]
 *       Reads every partition from the beginning (no group) until every
 *       partition is at its end and (with -n) EXPECT records arrived, or
 *       nothing arrived for --idle-ms after a first record, or --timeout-ms
 *       passed. --dump writes one JSON line per record
 *       (topic, partition, offset, ts, key_b64, value_b64, headers{name:
 *       b64}). --stats prints count, bytes, records/s and latency
 *       percentiles in ms (p50, p99, max): "latency" is the arrival wall
 *       clock minus the bench-sent-us header (else the record timestamp);
 *       "ack" is the record's LogAppendTime (the broker appended it, the
 *       moment it acknowledges the write with acks=all on a one-replica
 *       topic) minus bench-sent-us, for topics created with
 *       message.timestamp.type=LogAppendTime (ack_n=0 otherwise). Records
 *       with a timestamp below --min-ts are skipped (not counted).
 *       --ready-file is created once every partition was read to its end
 *       (the reader is caught up and will see new records as they come).
 *   pipeline_load commit -b BROKERS -g GROUP -t TOPIC [--offset N]
 *       Commits offset N (default 0) for every partition of TOPIC, so a
 *       daemon running with auto.offset.reset=error starts at N.
 *   pipeline_load offsets -b BROKERS -g GROUP -t TOPIC
 *       Prints "committed=C end=E": GROUP's committed offsets of TOPIC and
 *       its end offsets (high watermarks), each summed over the partitions
 *       (a partition without a commit counts 0). A transaction still open
 *       on the group's offsets counts as not committed yet (exit 4 when the
 *       broker keeps answering UNSTABLE_OFFSET_COMMIT).
 *   pipeline_load topics -b BROKERS [--rf N] [--config KEY=VALUE]... NAME:PARTITIONS...
 *       Creates the topics in one Admin API request (replication factor N,
 *       default the broker's) and waits until every partition has a leader.
 *       A topic that exists already is an error.
 *
 * Every command takes -X KEY=VALUE (repeatable): a librdkafka property for
 * its client, e.g. security.protocol, sasl.*, ssl.*, isolation.level.
 * Readers use librdkafka's default isolation.level, read_committed.
 */
#include <librdkafka/rdkafka.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static long long wall_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static long long wall_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (long long)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static long long mono_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static void die(const char *what, const char *why)
{
    fprintf(stderr, "pipeline_load: %s: %s\n", what, why);
    exit(1);
}

/* -X KEY=VALUE properties, applied after our own settings. */
static const char *xprops[64];
static size_t nxprops;

static void apply_xprops(rd_kafka_conf_t *conf)
{
    char errstr[512];
    for (size_t i = 0; i < nxprops; i++) {
        char key[256];
        const char *eq = strchr(xprops[i], '=');
        if (!eq || (size_t)(eq - xprops[i]) >= sizeof(key))
            die("-X", "expects KEY=VALUE");
        memcpy(key, xprops[i], (size_t)(eq - xprops[i]));
        key[eq - xprops[i]] = '\0';
        if (rd_kafka_conf_set(conf, key, eq + 1, errstr, sizeof(errstr)))
            die("-X", errstr);
    }
}

static rd_kafka_t *client(rd_kafka_type_t type, const char *brokers, const char *group)
{
    char errstr[512];
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    rd_kafka_t *rk;

    if (rd_kafka_conf_set(conf, "bootstrap.servers", brokers, errstr, sizeof(errstr)) ||
        rd_kafka_conf_set(conf, "log_level", "3", errstr, sizeof(errstr)))
        die("conf", errstr);
    if (type == RD_KAFKA_PRODUCER &&
        (rd_kafka_conf_set(conf, "linger.ms", "5", errstr, sizeof(errstr)) ||
         rd_kafka_conf_set(conf, "enable.idempotence", "true", errstr, sizeof(errstr))))
        die("conf", errstr);
    if (group && rd_kafka_conf_set(conf, "group.id", group, errstr, sizeof(errstr)))
        die("conf", errstr);
    if (type == RD_KAFKA_CONSUMER && !group &&
        rd_kafka_conf_set(conf, "group.id", "pipeline_load-reader", errstr, sizeof(errstr)))
        die("conf", errstr);
    if (type == RD_KAFKA_CONSUMER &&
        (rd_kafka_conf_set(conf, "enable.auto.commit", "false", errstr, sizeof(errstr)) ||
         rd_kafka_conf_set(conf, "enable.partition.eof", "true", errstr, sizeof(errstr)) ||
         rd_kafka_conf_set(conf, "fetch.wait.max.ms", "10", errstr, sizeof(errstr)) ||
         rd_kafka_conf_set(conf, "socket.nagle.disable", "true", errstr, sizeof(errstr))))
        die("conf", errstr);
    apply_xprops(conf);
    rk = rd_kafka_new(type, conf, errstr, sizeof(errstr));
    if (!rk)
        die("client", errstr);
    return rk;
}

static char *read_file(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    char *buf = NULL;
    size_t cap = 0, n = 0;
    if (!f)
        die(path, "cannot open");
    for (;;) {
        size_t r;
        if (n + 65536 > cap) {
            cap = (cap + 65536) * 2;
            buf = realloc(buf, cap);
            if (!buf)
                die("read", "out of memory");
        }
        r = fread(buf + n, 1, cap - n, f);
        n += r;
        if (r == 0)
            break;
    }
    fclose(f);
    *len = n;
    return buf;
}

static int partition_count(rd_kafka_t *rk, const char *topic)
{
    const struct rd_kafka_metadata *md;
    int n = -1;
    for (int attempt = 0; attempt < 20 && n < 0; attempt++) {
        if (rd_kafka_metadata(rk, 1, NULL, &md, 5000))
            continue;
        for (int i = 0; i < md->topic_cnt; i++)
            if (!strcmp(md->topics[i].topic, topic) && !md->topics[i].err)
                n = md->topics[i].partition_cnt;
        rd_kafka_metadata_destroy(md);
    }
    if (n < 0)
        die(topic, "no such topic");
    return n;
}

static void on_dr(rd_kafka_t *rk, const rd_kafka_message_t *m, void *opaque)
{
    (void)rk;
    (void)opaque;
    if (m->err) {
        fprintf(stderr, "pipeline_load: delivery failed: %s\n", rd_kafka_err2str(m->err));
        exit(1);
    }
}

/* The produce call's wall clock (us), on records sent with --rate. */
#define SENT_HEADER "bench-sent-us"

struct prod_state {
    rd_kafka_t *rk;
    const char *topic;
    const char **hdrs;
    size_t nhdr;
    int keyed;
    double rate;
    long sent;
    long long t0;
};

static void send_one(struct prod_state *ps, const void *buf, size_t len)
{
    rd_kafka_headers_t *h = rd_kafka_headers_new(ps->nhdr + 1);
    char key[32];
    rd_kafka_resp_err_t r;

    for (size_t k = 0; k < ps->nhdr; k++) {
        const char *eq = strchr(ps->hdrs[k], '=');
        if (eq)
            rd_kafka_header_add(h, ps->hdrs[k], eq - ps->hdrs[k], eq + 1, -1);
    }
    snprintf(key, sizeof(key), "k%ld", ps->sent);
    if (ps->rate > 0) {
        long long due = ps->t0 + (long long)(ps->sent * 1e6 / ps->rate);
        char sent[32];
        while (mono_us() < due)
            rd_kafka_poll(ps->rk, 1);
        snprintf(sent, sizeof(sent), "%lld", wall_us());
        rd_kafka_header_add(h, SENT_HEADER, -1, sent, -1);
    }
    for (;;) {
        r = rd_kafka_producev(
            ps->rk, RD_KAFKA_V_TOPIC(ps->topic), RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
            RD_KAFKA_V_VALUE((void *)buf, len),
            RD_KAFKA_V_KEY((ps->keyed ? key : NULL), (ps->keyed ? strlen(key) : 0)),
            RD_KAFKA_V_TIMESTAMP(wall_ms()), RD_KAFKA_V_HEADERS(h), RD_KAFKA_V_END);
        if (r != RD_KAFKA_RESP_ERR__QUEUE_FULL)
            break;
        rd_kafka_poll(ps->rk, 10);
    }
    if (r)
        die("produce", rd_kafka_err2str(r));
    ps->sent++;
    rd_kafka_poll(ps->rk, 0);
}

static int cmd_produce(int argc, char **argv)
{
    const char *brokers = NULL, *topic = NULL, *lines = NULL;
    const char *msgfiles[64], *hdrs[16];
    size_t nmsg = 0, nhdr = 0;
    long count = -1;
    double rate = 0;
    int keyed = 0;
    rd_kafka_t *rk;
    struct prod_state ps;

    for (int i = 2; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!strcmp(a, "-b") && v)
            brokers = argv[++i];
        else if (!strcmp(a, "-t") && v)
            topic = argv[++i];
        else if (!strcmp(a, "-f") && v)
            lines = argv[++i];
        else if (!strcmp(a, "-m") && v && nmsg < 64)
            msgfiles[nmsg++] = argv[++i];
        else if (!strcmp(a, "-n") && v)
            count = atol(argv[++i]);
        else if (!strcmp(a, "--header") && v && nhdr < 16)
            hdrs[nhdr++] = argv[++i];
        else if (!strcmp(a, "--keyed"))
            keyed = 1;
        else if (!strcmp(a, "--rate") && v)
            rate = atof(argv[++i]);
        else
            die("produce", "bad arguments");
    }
    if (!brokers || !topic)
        die("produce", "-b and -t are required");
    {
        /* same settings as client(), plus the delivery callback */
        rd_kafka_conf_t *c = rd_kafka_conf_new();
        char e[512];
        /* --rate: every record leaves at once, so its latency is the
         * daemon's; without, batches for throughput. */
        if (rd_kafka_conf_set(c, "bootstrap.servers", brokers, e, sizeof(e)) ||
            rd_kafka_conf_set(c, "linger.ms", rate > 0 ? "0" : "5", e, sizeof(e)) ||
            rd_kafka_conf_set(c, "socket.nagle.disable", rate > 0 ? "true" : "false", e,
                              sizeof(e)) ||
            rd_kafka_conf_set(c, "acks", "all", e, sizeof(e)) ||
            /* no duplicate input when a broker fails (the tests kill some) */
            rd_kafka_conf_set(c, "enable.idempotence", "true", e, sizeof(e)) ||
            rd_kafka_conf_set(c, "log_level", "3", e, sizeof(e)))
            die("conf", e);
        apply_xprops(c);
        rd_kafka_conf_set_dr_msg_cb(c, on_dr);
        rk = rd_kafka_new(RD_KAFKA_PRODUCER, c, e, sizeof(e));
        if (!rk)
            die("producer", e);
    }
    /* Connect and learn the topic before the clock starts: the first
     * records' timestamps must not include the client's start-up. */
    partition_count(rk, topic);
    ps.rk = rk;
    ps.topic = topic;
    ps.hdrs = hdrs;
    ps.nhdr = nhdr;
    ps.keyed = keyed;
    ps.rate = rate;
    ps.sent = 0;
    ps.t0 = mono_us();

    for (size_t i = 0; i < nmsg; i++) {
        size_t len;
        char *buf = read_file(msgfiles[i], &len);
        send_one(&ps, buf, len);
        free(buf);
    }
    if (lines) {
        size_t len;
        char *buf = read_file(lines, &len);
        long nl = 0;
        for (size_t i = 0; i < len; i++)
            nl += buf[i] == '\n';
        if (count < 0)
            count = nl;
        while (ps.sent - (long)nmsg < count) {
            size_t s = 0;
            while (s < len && ps.sent - (long)nmsg < count) {
                char *e = memchr(buf + s, '\n', len - s);
                size_t l = e ? (size_t)(e - (buf + s)) : len - s;
                if (l > 0)
                    send_one(&ps, buf + s, l);
                s += l + 1;
            }
            if (nl == 0)
                break;
        }
        free(buf);
    }
    while (rd_kafka_flush(rk, 1000) == RD_KAFKA_RESP_ERR__TIMED_OUT)
        ;
    fprintf(stderr, "produced %ld messages to %s in %.3f s\n", ps.sent, topic,
            (mono_us() - ps.t0) / 1e6);
    rd_kafka_destroy(rk);
    return 0;
}

static const char b64c[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

static void put_b64(FILE *f, const unsigned char *p, size_t n)
{
    size_t i = 0;
    for (; i + 2 < n; i += 3) {
        unsigned v = (unsigned)p[i] << 16 | (unsigned)p[i + 1] << 8 | p[i + 2];
        fputc(b64c[v >> 18], f);
        fputc(b64c[(v >> 12) & 63], f);
        fputc(b64c[(v >> 6) & 63], f);
        fputc(b64c[v & 63], f);
    }
    if (i < n) {
        unsigned v = (unsigned)p[i] << 16 | (i + 1 < n ? (unsigned)p[i + 1] << 8 : 0);
        fputc(b64c[v >> 18], f);
        fputc(b64c[(v >> 12) & 63], f);
        fputc(i + 1 < n ? b64c[(v >> 6) & 63] : '=', f);
        fputc('=', f);
    }
}

static int part_index(const rd_kafka_topic_partition_list_t *l, const char *topic, int32_t p)
{
    for (int i = 0; i < l->cnt; i++)
        if (l->elems[i].partition == p && !strcmp(l->elems[i].topic, topic))
            return i;
    return -1;
}

static int cmp_ll(const void *a, const void *b)
{
    long long x = *(const long long *)a, y = *(const long long *)b;
    return x < y ? -1 : x > y;
}

/* Latency samples in microseconds, grown as they come. */
struct samples {
    long long *v;
    size_t n, cap;
};

static void sample_add(struct samples *s, long long us)
{
    if (s->n == s->cap) {
        s->cap = s->cap ? s->cap * 2 : 65536;
        s->v = realloc(s->v, s->cap * sizeof(*s->v));
        if (!s->v)
            die("consume", "out of memory");
    }
    s->v[s->n++] = us < 0 ? 0 : us;
}

/* " NAME_ms_p50=.. NAME_ms_p99=.. NAME_ms_max=.." (milliseconds, 0.01 ms
 * steps; zeros without samples), then frees the samples. */
static void samples_print(struct samples *s, const char *name)
{
    long long p50 = 0, p99 = 0, max = 0;
    if (s->n > 0) {
        qsort(s->v, s->n, sizeof(*s->v), cmp_ll);
        p50 = s->v[(size_t)((s->n - 1) * 0.50)];
        p99 = s->v[(size_t)((s->n - 1) * 0.99)];
        max = s->v[s->n - 1];
    }
    printf(" %s_n=%zu %s_ms_p50=%.2f %s_ms_p99=%.2f %s_ms_max=%.2f", name, s->n, name, p50 / 1e3,
           name, p99 / 1e3, name, max / 1e3);
    free(s->v);
    s->v = NULL;
}

/* One record's latencies: arrival now minus its send time (the
 * bench-sent-us header, else its timestamp), and with a LogAppendTime
 * timestamp, the broker's append minus the send time. */
static void sample_record(const rd_kafka_message_t *m, struct samples *arrival,
                          struct samples *ack)
{
    rd_kafka_timestamp_type_t tt;
    int64_t ts = rd_kafka_message_timestamp(m, &tt);
    long long sent = -1;
    rd_kafka_headers_t *h = NULL;
    const void *val;
    size_t sz;

    if (!rd_kafka_message_headers(m, &h) && h &&
        !rd_kafka_header_get_last(h, SENT_HEADER, &val, &sz) && val && sz < 32) {
        char buf[32];
        memcpy(buf, val, sz);
        buf[sz] = 0;
        sent = atoll(buf);
    }
    if (sent > 0) {
        sample_add(arrival, wall_us() - sent);
        if (tt == RD_KAFKA_TIMESTAMP_LOG_APPEND_TIME && ts > 0)
            sample_add(ack, ts * 1000 - sent);
    } else {
        sample_add(arrival, ts > 0 ? wall_us() - ts * 1000 : 0);
    }
}

static int cmd_consume(int argc, char **argv)
{
    const char *brokers = NULL, *topics = NULL, *dump = NULL, *ready_file = NULL;
    long expect = -1;
    int idle_ms = 3000, timeout_ms = 120000, stats = 0;
    long long min_ts = 0;
    rd_kafka_t *rk;
    rd_kafka_topic_partition_list_t *l;
    FILE *df = NULL;
    long n = 0;
    size_t bytes = 0;
    struct samples arrival = {0}, ack = {0};
    long long first_us = 0, last_us = 0, start_us, last_msg_us;
    char *tl;
    int nparts = 0, neof = 0;
    unsigned char *eof = NULL; /* per assigned partition: at end */

    for (int i = 2; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!strcmp(a, "-b") && v)
            brokers = argv[++i];
        else if (!strcmp(a, "-t") && v)
            topics = argv[++i];
        else if (!strcmp(a, "-n") && v)
            expect = atol(argv[++i]);
        else if (!strcmp(a, "--idle-ms") && v)
            idle_ms = atoi(argv[++i]);
        else if (!strcmp(a, "--timeout-ms") && v)
            timeout_ms = atoi(argv[++i]);
        else if (!strcmp(a, "--dump") && v)
            dump = argv[++i];
        else if (!strcmp(a, "--stats"))
            stats = 1;
        else if (!strcmp(a, "--min-ts") && v)
            min_ts = atoll(argv[++i]);
        else if (!strcmp(a, "--ready-file") && v)
            ready_file = argv[++i];
        else
            die("consume", "bad arguments");
    }
    if (!brokers || !topics)
        die("consume", "-b and -t are required");
    rk = client(RD_KAFKA_CONSUMER, brokers, NULL);
    l = rd_kafka_topic_partition_list_new(16);
    tl = strdup(topics);
    for (char *save = NULL, *t = strtok_r(tl, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
        int np = partition_count(rk, t);
        for (int p = 0; p < np; p++)
            rd_kafka_topic_partition_list_add(l, t, p)->offset = RD_KAFKA_OFFSET_BEGINNING;
    }
    free(tl);
    if (rd_kafka_assign(rk, l))
        die("consume", "assign failed");
    nparts = l->cnt;
    eof = calloc((size_t)nparts + 1, 1);
    if (!eof)
        die("consume", "out of memory");
    if (dump) {
        df = fopen(dump, "w");
        if (!df)
            die(dump, "cannot write");
    }
    start_us = last_msg_us = mono_us();
    for (;;) {
        long long now = mono_us();
        rd_kafka_message_t *m;
        /* Idle only counts once something arrived: a daemon that is still
         * joining its group is not "done". */
        if (n > 0 && (now - last_msg_us) / 1000 > idle_ms)
            break;
        if ((now - start_us) / 1000 > timeout_ms)
            break;
        m = rd_kafka_consumer_poll(rk, 100);
        if (!m)
            continue;
        if (m->err == RD_KAFKA_RESP_ERR__PARTITION_EOF) {
            int idx = part_index(l, rd_kafka_topic_name(m->rkt), m->partition);
            if (idx >= 0 && !eof[idx]) {
                eof[idx] = 1;
                neof++;
            }
            rd_kafka_message_destroy(m);
            if (ready_file && neof == nparts) {
                /* Caught up with every partition: tell the caller. */
                FILE *rf = fopen(ready_file, "w");
                if (rf)
                    fclose(rf);
                ready_file = NULL;
            }
            /* Everything present was read: done, unless more is expected. */
            if (neof == nparts && (expect < 0 || n >= expect))
                break;
            continue;
        }
        if (m->err) {
            fprintf(stderr, "pipeline_load: consume: %s\n", rd_kafka_message_errstr(m));
            rd_kafka_message_destroy(m);
            continue;
        }
        {
            int idx = part_index(l, rd_kafka_topic_name(m->rkt), m->partition);
            if (idx >= 0 && eof[idx]) {
                eof[idx] = 0;
                neof--;
            }
        }
        last_msg_us = mono_us();
        if (min_ts > 0 && rd_kafka_message_timestamp(m, NULL) < min_ts) {
            rd_kafka_message_destroy(m);
            continue;
        }
        if (!first_us)
            first_us = last_msg_us;
        last_us = last_msg_us;
        n++;
        bytes += m->len;
        if (stats)
            sample_record(m, &arrival, &ack);
        if (df) {
            rd_kafka_headers_t *h = NULL;
            fprintf(df,
                    "{\"topic\":\"%s\",\"partition\":%d,\"offset\":%lld,\"ts\":%lld,\"key_b64\":",
                    rd_kafka_topic_name(m->rkt), (int)m->partition, (long long)m->offset,
                    (long long)rd_kafka_message_timestamp(m, NULL));
            if (m->key) {
                fputc('"', df);
                put_b64(df, m->key, m->key_len);
                fputc('"', df);
            } else {
                fputs("null", df);
            }
            fputs(",\"value_b64\":\"", df);
            put_b64(df, m->payload, m->len);
            fputs("\",\"headers\":[", df);
            if (!rd_kafka_message_headers(m, &h) && h) {
                const char *name;
                const void *val;
                size_t sz;
                for (size_t i = 0; !rd_kafka_header_get_all(h, i, &name, &val, &sz); i++) {
                    fprintf(df, "%s[\"%s\",\"", i ? "," : "", name);
                    put_b64(df, val, sz);
                    fputs("\"]", df);
                }
            }
            fputs("]}\n", df);
        }
        rd_kafka_message_destroy(m);
    }
    rd_kafka_topic_partition_list_destroy(l);
    free(eof);
    if (df)
        fclose(df);
    if (stats) {
        double secs = n > 1 ? (last_us - first_us) / 1e6 : 0;
        printf("records=%ld bytes=%zu span_s=%.3f records_per_s=%.0f bytes_per_s=%.0f", n, bytes,
               secs, secs > 0 ? n / secs : 0, secs > 0 ? bytes / secs : 0);
        samples_print(&arrival, "latency");
        samples_print(&ack, "ack");
        printf("\n");
    } else {
        printf("%ld\n", n);
    }
    rd_kafka_consumer_close(rk);
    rd_kafka_destroy(rk);
    return expect >= 0 && n < expect ? 3 : 0;
}

/* -b BROKERS -g GROUP -t TOPIC [--offset N] (the offset only when offset is
 * not NULL): a consumer of GROUP and the list of every partition of TOPIC,
 * each at the offset (0 without --offset). Dies on bad arguments. */
static rd_kafka_topic_partition_list_t *group_partitions(const char *cmd, int argc, char **argv,
                                                         long long *offset, rd_kafka_t **rk)
{
    const char *brokers = NULL, *group = NULL, *topic = NULL;
    long long off = 0;
    for (int i = 2; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!strcmp(a, "-b") && v)
            brokers = argv[++i];
        else if (!strcmp(a, "-g") && v)
            group = argv[++i];
        else if (!strcmp(a, "-t") && v)
            topic = argv[++i];
        else if (offset && !strcmp(a, "--offset") && v)
            off = atoll(argv[++i]);
        else
            die(cmd, "bad arguments");
    }
    if (!brokers || !group || !topic)
        die(cmd, "-b, -g and -t are required");
    if (offset)
        *offset = off;
    *rk = client(RD_KAFKA_CONSUMER, brokers, group);
    int np = partition_count(*rk, topic);
    rd_kafka_topic_partition_list_t *l = rd_kafka_topic_partition_list_new(np);
    for (int p = 0; p < np; p++)
        rd_kafka_topic_partition_list_add(l, topic, p)->offset = off;
    return l;
}

static int cmd_offsets(int argc, char **argv)
{
    rd_kafka_t *rk;
    rd_kafka_resp_err_t r;
    long long committed = 0, end = 0;
    rd_kafka_topic_partition_list_t *l = group_partitions("offsets", argc, argv, NULL, &rk);
    int np = l->cnt;
    /* read_committed: an offset commit inside an open transaction is
     * UNSTABLE; librdkafka retries until the timeout. */
    r = rd_kafka_committed(rk, l, 10000);
    if (r) {
        fprintf(stderr, "pipeline_load: offsets: %s\n", rd_kafka_err2str(r));
        rd_kafka_topic_partition_list_destroy(l);
        rd_kafka_destroy(rk);
        return 4;
    }
    for (int p = 0; p < np; p++)
        if (l->elems[p].offset > 0)
            committed += l->elems[p].offset;
    /* End offsets through offsets_for_times (timestamp -1: the end), not
     * rd_kafka_query_watermark_offsets, which ignores its timeout while a
     * broker is down (docs/kafka.md #4460). */
    for (int p = 0; p < np; p++)
        l->elems[p].offset = RD_KAFKA_OFFSET_END;
    r = rd_kafka_offsets_for_times(rk, l, 10000);
    for (int p = 0; !r && p < np; p++) {
        if (l->elems[p].err)
            r = l->elems[p].err;
        else
            end += l->elems[p].offset;
    }
    if (r) {
        fprintf(stderr, "pipeline_load: offsets: end offsets: %s\n", rd_kafka_err2str(r));
        rd_kafka_topic_partition_list_destroy(l);
        rd_kafka_destroy(rk);
        return 4;
    }
    printf("committed=%lld end=%lld\n", committed, end);
    rd_kafka_topic_partition_list_destroy(l);
    rd_kafka_destroy(rk);
    return 0;
}

/* Every partition of every topic in names has a leader. */
static int topics_led(rd_kafka_t *rk, char **names, int n)
{
    const struct rd_kafka_metadata *md;
    int ok = 1;

    if (rd_kafka_metadata(rk, 1, NULL, &md, 5000))
        return 0;
    for (int i = 0; i < n && ok; i++) {
        int found = 0;
        for (int t = 0; t < md->topic_cnt; t++) {
            if (strcmp(md->topics[t].topic, names[i]))
                continue;
            found = !md->topics[t].err && md->topics[t].partition_cnt > 0;
            for (int p = 0; p < md->topics[t].partition_cnt; p++)
                found &= md->topics[t].partitions[p].leader >= 0;
        }
        ok = found;
    }
    rd_kafka_metadata_destroy(md);
    return ok;
}

static int cmd_topics(int argc, char **argv)
{
    const char *brokers = NULL, *configs[32];
    char *names[256];
    int parts[256], n = 0, rf = -1;
    size_t nconf = 0, ntr = 0;
    rd_kafka_t *rk;
    rd_kafka_NewTopic_t *nt[256];
    rd_kafka_queue_t *q;
    rd_kafka_event_t *ev;
    const rd_kafka_topic_result_t **tr;
    char errstr[512];

    for (int i = 2; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        char *colon;
        if (!strcmp(a, "-b") && v)
            brokers = argv[++i];
        else if (!strcmp(a, "--rf") && v)
            rf = atoi(argv[++i]);
        else if (!strcmp(a, "--config") && v && nconf < 32)
            configs[nconf++] = argv[++i];
        else if ((colon = strrchr(a, ':')) && n < 256) {
            names[n] = strdup(a);
            names[n][colon - a] = '\0';
            parts[n++] = atoi(colon + 1);
        } else
            die("topics", "bad arguments");
    }
    if (!brokers || n == 0)
        die("topics", "-b and NAME:PARTITIONS are required");
    rk = client(RD_KAFKA_PRODUCER, brokers, NULL);
    for (int i = 0; i < n; i++) {
        nt[i] = rd_kafka_NewTopic_new(names[i], parts[i], rf, errstr, sizeof(errstr));
        if (!nt[i])
            die(names[i], errstr);
        for (size_t c = 0; c < nconf; c++) {
            char key[256];
            const char *eq = strchr(configs[c], '=');
            if (!eq || (size_t)(eq - configs[c]) >= sizeof(key))
                die("--config", "expects KEY=VALUE");
            memcpy(key, configs[c], (size_t)(eq - configs[c]));
            key[eq - configs[c]] = '\0';
            rd_kafka_NewTopic_set_config(nt[i], key, eq + 1);
        }
    }
    q = rd_kafka_queue_new(rk);
    rd_kafka_CreateTopics(rk, nt, (size_t)n, NULL, q);
    ev = rd_kafka_queue_poll(q, 60000);
    if (!ev)
        die("topics", "no answer within 60 s");
    if (rd_kafka_event_error(ev))
        die("topics", rd_kafka_event_error_string(ev));
    tr = rd_kafka_CreateTopics_result_topics(rd_kafka_event_CreateTopics_result(ev), &ntr);
    for (size_t i = 0; i < ntr; i++)
        if (rd_kafka_topic_result_error(tr[i]))
            die(rd_kafka_topic_result_name(tr[i]), rd_kafka_topic_result_error_string(tr[i]));
    rd_kafka_event_destroy(ev);
    rd_kafka_queue_destroy(q);
    for (int i = 0; i < n; i++)
        rd_kafka_NewTopic_destroy(nt[i]);
    for (int attempt = 0; !topics_led(rk, names, n); attempt++) {
        if (attempt > 300)
            die("topics", "partitions without a leader after 30 s");
        rd_kafka_poll(rk, 100);
    }
    for (int i = 0; i < n; i++)
        free(names[i]);
    rd_kafka_destroy(rk);
    return 0;
}

static int cmd_commit(int argc, char **argv)
{
    rd_kafka_t *rk;
    rd_kafka_resp_err_t r;
    long long offset;
    rd_kafka_topic_partition_list_t *l = group_partitions("commit", argc, argv, &offset, &rk);
    for (int attempt = 0;; attempt++) {
        r = rd_kafka_commit(rk, l, 0);
        if (!r || attempt >= 20)
            break;
        rd_kafka_poll(rk, 200);
    }
    rd_kafka_topic_partition_list_destroy(l);
    rd_kafka_destroy(rk);
    if (r)
        die("commit", rd_kafka_err2str(r));
    return 0;
}

int main(int argc, char **argv)
{
    int n = 1;

    if (argc < 2) {
        fprintf(stderr,
                "usage: pipeline_load produce|consume|commit|offsets|topics ... [-X KEY=VALUE]\n");
        return 2;
    }
    /* -X KEY=VALUE anywhere after the command: collected, then removed. */
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "-X") && i + 1 < argc && nxprops < 64) {
            xprops[nxprops++] = argv[++i];
            continue;
        }
        argv[n++] = argv[i];
    }
    argc = n;
    if (!strcmp(argv[1], "produce"))
        return cmd_produce(argc, argv);
    if (!strcmp(argv[1], "consume"))
        return cmd_consume(argc, argv);
    if (!strcmp(argv[1], "commit"))
        return cmd_commit(argc, argv);
    if (!strcmp(argv[1], "offsets"))
        return cmd_offsets(argc, argv);
    if (!strcmp(argv[1], "topics"))
        return cmd_topics(argc, argv);
    fprintf(stderr, "pipeline_load: unknown command %s\n", argv[1]);
    return 2;
}
