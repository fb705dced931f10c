/*
 * kafka.c - see kafka.h.
 *
 * subscribe   follows <prefix><label> topics and prints what arrives. Without
 *             --group it assigns every partition itself at offsets it looked
 *             up first (so "ready" on stderr means nothing produced from then
 *             on is missed) and never commits; with --group it joins that
 *             consumer group like any other consumer.
 * reclassify  reads a range of the input topics with its own, group-less
 *             consumer (assign + explicit offsets: it can never commit to, or
 *             rebalance, the daemon's group), classifies with a model and
 *             produces the daemon's record to the configured output topics.
 *             The range ends at --to or at the end offsets seen at start.
 *             --dump prints the raw messages of the range instead (used by
 *             scripts/retrain to read the feedback topic).
 *
 * "No group" still means a group.id (librdkafka wants one): a unique one that
 * is never joined, so the brokers keep nothing for it.
 *
 * Both stop on SIGINT/SIGTERM (flag only; the loops poll with short waits).
 */
#include "cli/kafka.h"

#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <jansson.h>
#include <librdkafka/rdkafka.h>
#include <regex.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <xxhash.h>

#include "core/article.h"
#include "config/config.h"
#include "core/encode.h"
#include "core/model.h"
#include "base/util.h"
#include "base/clock.h"

#define EXIT_RUNTIME 1
#define EXIT_USAGE 2
#define DEFAULT_CONFIG "/etc/newsclf/newsclf.yaml"
#define MAX_ITEMS 256

static volatile sig_atomic_t stop_flag;

static void on_stop(int sig)
{
    (void)sig;
    stop_flag = 1;
}

static void install_signals(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_stop;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
}

/* ---- shared: configuration and clients ---- */

/* A repeatable string option. */
struct strlist {
    const char *v[MAX_ITEMS];
    size_t n;
};

static int strlist_add(struct strlist *l, const char *s, const char *cmd, const char *opt)
{
    if (l->n == MAX_ITEMS) {
        fprintf(stderr, "newsclf %s: too many %s\n", cmd, opt);
        return -1;
    }
    l->v[l->n++] = s;
    return 0;
}

/*
 * The daemon's configuration for brokers, security properties, topics and
 * thresholds: --config FILE, else /etc/newsclf/newsclf.yaml when it exists,
 * else the built-in defaults; then each --set.
 */
static nc_config *load_config(const char *cmd, const char *path, const struct strlist *sets)
{
    char err[NC_CONFIG_ERRLEN];
    nc_config *cfg = NULL;
    if (!path && access(DEFAULT_CONFIG, R_OK) == 0)
        path = DEFAULT_CONFIG;
    if (path) {
        if (nc_config_load(path, &cfg, err, sizeof(err)) != 0) {
            fprintf(stderr, "newsclf %s: %s\n", cmd, err);
            return NULL;
        }
    } else if (!(cfg = nc_config_new_defaults())) {
        fprintf(stderr, "newsclf %s: out of memory\n", cmd);
        return NULL;
    }
    for (size_t i = 0; i < sets->n; i++)
        if (nc_config_set(cfg, sets->v[i], err, sizeof(err)) != 0) {
            fprintf(stderr, "newsclf %s: %s\n", cmd, err);
            goto fail;
        }
    if (sets->n && nc_config_validate(cfg, err, sizeof(err)) != 0) {
        fprintf(stderr, "newsclf %s: %s\n", cmd, err);
        goto fail;
    }
    return cfg;
fail:
    nc_config_free(cfg);
    return NULL;
}

static int kset(rd_kafka_conf_t *conf, const char *key, const char *value, const char *cmd)
{
    char err[512];
    if (rd_kafka_conf_set(conf, key, value, err, sizeof(err)) != RD_KAFKA_CONF_OK) {
        /* Never echo a secret's value (config.h's rule). */
        fprintf(stderr, "newsclf %s: %s: %s\n", cmd, key,
                nc_config_is_secret(key) ? "invalid value" : err);
        return -1;
    }
    return 0;
}

/*
 * A client conf: bootstrap servers, the pass-through properties of the
 * config (kafka.consumer or kafka.producer, e.g. TLS/SASL), then each
 * -X KEY=VALUE. Our own settings are applied by the caller afterwards.
 */
static rd_kafka_conf_t *client_conf(const char *cmd, const char *brokers, const char *client_id,
                                    const nc_kv *kvs, size_t nkvs, const struct strlist *props)
{
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    if (kset(conf, "bootstrap.servers", brokers, cmd) || kset(conf, "client.id", client_id, cmd) ||
        kset(conf, "log.connection.close", "false", cmd))
        goto fail;
    for (size_t i = 0; i < nkvs; i++)
        if (kset(conf, kvs[i].key, kvs[i].value, cmd))
            goto fail;
    for (size_t i = 0; i < props->n; i++) {
        char key[256];
        const char *eq = strchr(props->v[i], '=');
        if (!eq || eq == props->v[i] || (size_t)(eq - props->v[i]) >= sizeof(key)) {
            fprintf(stderr, "newsclf %s: -X takes KEY=VALUE\n", cmd);
            goto fail;
        }
        memcpy(key, props->v[i], (size_t)(eq - props->v[i]));
        key[eq - props->v[i]] = '\0';
        if (kset(conf, key, eq + 1, cmd))
            goto fail;
    }
    return conf;
fail:
    rd_kafka_conf_destroy(conf);
    return NULL;
}

/*
 * librdkafka's consumer needs a group.id even when it only assign()s. A
 * unique, throw-away id that is never joined or committed to: the brokers
 * keep no state for it.
 */
static int private_group(rd_kafka_conf_t *conf, const char *cmd)
{
    char id[128], host[64] = "host";
    gethostname(host, sizeof(host) - 1);
    host[sizeof(host) - 1] = '\0';
    snprintf(id, sizeof(id), "newsclf-%s-%s-%ld-%lld", cmd, host, (long)getpid(),
             (long long)nc_wall_ms());
    return kset(conf, "group.id", id, cmd);
}

static rd_kafka_t *new_client(const char *cmd, rd_kafka_type_t type, rd_kafka_conf_t *conf)
{
    char err[512];
    rd_kafka_t *rk = rd_kafka_new(type, conf, err, sizeof(err));
    if (!rk) {
        fprintf(stderr, "newsclf %s: %s\n", cmd, err);
        rd_kafka_conf_destroy(conf);
    }
    return rk;
}

/*
 * Partition counts of the topics (names, or "^regex" matched against every
 * topic of the cluster) into *out, one entry per partition. A missing topic
 * is an error: a typo should not look like an empty range.
 */
static rd_kafka_topic_partition_list_t *topic_partitions(const char *cmd, rd_kafka_t *rk,
                                                         const char *const *topics, size_t ntopics,
                                                         int timeout_ms)
{
    const struct rd_kafka_metadata *md = NULL;
    rd_kafka_topic_partition_list_t *out = rd_kafka_topic_partition_list_new(16);
    rd_kafka_resp_err_t e = rd_kafka_metadata(rk, 1, NULL, &md, timeout_ms);
    if (e) {
        fprintf(stderr, "newsclf %s: cannot read the cluster's metadata: %s\n", cmd,
                rd_kafka_err2str(e));
        goto fail;
    }
    for (size_t t = 0; t < ntopics; t++) {
        const char *name = topics[t];
        regex_t rx;
        int is_rx = name[0] == '^', found = 0;
        if (is_rx && regcomp(&rx, name, REG_EXTENDED | REG_NOSUB) != 0) {
            fprintf(stderr, "newsclf %s: bad topic pattern %s\n", cmd, name);
            goto fail;
        }
        for (int i = 0; i < md->topic_cnt; i++) {
            const struct rd_kafka_metadata_topic *mt = &md->topics[i];
            if (is_rx ? regexec(&rx, mt->topic, 0, NULL, 0) != 0 : strcmp(mt->topic, name) != 0)
                continue;
            if (mt->err) {
                fprintf(stderr, "newsclf %s: topic %s: %s\n", cmd, mt->topic,
                        rd_kafka_err2str(mt->err));
                continue;
            }
            found = 1;
            for (int p = 0; p < mt->partition_cnt; p++)
                if (!rd_kafka_topic_partition_list_find(out, mt->topic, mt->partitions[p].id))
                    rd_kafka_topic_partition_list_add(out, mt->topic, mt->partitions[p].id);
        }
        if (is_rx)
            regfree(&rx);
        if (!found) {
            fprintf(stderr, "newsclf %s: %s %s does not exist\n", cmd,
                    is_rx ? "no topic matches" : "topic", name);
            goto fail;
        }
    }
    rd_kafka_metadata_destroy(md);
    return out;
fail:
    if (md)
        rd_kafka_metadata_destroy(md);
    rd_kafka_topic_partition_list_destroy(out);
    return NULL;
}

/* Low and high watermarks of every partition of l, into l[i].offset (high)
 * and lows[i]. Called only after the metadata answered, since the call
 * ignores its timeout while brokers are down (docs/kafka.md, #4460). */
static int watermarks(const char *cmd, rd_kafka_t *rk, rd_kafka_topic_partition_list_t *l,
                      int64_t *lows, int timeout_ms)
{
    for (int i = 0; i < l->cnt; i++) {
        int64_t lo, hi;
        rd_kafka_resp_err_t e = rd_kafka_query_watermark_offsets(
            rk, l->elems[i].topic, l->elems[i].partition, &lo, &hi, timeout_ms);
        if (e) {
            fprintf(stderr, "newsclf %s: offsets of %s/%d: %s\n", cmd, l->elems[i].topic,
                    (int)l->elems[i].partition, rd_kafka_err2str(e));
            return -1;
        }
        l->elems[i].offset = hi;
        lows[i] = lo;
    }
    return 0;
}

/* Closes a consumer without hanging (#4528: close can hang when an
 * assignment arrives during close): close through a queue, bounded. */
static void consumer_close(rd_kafka_t *rk, int timeout_ms)
{
    rd_kafka_queue_t *q = rd_kafka_queue_new(rk);
    rd_kafka_error_t *e = rd_kafka_consumer_close_queue(rk, q);
    int64_t deadline = nc_now_ms() + timeout_ms;
    if (e) {
        rd_kafka_error_destroy(e);
    } else {
        while (!rd_kafka_consumer_closed(rk) && nc_now_ms() < deadline) {
            rd_kafka_event_t *ev = rd_kafka_queue_poll(q, 100);
            if (!ev)
                continue;
            if (rd_kafka_event_type(ev) == RD_KAFKA_EVENT_REBALANCE) {
                /* Give up the assignment the close asked us to give up. */
                if (rd_kafka_event_error(ev) == RD_KAFKA_RESP_ERR__REVOKE_PARTITIONS)
                    rd_kafka_assign(rk, NULL);
            }
            rd_kafka_event_destroy(ev);
        }
    }
    rd_kafka_queue_destroy(q);
}

/* ---- time and offset arguments ---- */

/*
 * RFC 3339 (2026-11-27T10:00:00Z, 2026-11-27T12:00:00.5+02:00, a space for
 * the T) or a bare date (midnight UTC) -> milliseconds since the epoch.
 */
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

/* One end of a range: --from / --to. */
struct bound {
    enum { B_NONE, B_BEGINNING, B_END, B_TIME, B_OFFSET, B_PARTS } kind;
    int64_t value; /* ms (B_TIME) or offset (B_OFFSET) */
    int32_t part[MAX_ITEMS];
    int64_t off[MAX_ITEMS]; /* B_PARTS: partition:offset pairs */
    size_t nparts;
};

static int parse_bound(const char *s, struct bound *b)
{
    char *end;
    memset(b, 0, sizeof(*b));
    if (!strcmp(s, "beginning") || !strcmp(s, "earliest")) {
        b->kind = B_BEGINNING;
        return 0;
    }
    if (!strcmp(s, "end") || !strcmp(s, "latest")) {
        b->kind = B_END;
        return 0;
    }
    if (parse_time(s, &b->value) == 0) {
        b->kind = B_TIME;
        return 0;
    }
    if (!strchr(s, ':')) {
        errno = 0;
        long long v = strtoll(s, &end, 10);
        if (errno || *end || end == s || v < 0)
            return -1;
        b->kind = B_OFFSET;
        b->value = v;
        return 0;
    }
    /* PARTITION:OFFSET[,PARTITION:OFFSET...] */
    b->kind = B_PARTS;
    const char *p = s;
    while (*p) {
        long part = strtol(p, &end, 10);
        if (end == p || *end != ':' || part < 0 || b->nparts == MAX_ITEMS)
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

/* ---- subscribe ---- */

#define SEEN_RING 8192

struct sub {
    const char *prefix;
    struct strlist labels;
    double min_prob;
    int jsonl;
    long long max_messages, printed;
    uint64_t seen[SEEN_RING]; /* records already printed (an article may be on
                               * several of the followed label topics) */
    size_t seen_next;
};

static int seen_before(struct sub *s, uint64_t h)
{
    for (size_t i = 0; i < SEEN_RING; i++)
        if (s->seen[i] == h)
            return 1;
    s->seen[s->seen_next] = h;
    s->seen_next = (s->seen_next + 1) % SEEN_RING;
    return 0;
}

/* Prints s, replacing control bytes so a title cannot drive the terminal. */
static void put_clean(const char *s)
{
    for (; *s; s++)
        putchar((unsigned char)*s < 0x20 || *s == 0x7f ? ' ' : *s);
}

static const char *str_field(json_t *o, const char *k)
{
    json_t *v = json_object_get(o, k);
    return json_is_string(v) ? json_string_value(v) : NULL;
}

static void print_pretty(const rd_kafka_message_t *m, json_t *rec)
{
    json_t *labels = json_object_get(rec, "labels"), *scores = json_object_get(rec, "scores");
    json_t *art = json_object_get(rec, "article");
    int64_t ts = rd_kafka_message_timestamp(m, NULL);
    char when[64] = "-";
    if (ts >= 0) {
        time_t t = (time_t)(ts / 1000);
        struct tm tm;
        if (localtime_r(&t, &tm))
            strftime(when, sizeof(when), "%Y-%m-%d %H:%M:%S", &tm);
    }
    printf("%s ", when);
    size_t i;
    json_t *l;
    json_array_foreach(labels, i, l)
    {
        if (!json_is_string(l))
            continue;
        json_t *p = json_object_get(scores, json_string_value(l));
        printf(" ");
        put_clean(json_string_value(l));
        printf(" %.2f", json_is_number(p) ? json_number_value(p) : 0.0);
    }
    const char *title = json_is_object(art) ? str_field(art, "title") : NULL;
    const char *src = json_is_object(art) ? str_field(art, "outlet") : NULL;
    if (!src && json_is_object(art))
        src = str_field(art, "source");
    const char *id = str_field(rec, "id");
    printf("  ");
    put_clean(title ? title : id ? id : "(no title)");
    if (src) {
        printf("  [");
        put_clean(src);
        printf("]");
    }
    putchar('\n');
}

/* Handles one message; returns 1 when it was printed. */
static int sub_message(struct sub *s, const rd_kafka_message_t *m)
{
    const char *topic = rd_kafka_topic_name(m->rkt);
    const char *label = topic + strlen(s->prefix);
    json_error_t je;
    json_t *rec = json_loadb(m->payload ? m->payload : "", m->len, 0, &je);
    int printed = 0;
    if (!json_is_object(rec)) {
        fprintf(stderr, "newsclf subscribe: %s/%d@%" PRId64 ": not a labeled record, skipped\n",
                topic, (int)m->partition, m->offset);
        goto out;
    }
    if (s->min_prob > 0) {
        json_t *p = json_object_get(json_object_get(rec, "scores"), label);
        if (!json_is_number(p) || json_number_value(p) < s->min_prob)
            goto out; /* it may still pass through another label's topic */
    }
    /* The same article arrives once per followed label topic it is on: the
     * record's input position (or id) identifies it. */
    json_t *in = json_object_get(rec, "input");
    char key[1024];
    int have_key = 0;
    if (json_is_object(in) && str_field(in, "topic")) {
        snprintf(key, sizeof(key), "%s/%" JSON_INTEGER_FORMAT "/%" JSON_INTEGER_FORMAT,
                 str_field(in, "topic"), json_integer_value(json_object_get(in, "partition")),
                 json_integer_value(json_object_get(in, "offset")));
        have_key = 1;
    } else if (str_field(rec, "id")) {
        snprintf(key, sizeof(key), "id:%s", str_field(rec, "id"));
        have_key = 1;
    }
    if (have_key && s->labels.n > 1 && seen_before(s, XXH3_64bits(key, strlen(key)) | 1))
        goto out;
    if (s->jsonl) {
        fwrite(m->payload, 1, m->len, stdout);
        putchar('\n');
    } else {
        print_pretty(m, rec);
    }
    fflush(stdout);
    printed = 1;
out:
    json_decref(rec);
    return printed;
}

static void usage_subscribe(FILE *out)
{
    fprintf(out,
            "usage: newsclf subscribe --label LABEL [--label ...] [--brokers HOST:PORT,...]\n"
            "       [--group GROUP] [--from-beginning] [--format pretty|jsonl] [--min-prob P]\n"
            "       [--topic-prefix PREFIX] [--max-messages N] [--timeout-ms T]\n"
            "       [--config FILE] [--set KEY=VALUE]... [-X PROPERTY=VALUE]...\n"
            "\n"
            "Follows the per-label topics newsclfd writes (PREFIX + LABEL, by default\n"
            "news.labeled.LABEL) and prints each article as it arrives: with --format\n"
            "pretty (default) a line with the time, the labels and their probabilities,\n"
            "the title and the outlet; with --format jsonl the record itself. An article\n"
            "on several of the followed topics is printed once. --min-prob P keeps only\n"
            "articles whose probability for a followed label is at least P.\n"
            "\n"
            "Without --group the partitions are read directly, nothing is committed and\n"
            "only new articles are shown (all of them with --from-beginning); \"ready\" on\n"
            "stderr means the start offsets are fixed. With --group the consumer joins\n"
            "that group and commits its position; --from-beginning then applies only\n"
            "when the group has no committed position yet.\n"
            "\n"
            "Stops after N printed articles (--max-messages), after T milliseconds\n"
            "(--timeout-ms), or on Ctrl-C; exit 0. Brokers, security properties and the\n"
            "topic prefix default to the daemon's configuration (--config, else\n"
            "%s when readable); -X sets any librdkafka property.\n",
            DEFAULT_CONFIG);
}

int nc_cli_subscribe(int argc, char **argv)
{
    static const struct option opts[] = {{"label", required_argument, 0, 'l'},
                                         {"brokers", required_argument, 0, 'b'},
                                         {"group", required_argument, 0, 'g'},
                                         {"from-beginning", no_argument, 0, 'B'},
                                         {"format", required_argument, 0, 'f'},
                                         {"min-prob", required_argument, 0, 'p'},
                                         {"topic-prefix", required_argument, 0, 'P'},
                                         {"max-messages", required_argument, 0, 'n'},
                                         {"timeout-ms", required_argument, 0, 't'},
                                         {"config", required_argument, 0, 'c'},
                                         {"set", required_argument, 0, 's'},
                                         {"help", no_argument, 0, 'h'},
                                         {0, 0, 0, 0}};
    static struct sub s; /* large (the seen ring): not on the stack */
    struct strlist sets = {0}, props = {0};
    const char *brokers = NULL, *group = NULL, *config = NULL;
    long long timeout_ms = -1;
    int from_beginning = 0, o, rc = EXIT_RUNTIME;
    char *end;
    nc_config *cfg = NULL;
    rd_kafka_t *rk = NULL;
    rd_kafka_topic_partition_list_t *parts = NULL;
    char **topics = NULL;
    int64_t *lows = NULL;

    memset(&s, 0, sizeof(s));
    optind = 1;
    while ((o = getopt_long(argc, argv, "l:b:g:f:p:n:t:c:s:X:h", opts, NULL)) != -1) {
        switch (o) {
        case 'l':
            if (strlist_add(&s.labels, optarg, "subscribe", "--label") != 0)
                return EXIT_USAGE;
            break;
        case 'b':
            brokers = optarg;
            break;
        case 'g':
            group = optarg;
            break;
        case 'B':
            from_beginning = 1;
            break;
        case 'f':
            if (!strcmp(optarg, "jsonl") || !strcmp(optarg, "json"))
                s.jsonl = 1;
            else if (strcmp(optarg, "pretty") != 0) {
                fprintf(stderr, "newsclf subscribe: --format must be pretty or jsonl\n");
                return EXIT_USAGE;
            }
            break;
        case 'p':
            s.min_prob = strtod(optarg, &end);
            if (*end || end == optarg || s.min_prob < 0 || s.min_prob > 1) {
                fprintf(stderr, "newsclf subscribe: --min-prob must be in [0, 1]\n");
                return EXIT_USAGE;
            }
            break;
        case 'P':
            s.prefix = optarg;
            break;
        case 'n':
            s.max_messages = strtoll(optarg, &end, 10);
            if (*end || end == optarg || s.max_messages < 1) {
                fprintf(stderr, "newsclf subscribe: --max-messages must be a positive number\n");
                return EXIT_USAGE;
            }
            break;
        case 't':
            timeout_ms = strtoll(optarg, &end, 10);
            if (*end || end == optarg || timeout_ms < 0) {
                fprintf(stderr, "newsclf subscribe: --timeout-ms must be a number >= 0\n");
                return EXIT_USAGE;
            }
            break;
        case 'c':
            config = optarg;
            break;
        case 's':
            if (strlist_add(&sets, optarg, "subscribe", "--set") != 0)
                return EXIT_USAGE;
            break;
        case 'X':
            if (strlist_add(&props, optarg, "subscribe", "-X") != 0)
                return EXIT_USAGE;
            break;
        case 'h':
            usage_subscribe(stdout);
            return 0;
        default:
            usage_subscribe(stderr);
            return EXIT_USAGE;
        }
    }
    if (s.labels.n == 0 || optind != argc) {
        fprintf(stderr, "newsclf subscribe: at least one --label is required (see --help)\n");
        return EXIT_USAGE;
    }
    if (!(cfg = load_config("subscribe", config, &sets)))
        return EXIT_RUNTIME;
    if (!brokers)
        brokers = cfg->kafka.brokers;
    if (!s.prefix)
        s.prefix = cfg->outputs.labels.topic_prefix;
    if (!s.prefix)
        s.prefix = "news.labeled.";
    if (!strcmp(brokers, "embedded")) {
        fprintf(stderr, "newsclf subscribe: the embedded broker lives inside newsclfd; "
                        "give --brokers (newsclfd logs its address)\n");
        goto out;
    }

    topics = calloc(s.labels.n, sizeof(*topics));
    if (!topics)
        goto out;
    for (size_t i = 0; i < s.labels.n; i++) {
        /* --label values come from argv: never NULL. */
        size_t n = strlen(s.prefix) + strlen(s.labels.v[i]) + 1; // NOLINT(clang-analyzer-core.NonNullParamChecker)
        if (!(topics[i] = malloc(n)))
            goto out;
        snprintf(topics[i], n, "%s%s", s.prefix, s.labels.v[i]);
    }

    rd_kafka_conf_t *conf = client_conf("subscribe", brokers, "newsclf-subscribe",
                                        cfg->kafka.consumer, cfg->kafka.n_consumer, &props);
    if (!conf)
        goto out;
    if (group) {
        if (kset(conf, "group.id", group, "subscribe") ||
            kset(conf, "auto.offset.reset", from_beginning ? "earliest" : "latest", "subscribe"))
            goto conf_fail;
    } else if (private_group(conf, "subscribe") ||
               kset(conf, "enable.auto.commit", "false", "subscribe") ||
               kset(conf, "enable.auto.offset.store", "false", "subscribe") ||
               kset(conf, "auto.offset.reset", from_beginning ? "earliest" : "latest",
                    "subscribe")) {
        goto conf_fail;
    }
    if (!(rk = new_client("subscribe", RD_KAFKA_CONSUMER, conf)))
        goto out;
    rd_kafka_poll_set_consumer(rk);
    install_signals();

    if (group) {
        parts = rd_kafka_topic_partition_list_new((int)s.labels.n);
        for (size_t i = 0; i < s.labels.n; i++)
            rd_kafka_topic_partition_list_add(parts, topics[i], RD_KAFKA_PARTITION_UA);
        rd_kafka_resp_err_t e = rd_kafka_subscribe(rk, parts);
        if (e) {
            fprintf(stderr, "newsclf subscribe: %s\n", rd_kafka_err2str(e));
            goto out;
        }
        fprintf(stderr, "newsclf subscribe: joining group %s for %zu topic(s)\n", group,
                s.labels.n);
    } else {
        /* Fix the start offsets before saying "ready": whatever is produced
         * after that line is shown, without relying on when a fetch
         * resolves "latest". */
        if (!(parts = topic_partitions("subscribe", rk, (const char *const *)topics, s.labels.n,
                                       10000)))
            goto out;
        if (!(lows = calloc((size_t)parts->cnt + 1, sizeof(*lows))) ||
            watermarks("subscribe", rk, parts, lows, 10000) != 0)
            goto out;
        if (from_beginning)
            for (int i = 0; i < parts->cnt; i++)
                parts->elems[i].offset = lows[i];
        rd_kafka_resp_err_t e = rd_kafka_assign(rk, parts);
        if (e) {
            fprintf(stderr, "newsclf subscribe: %s\n", rd_kafka_err2str(e));
            goto out;
        }
        fprintf(stderr, "newsclf subscribe: ready, following %d partition(s) of %zu topic(s)\n",
                parts->cnt, s.labels.n);
    }

    int64_t deadline = timeout_ms >= 0 ? nc_now_ms() + timeout_ms : -1;
    rc = 0;
    while (!stop_flag && (deadline < 0 || nc_now_ms() < deadline)) {
        rd_kafka_message_t *m = rd_kafka_consumer_poll(rk, 100);
        if (!m)
            continue;
        if (m->err) {
            if (m->err != RD_KAFKA_RESP_ERR__PARTITION_EOF)
                fprintf(stderr, "newsclf subscribe: %s\n", rd_kafka_message_errstr(m));
            if (m->err == RD_KAFKA_RESP_ERR__FATAL || m->err == RD_KAFKA_RESP_ERR__AUTHENTICATION ||
                m->err == RD_KAFKA_RESP_ERR_TOPIC_AUTHORIZATION_FAILED ||
                m->err == RD_KAFKA_RESP_ERR_GROUP_AUTHORIZATION_FAILED) {
                rc = EXIT_RUNTIME;
                rd_kafka_message_destroy(m);
                break;
            }
        } else if (sub_message(&s, m)) {
            s.printed++;
        }
        rd_kafka_message_destroy(m);
        if (s.max_messages && s.printed >= s.max_messages)
            break;
    }
    if (fflush(stdout) != 0)
        rc = EXIT_RUNTIME;
out:
    if (rk) {
        consumer_close(rk, 10000);
        rd_kafka_destroy(rk);
    }
    if (parts)
        rd_kafka_topic_partition_list_destroy(parts);
    if (topics)
        for (size_t i = 0; i < s.labels.n; i++)
            free(topics[i]);
    free(topics);
    free(lows);
    nc_config_free(cfg);
    return rc;
conf_fail:
    rd_kafka_conf_destroy(conf);
    goto out;
}

/* ---- reclassify ---- */

/* One partition of the range [start, end). */
struct prange {
    const char *topic;
    int32_t partition;
    int64_t start, end;
    int scan_from, scan_to; /* filter by message timestamp (see resolve_time) */
    int done;
};

struct recl {
    const char *cmd;
    nc_config *cfg;
    nc_model *m;
    nc_workspace *ws;
    nc_article *a;
    rd_kafka_t *consumer, *producer;
    struct bound from, to;
    struct prange *pr;
    size_t npr;
    int dump, dry_run;
    const char *output_topic;
    char **label_topics;
    char model_header[2 * NC_LABEL_MAX + 256];
    int64_t from_ms, to_ms;
    int timeout_ms;
    /* counters */
    long long read, classified, rejected, produced, skipped_ts;
    volatile long long delivered, failed;
    char first_error[512];
};

static void dr_cb(rd_kafka_t *rk, const rd_kafka_message_t *m, void *opaque)
{
    struct recl *r = opaque;
    (void)rk;
    if (m->err) {
        if (!r->failed)
            snprintf(r->first_error, sizeof(r->first_error), "%s: %s", rd_kafka_topic_name(m->rkt),
                     rd_kafka_err2str(m->err));
        r->failed++;
    } else {
        r->delivered++;
    }
}

static void producer_error_cb(rd_kafka_t *rk, int err, const char *reason, void *opaque)
{
    struct recl *r = opaque;
    char buf[512];
    (void)err;
    if (rd_kafka_fatal_error(rk, buf, sizeof(buf))) {
        /* #4438: the idempotent producer may fail fatally after a broker
         * loss. Stop; what was not delivered is reported. */
        fprintf(stderr, "newsclf %s: fatal producer error: %s\n", r->cmd, buf);
        stop_flag = 1;
        return;
    }
    fprintf(stderr, "newsclf %s: %s\n", r->cmd, reason);
}

/*
 * Resolves a timestamp bound to offsets with offsetsForTimes. A partition for
 * which the broker answers "none" although its last message is not older
 * than the timestamp did not do the lookup (the mock cluster never does, see
 * docs/kafka.md): that partition is scanned instead, filtering on the
 * message timestamps (scan_from / scan_to).
 */
static int resolve_time(struct recl *r, int is_to, int64_t ts, const int64_t *lows)
{
    rd_kafka_topic_partition_list_t *l = rd_kafka_topic_partition_list_new((int)r->npr);
    rd_kafka_resp_err_t e;
    int rc = -1;
    for (size_t i = 0; i < r->npr; i++)
        rd_kafka_topic_partition_list_add(l, r->pr[i].topic, r->pr[i].partition)->offset = ts;
    e = rd_kafka_offsets_for_times(r->consumer, l, r->timeout_ms);
    if (e) {
        fprintf(stderr, "newsclf %s: offsets for %s: %s\n", r->cmd, is_to ? "--to" : "--from",
                rd_kafka_err2str(e));
        goto out;
    }
    for (size_t i = 0; i < r->npr; i++) {
        struct prange *p = &r->pr[i];
        const rd_kafka_topic_partition_t *t = &l->elems[i];
        if (t->err) {
            fprintf(stderr, "newsclf %s: offsets of %s/%d: %s\n", r->cmd, p->topic,
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
static int confirm_scans(struct recl *r)
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
    if (rd_kafka_assign(r->consumer, l) != 0)
        goto out;
    int64_t deadline = nc_now_ms() + r->timeout_ms;
    while (pending && !stop_flag && nc_now_ms() < deadline) {
        rd_kafka_message_t *m = rd_kafka_consumer_poll(r->consumer, 100);
        if (!m)
            continue;
        for (size_t i = 0; i < r->npr && !m->err; i++) {
            struct prange *p = &r->pr[i];
            if (!(p->scan_from || p->scan_to) || p->partition != m->partition ||
                strcmp(p->topic, rd_kafka_topic_name(m->rkt)) != 0 || m->offset != p->end - 1)
                continue;
            int64_t ts = rd_kafka_message_timestamp(m, NULL);
            if (p->scan_from && ts >= 0 && ts < r->from_ms) {
                p->scan_from = 0;
                p->start = p->end; /* all older than --from: nothing to read */
            }
            if (p->scan_to && ts >= 0 && ts < r->to_ms)
                p->scan_to = 0; /* all older than --to: read to the end */
            if (p->scan_from || p->scan_to)
                fprintf(stderr,
                        "newsclf %s: %s/%d: the broker did not look up the timestamp; "
                        "scanning the partition\n",
                        r->cmd, p->topic, (int)p->partition);
            pending--;
        }
        if (m->err && m->err != RD_KAFKA_RESP_ERR__PARTITION_EOF)
            fprintf(stderr, "newsclf %s: %s\n", r->cmd, rd_kafka_message_errstr(m));
        rd_kafka_message_destroy(m);
    }
    if (pending) {
        fprintf(stderr, "newsclf %s: timed out reading the last messages\n", r->cmd);
        goto out;
    }
    rc = 0;
out:
    rd_kafka_assign(r->consumer, NULL);
    rd_kafka_topic_partition_list_destroy(l);
    return rc;
}

/* Applies --from and --to to every partition's [low, high). */
static int plan_range(struct recl *r, const int64_t *lows)
{
    for (size_t i = 0; i < r->npr; i++) {
        struct prange *p = &r->pr[i];
        p->start = lows[i];
        switch (r->from.kind) {
        case B_END:
            p->start = p->end;
            break;
        case B_OFFSET:
            p->start = r->from.value;
            break;
        case B_PARTS: {
            p->start = p->end; /* partitions not named are not read */
            for (size_t k = 0; k < r->from.nparts; k++)
                if (r->from.part[k] == p->partition)
                    p->start = r->from.off[k];
            break;
        }
        default:
            break;
        }
        switch (r->to.kind) {
        case B_OFFSET:
            if (r->to.value < p->end)
                p->end = r->to.value;
            break;
        case B_PARTS:
            for (size_t k = 0; k < r->to.nparts; k++)
                if (r->to.part[k] == p->partition && r->to.off[k] < p->end)
                    p->end = r->to.off[k];
            break;
        default:
            break;
        }
        if (p->start < lows[i]) {
            fprintf(stderr,
                    "newsclf %s: %s/%d starts at offset %" PRId64 " now (older data is "
                    "deleted); reading from there\n",
                    r->cmd, p->topic, (int)p->partition, lows[i]);
            p->start = lows[i];
        }
    }
    if (r->from.kind == B_TIME && resolve_time(r, 0, r->from_ms, lows) != 0)
        return -1;
    if (r->to.kind == B_TIME && resolve_time(r, 1, r->to_ms, lows) != 0)
        return -1;
    if (confirm_scans(r) != 0)
        return -1;
    for (size_t i = 0; i < r->npr; i++)
        if (r->pr[i].start >= r->pr[i].end)
            r->pr[i].done = 1;
    return 0;
}

static int produce_one(struct recl *r, const char *topic, const rd_kafka_message_t *in,
                       const char *key, size_t keylen, const char *value, size_t vlen,
                       const char *labels)
{
    rd_kafka_headers_t *h = NULL, *inh = NULL;
    rd_kafka_resp_err_t e;
    if (rd_kafka_message_headers(in, &inh) == RD_KAFKA_RESP_ERR_NO_ERROR && inh)
        h = rd_kafka_headers_copy(inh);
    else
        h = rd_kafka_headers_new(4);
    if (!h)
        return -1;
    /* The daemon's headers, and a mark that this record is a re-run. */
    const char *names[] = {"newsclf-labels", "newsclf-model", "content-type",
                           "newsclf-reclassified"};
    const char *vals[] = {labels, r->model_header, "application/json", "true"};
    for (size_t i = 0; i < 4; i++) {
        rd_kafka_header_remove(h, names[i]);
        rd_kafka_header_add(h, names[i], -1, vals[i], -1);
    }
    for (;;) {
        e = rd_kafka_producev(r->producer, RD_KAFKA_V_TOPIC(topic), RD_KAFKA_V_KEY(key, keylen),
                              RD_KAFKA_V_VALUE((void *)value, vlen),
                              RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY), RD_KAFKA_V_HEADERS(h),
                              RD_KAFKA_V_TIMESTAMP(rd_kafka_message_timestamp(in, NULL) > 0
                                                       ? rd_kafka_message_timestamp(in, NULL)
                                                       : 0),
                              RD_KAFKA_V_END);
        if (e != RD_KAFKA_RESP_ERR__QUEUE_FULL || stop_flag)
            break;
        rd_kafka_poll(r->producer, 100); /* serve delivery reports, then retry */
    }
    if (e) {
        rd_kafka_headers_destroy(h); /* not taken over on failure */
        fprintf(stderr, "newsclf %s: produce to %s: %s\n", r->cmd, topic, rd_kafka_err2str(e));
        return -1;
    }
    r->produced++;
    return 0;
}

static int recl_message(struct recl *r, const rd_kafka_message_t *m)
{
    char err[512], labels[NC_MAX_LABELS * NC_LABEL_MAX];
    nc_result res;
    struct nc_input_meta meta;
    struct nc_encode_opts enc;
    size_t vlen;

    r->read++;
    if (r->dump) {
        /* An envelope per message; the value as a string when it is UTF-8. */
        json_t *o = json_pack("{s:s,s:i,s:I,s:I}", "topic", rd_kafka_topic_name(m->rkt),
                              "partition", (int)m->partition, "offset", (json_int_t)m->offset,
                              "timestamp", (json_int_t)rd_kafka_message_timestamp(m, NULL));
        const char *p = m->payload ? m->payload : "";
        if (!o)
            return -1;
        if (m->key && nc_utf8_valid(m->key, m->key_len))
            json_object_set_new(o, "key", json_stringn(m->key, m->key_len));
        if (!nc_utf8_valid(p, m->len)) {
            r->rejected++;
            json_decref(o);
            return 0;
        }
        json_object_set_new(o, "value", json_stringn(p, m->len));
        char *s = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER);
        json_decref(o);
        if (!s)
            return -1;
        puts(s);
        free(s);
        return 0;
    }
    enum nc_article_error ae = nc_article_parse(r->a, m->payload ? m->payload : "", m->len,
                                                r->cfg->limits.max_article_bytes, err, sizeof(err));
    if (ae != NC_ART_OK) {
        /* The daemon sent it to the dead-letter topic the first time. */
        if (r->rejected++ < 10)
            fprintf(stderr, "newsclf %s: %s/%d@%" PRId64 ": %s: %s (skipped)\n", r->cmd,
                    rd_kafka_topic_name(m->rkt), (int)m->partition, m->offset,
                    nc_article_reason(ae), err);
        return 0;
    }
    if (nc_model_classify(r->m, r->ws, r->a, &res, err, sizeof(err)) != 0) {
        fprintf(stderr, "newsclf %s: %s\n", r->cmd, err);
        return -1;
    }
    r->classified++;
    meta.topic = rd_kafka_topic_name(m->rkt);
    meta.partition = m->partition;
    meta.offset = m->offset;
    meta.timestamp_ms = rd_kafka_message_timestamp(m, NULL);
    meta.classified_at_ms = nc_wall_ms();
    memset(&enc, 0, sizeof(enc));
    enc.article_mode = (enum nc_article_mode)r->cfg->outputs.article_fields;
    enc.fields = (const char *const *)r->cfg->outputs.fields;
    enc.nfields = r->cfg->outputs.n_fields;
    enc.input = &meta;
    char *value = nc_encode_result(r->m, r->a, &res, &enc, &vlen, err, sizeof(err));
    if (!value) {
        fprintf(stderr, "newsclf %s: %s\n", r->cmd, err);
        return -1;
    }
    int rc = 0;
    if (r->dry_run) {
        fwrite(value, 1, vlen, stdout);
        putchar('\n');
        free(value);
        return 0;
    }
    nc_encode_labels_csv(r->m, &res, labels, sizeof(labels));
    const char *id = nc_article_id(r->a);
    const char *key = id ? id : m->key;
    size_t keylen = id ? strlen(id) : m->key_len;
    /* Destinations as newsclfd routes them: aggregate, label topics, routes
     * (each topic once). */
    const char *dests[2 + NC_MAX_LABELS * 2 + 64];
    size_t nd = 0;
    const struct nc_config_outputs *oc = &r->cfg->outputs;
    if (r->output_topic) {
        dests[nd++] = r->output_topic;
    } else {
        if (oc->aggregate.enabled)
            dests[nd++] = oc->aggregate.topic;
        for (size_t i = 0; !res.skipped && i < res.nlabels; i++) {
            if (oc->labels.enabled && res.on[i])
                dests[nd++] = r->label_topics[i];
            for (size_t k = 0; k < oc->n_routes && nd < sizeof(dests) / sizeof(dests[0]); k++) {
                const nc_route *rt = &oc->routes[k];
                if (strcmp(rt->label, nc_model_label(r->m, i)) != 0 ||
                    res.prob[i] < nc_config_route_min(r->cfg, rt, nc_model_threshold(r->m, i)))
                    continue;
                int dup = 0;
                for (size_t x = 0; x < nd; x++)
                    dup |= !strcmp(dests[x], rt->topic);
                if (!dup)
                    dests[nd++] = rt->topic;
            }
        }
    }
    for (size_t i = 0; i < nd && rc == 0; i++)
        rc = produce_one(r, dests[i], m, key, keylen, value, vlen, labels);
    free(value);
    rd_kafka_poll(r->producer, 0);
    return rc;
}

static struct prange *find_range(struct recl *r, const rd_kafka_message_t *m)
{
    const char *t = rd_kafka_topic_name(m->rkt);
    for (size_t i = 0; i < r->npr; i++)
        if (r->pr[i].partition == m->partition && !strcmp(r->pr[i].topic, t))
            return &r->pr[i];
    return NULL;
}

/* Reads every planned partition up to its end; 0, or -1 on error. */
static int recl_run(struct recl *r)
{
    rd_kafka_topic_partition_list_t *l = rd_kafka_topic_partition_list_new((int)r->npr);
    size_t left = 0;
    int rc = -1;
    for (size_t i = 0; i < r->npr; i++)
        if (!r->pr[i].done) {
            rd_kafka_topic_partition_list_add(l, r->pr[i].topic, r->pr[i].partition)->offset =
                r->pr[i].start;
            left++;
        }
    if (left) {
        rd_kafka_resp_err_t e = rd_kafka_assign(r->consumer, l);
        if (e) {
            fprintf(stderr, "newsclf %s: cannot assign the partitions: %s\n", r->cmd,
                    rd_kafka_err2str(e));
            goto out;
        }
    }
    while (left && !stop_flag) {
        rd_kafka_message_t *m = rd_kafka_consumer_poll(r->consumer, 100);
        if (r->producer)
            rd_kafka_poll(r->producer, 0);
        if (!m)
            continue;
        struct prange *p = m->rkt ? find_range(r, m) : NULL;
        if (m->err == RD_KAFKA_RESP_ERR__PARTITION_EOF) {
            /* The end of what exists: also the end of the range when the last
             * offsets were not messages (e.g. transaction markers). */
            if (p && !p->done && m->offset >= p->end) {
                p->done = 1;
                left--;
            }
        } else if (m->err) {
            fprintf(stderr, "newsclf %s: %s\n", r->cmd, rd_kafka_message_errstr(m));
            if (m->err == RD_KAFKA_RESP_ERR__AUTO_OFFSET_RESET ||
                m->err == RD_KAFKA_RESP_ERR_OFFSET_OUT_OF_RANGE ||
                m->err == RD_KAFKA_RESP_ERR__FATAL ||
                m->err == RD_KAFKA_RESP_ERR_TOPIC_AUTHORIZATION_FAILED) {
                rd_kafka_message_destroy(m);
                goto out;
            }
        } else if (p && !p->done) {
            int64_t ts = rd_kafka_message_timestamp(m, NULL);
            if (p->scan_to && ts >= r->to_ms) {
                p->done = 1;
                left--;
            } else if (m->offset < p->end) {
                if (p->scan_from && ts < r->from_ms) {
                    r->skipped_ts++;
                } else if (recl_message(r, m) != 0) {
                    rd_kafka_message_destroy(m);
                    goto out;
                }
                if (m->offset + 1 >= p->end) {
                    p->done = 1;
                    left--;
                }
            }
            if (!p->done && m->offset + 1 >= p->end) {
                p->done = 1;
                left--;
            }
        }
        rd_kafka_message_destroy(m);
    }
    rc = stop_flag ? -1 : 0;
    if (stop_flag)
        fprintf(stderr, "newsclf %s: interrupted\n", r->cmd);
out:
    rd_kafka_assign(r->consumer, NULL);
    rd_kafka_topic_partition_list_destroy(l);
    return rc;
}

static void usage_reclassify(FILE *out)
{
    fprintf(out,
            "usage: newsclf reclassify --from WHEN [--to WHEN] [--brokers HOST:PORT,...]\n"
            "       [--input-topic TOPIC]... [--config FILE] [--set KEY=VALUE]...\n"
            "       [--model DIR] [--output-topic TOPIC] [--dry-run | --dump]\n"
            "       [--timeout-ms T] [-X PROPERTY=VALUE]...\n"
            "\n"
            "Reads the input topics from --from up to --to (default: the end offsets seen\n"
            "at start), classifies every article with the model and writes newsclfd's\n"
            "record (with \"input\" and \"classified_at\", and the headers newsclf-labels,\n"
            "newsclf-model and newsclf-reclassified) to the configured aggregate, label\n"
            "and route topics, or only to --output-topic. The consumer has no group: it\n"
            "never commits and does not disturb the daemon's group. Unreadable input is\n"
            "skipped (the daemon dead-lettered it already).\n"
            "\n"
            "WHEN: an RFC 3339 time (2026-11-27T10:00:00Z) or a date (midnight UTC), looked\n"
            "up per partition by message timestamp; an offset N for every partition;\n"
            "PARTITION:OFFSET[,...] (other partitions are not read); beginning; end.\n"
            "The range is [from, to): --to is exclusive.\n"
            "\n"
            "--dry-run prints the records on stdout instead of producing them. --dump\n"
            "prints each message of the range as {\"topic\",\"partition\",\"offset\",\n"
            "\"timestamp\",\"key\",\"value\"} without a model (scripts/retrain reads the\n"
            "feedback topic this way). Topics, brokers, thresholds, routes, article fields\n"
            "and the model default to the daemon's configuration (--config, else\n"
            "%s when readable). Exit 0 when every record was delivered.\n",
            DEFAULT_CONFIG);
}

int nc_cli_reclassify(int argc, char **argv)
{
    static const struct option opts[] = {{"brokers", required_argument, 0, 'b'},
                                         {"from", required_argument, 0, 'F'},
                                         {"to", required_argument, 0, 'T'},
                                         {"input-topic", required_argument, 0, 'i'},
                                         {"config", required_argument, 0, 'c'},
                                         {"set", required_argument, 0, 's'},
                                         {"model", required_argument, 0, 'm'},
                                         {"output-topic", required_argument, 0, 'o'},
                                         {"dry-run", no_argument, 0, 'n'},
                                         {"dump", no_argument, 0, 'd'},
                                         {"timeout-ms", required_argument, 0, 't'},
                                         {"help", no_argument, 0, 'h'},
                                         {0, 0, 0, 0}};
    static struct recl r;
    struct strlist sets = {0}, props = {0}, inputs = {0};
    const char *brokers = NULL, *config = NULL, *model = NULL, *from = NULL, *to = NULL;
    rd_kafka_topic_partition_list_t *parts = NULL;
    int64_t *lows = NULL;
    int o, rc = EXIT_RUNTIME;
    char *end, err[512];

    memset(&r, 0, sizeof(r));
    r.cmd = "reclassify";
    r.timeout_ms = 10000;
    optind = 1;
    while ((o = getopt_long(argc, argv, "b:i:c:s:m:o:t:X:h", opts, NULL)) != -1) {
        switch (o) {
        case 'b':
            brokers = optarg;
            break;
        case 'F':
            from = optarg;
            break;
        case 'T':
            to = optarg;
            break;
        case 'i':
            if (strlist_add(&inputs, optarg, r.cmd, "--input-topic") != 0)
                return EXIT_USAGE;
            break;
        case 'c':
            config = optarg;
            break;
        case 's':
            if (strlist_add(&sets, optarg, r.cmd, "--set") != 0)
                return EXIT_USAGE;
            break;
        case 'm':
            model = optarg;
            break;
        case 'o':
            r.output_topic = optarg;
            break;
        case 'n':
            r.dry_run = 1;
            break;
        case 'd':
            r.dump = 1;
            break;
        case 't':
            r.timeout_ms = (int)strtol(optarg, &end, 10);
            if (*end || end == optarg || r.timeout_ms < 1) {
                fprintf(stderr, "newsclf reclassify: --timeout-ms must be a positive number\n");
                return EXIT_USAGE;
            }
            break;
        case 'X':
            if (strlist_add(&props, optarg, r.cmd, "-X") != 0)
                return EXIT_USAGE;
            break;
        case 'h':
            usage_reclassify(stdout);
            return 0;
        default:
            usage_reclassify(stderr);
            return EXIT_USAGE;
        }
    }
    if (!from || optind != argc) {
        fprintf(stderr, "newsclf reclassify: --from is required (see --help)\n");
        return EXIT_USAGE;
    }
    if (parse_bound(from, &r.from) != 0 || (to && parse_bound(to, &r.to) != 0) ||
        r.to.kind == B_BEGINNING) {
        fprintf(stderr, "newsclf reclassify: --from/--to take an RFC 3339 time, an offset, "
                        "PARTITION:OFFSET[,...], beginning or end\n");
        return EXIT_USAGE;
    }
    r.from_ms = r.from.value;
    r.to_ms = r.to.value;
    if (r.dump && (r.dry_run || r.output_topic || model)) {
        fprintf(stderr, "newsclf reclassify: --dump reads only; it takes no --dry-run, "
                        "--output-topic or --model\n");
        return EXIT_USAGE;
    }
    if (!(r.cfg = load_config(r.cmd, config, &sets)))
        return EXIT_RUNTIME;
    if (!brokers)
        brokers = r.cfg->kafka.brokers;
    if (!strcmp(brokers, "embedded")) {
        fprintf(stderr, "newsclf reclassify: the embedded broker lives inside newsclfd; "
                        "give --brokers\n");
        goto out;
    }
    if (inputs.n == 0)
        for (size_t i = 0; i < r.cfg->kafka.n_input_topics && i < MAX_ITEMS; i++)
            inputs.v[inputs.n++] = r.cfg->kafka.input_topics[i];
    if (r.output_topic)
        for (size_t i = 0; i < inputs.n; i++)
            if (!strcmp(inputs.v[i], r.output_topic)) {
                fprintf(stderr, "newsclf reclassify: --output-topic %s is also an input topic\n",
                        r.output_topic);
                rc = EXIT_USAGE;
                goto out;
            }

    if (!r.dump) {
        if (nc_model_load(model ? model : r.cfg->model.path, &r.m, err, sizeof(err)) != 0) {
            fprintf(stderr, "newsclf reclassify: %s\n", err);
            goto out;
        }
        for (size_t i = 0; i < r.cfg->model.n_thresholds; i++)
            if (nc_model_set_threshold(r.m, r.cfg->model.thresholds[i].label,
                                       r.cfg->model.thresholds[i].probability, err,
                                       sizeof(err)) != 0) {
                fprintf(stderr, "newsclf reclassify: model.thresholds: %s\n", err);
                goto out;
            }
        for (size_t k = 0; k < r.cfg->outputs.n_routes; k++)
            if (nc_model_label_index(r.m, r.cfg->outputs.routes[k].label) < 0) {
                fprintf(stderr,
                        "newsclf reclassify: outputs.routes: label \"%s\" is not a label "
                        "of the model\n",
                        r.cfg->outputs.routes[k].label);
                goto out;
            }
        snprintf(r.model_header, sizeof(r.model_header), "%s %s", nc_model_name(r.m),
                 nc_model_version(r.m));
        r.ws = nc_workspace_new(r.m);
        r.a = nc_article_new();
        r.label_topics = calloc(nc_model_nlabels(r.m) + 1, sizeof(*r.label_topics));
        if (!r.ws || !r.a || !r.label_topics)
            goto out;
        for (size_t i = 0; i < nc_model_nlabels(r.m); i++) {
            size_t n =
                strlen(r.cfg->outputs.labels.topic_prefix) + strlen(nc_model_label(r.m, i)) + 1;
            if (!(r.label_topics[i] = malloc(n)))
                goto out;
            snprintf(r.label_topics[i], n, "%s%s", r.cfg->outputs.labels.topic_prefix,
                     nc_model_label(r.m, i));
        }
    }

    rd_kafka_conf_t *conf = client_conf(r.cmd, brokers, "newsclf-reclassify", r.cfg->kafka.consumer,
                                        r.cfg->kafka.n_consumer, &props);
    if (!conf)
        goto out;
    /* A private group.id and assign() only, so nothing is ever committed and the
     * daemon's group never sees this consumer. A reset would silently skip
     * or repeat data, so it is an error. */
    if (private_group(conf, r.cmd) || kset(conf, "enable.auto.commit", "false", r.cmd) ||
        kset(conf, "enable.auto.offset.store", "false", r.cmd) ||
        kset(conf, "enable.partition.eof", "true", r.cmd) ||
        kset(conf, "auto.offset.reset", "error", r.cmd)) {
        rd_kafka_conf_destroy(conf);
        goto out;
    }
    if (!(r.consumer = new_client(r.cmd, RD_KAFKA_CONSUMER, conf)))
        goto out;
    rd_kafka_poll_set_consumer(r.consumer);
    install_signals();

    if (!r.dump && !r.dry_run) {
        conf = client_conf(r.cmd, brokers, "newsclf-reclassify", r.cfg->kafka.producer,
                           r.cfg->kafka.n_producer, &props);
        if (!conf)
            goto out;
        if (kset(conf, "enable.idempotence", "true", r.cmd) || kset(conf, "acks", "all", r.cmd) ||
            kset(conf, "linger.ms", "20", r.cmd)) {
            rd_kafka_conf_destroy(conf);
            goto out;
        }
        rd_kafka_conf_set_opaque(conf, &r);
        rd_kafka_conf_set_dr_msg_cb(conf, dr_cb);
        rd_kafka_conf_set_error_cb(conf, producer_error_cb);
        if (!(r.producer = new_client(r.cmd, RD_KAFKA_PRODUCER, conf)))
            goto out;
    }

    if (!(parts = topic_partitions(r.cmd, r.consumer, inputs.v, inputs.n, r.timeout_ms)))
        goto out;
    r.npr = (size_t)parts->cnt;
    r.pr = calloc(r.npr + 1, sizeof(*r.pr));
    lows = calloc(r.npr + 1, sizeof(*lows));
    if (!r.pr || !lows || watermarks(r.cmd, r.consumer, parts, lows, r.timeout_ms) != 0)
        goto out;
    for (size_t i = 0; i < r.npr; i++) {
        r.pr[i].topic = parts->elems[i].topic;
        r.pr[i].partition = parts->elems[i].partition;
        r.pr[i].end = parts->elems[i].offset; /* high watermark at start */
    }
    if (plan_range(&r, lows) != 0)
        goto out;
    long long planned = 0;
    for (size_t i = 0; i < r.npr; i++)
        if (!r.pr[i].done)
            planned += r.pr[i].end - r.pr[i].start;
    fprintf(stderr, "newsclf %s: reading up to %lld message(s) from %zu partition(s)%s%s\n", r.cmd,
            planned, r.npr, r.m ? " with model " : "", r.m ? r.model_header : "");

    int run = recl_run(&r);
    if (r.producer) {
        rd_kafka_resp_err_t e = rd_kafka_flush(r.producer, 30000);
        if (e)
            fprintf(stderr, "newsclf %s: flush: %s\n", r.cmd, rd_kafka_err2str(e));
        long long outstanding = rd_kafka_outq_len(r.producer);
        if (outstanding)
            fprintf(stderr, "newsclf %s: %lld record(s) not delivered\n", r.cmd, outstanding);
        if (r.failed)
            fprintf(stderr, "newsclf %s: %lld record(s) failed, first: %s\n", r.cmd,
                    (long long)r.failed, r.first_error);
        if (e || outstanding || r.failed || r.delivered != r.produced)
            run = -1;
    }
    if (fflush(stdout) != 0)
        run = -1;
    if (r.dump)
        fprintf(stderr, "newsclf %s: %lld message(s) dumped, %lld not UTF-8 (skipped)\n", r.cmd,
                r.read - r.rejected, r.rejected);
    else
        fprintf(stderr,
                "newsclf %s: %lld read, %lld classified, %lld unreadable (skipped), "
                "%lld record(s) %s\n",
                r.cmd, r.read + r.skipped_ts, r.classified, r.rejected,
                r.dry_run ? r.classified : (long long)r.delivered,
                r.dry_run ? "printed" : "delivered");
    rc = run == 0 ? 0 : EXIT_RUNTIME;
out:
    if (r.consumer) {
        consumer_close(r.consumer, 10000);
        rd_kafka_destroy(r.consumer);
    }
    if (r.producer)
        rd_kafka_destroy(r.producer);
    if (parts)
        rd_kafka_topic_partition_list_destroy(parts);
    if (r.label_topics)
        for (size_t i = 0; r.m && i < nc_model_nlabels(r.m); i++)
            free(r.label_topics[i]);
    free(r.label_topics);
    free(r.pr);
    free(lows);
    nc_article_free(r.a);
    nc_workspace_free(r.ws);
    nc_model_free(r.m);
    nc_config_free(r.cfg);
    return rc;
}
