/*
 * subscribe.c - `newsclf subscribe`: follows <prefix><label> topics and
 * prints what arrives. Without --group it assigns every partition itself at
 * offsets it looked up first (so "ready" on stderr means nothing produced
 * from then on is missed) and never commits; with --group it joins that
 * consumer group like any other consumer. Stops on SIGINT/SIGTERM.
 * --from picks the start (beginning, end, or the first record at or after an
 * RFC 3339 time, looked up with rd_kafka_offsets_for_times); the pretty
 * format prints local times with their UTC offset and, on a terminal (or
 * --color always), labels and probabilities in colour (NO_COLOR honoured).
 */
#include "cli/kafka.h"

#include <inttypes.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <xxhash.h>

#include "cli/kafka_cmd.h"
#include "cli/range.h"

#define SEEN_RING 8192

/* subscribe's own options (kafka_cmd.h adds the shared ones). */
static const struct option sub_longs[] = {
    NC_OPT_ARG("label", 'l'),           NC_OPT_ARG("group", 'g'),
    NC_OPT_FLAG("from-beginning", 'B'), NC_OPT_ARG("format", 'f'),
    NC_OPT_ARG("min-prob", 'p'),        NC_OPT_ARG("topic-prefix", 'P'),
    NC_OPT_ARG("max-messages", 'n'),    NC_OPT_ARG("timeout-ms", 't'),
    NC_OPT_ARG("from", 'F'),            NC_OPT_ARG("color", 'C'),      {0, 0, 0, 0}};

/* --color: auto (a terminal, and NO_COLOR unset or empty), always, never. */
enum sub_color { COLOR_AUTO, COLOR_ALWAYS, COLOR_NEVER };

struct sub {
    struct nc_kcmd k;
    struct nc_kcmd_args args;
    const char *prefix;
    struct nc_strlist labels;
    const char *group;
    struct nc_bound from; /* NC_B_NONE (end), NC_B_BEGINNING, NC_B_END, NC_B_TIME */
    enum sub_color color_opt;
    int color; /* resolved: print escapes */
    long long timeout_ms;
    double min_prob;
    int jsonl;
    long long max_messages, printed;
    uint64_t seen[SEEN_RING]; /* records already printed (an article may be on
                               * several of the followed label topics) */
    size_t seen_next;
};

static void usage_subscribe(FILE *out)
{
    fprintf(out,
            "usage: newsclf subscribe --label LABEL [--label ...] [--brokers HOST:PORT,...]\n"
            "       [--group GROUP] [--from beginning|end|TIME] [--from-beginning]\n"
            "       [--format pretty|jsonl] [--color auto|always|never] [--min-prob P]\n"
            "       [--topic-prefix PREFIX] [--max-messages N] [--timeout-ms T]\n"
            "       [--config FILE] [--set KEY=VALUE]... [-X PROPERTY=VALUE]...\n"
            "\n"
            "Follows the per-label topics newsclfd writes (PREFIX + LABEL, by default\n"
            "news.labeled.LABEL) and prints each article as it arrives: with --format\n"
            "pretty (default) a line with the record's time (local, with its UTC offset,\n"
            "e.g. 2026-11-27T10:00:00.123+01:00), the labels and their probabilities,\n"
            "the title and the outlet; with --format jsonl the record itself. Labels and\n"
            "probabilities are coloured when stdout is a terminal and NO_COLOR is unset\n"
            "or empty (--color auto, the default); --color always|never overrides. An article\n"
            "on several of the followed topics is printed once. --min-prob P keeps only\n"
            "articles whose probability for a followed label is at least P.\n"
            "\n"
            "Without --group the partitions are read directly, nothing is committed and\n"
            "only new articles are shown (--from end, the default); --from beginning\n"
            "(or --from-beginning) starts at the oldest record, --from TIME (RFC 3339,\n"
            "e.g. 2026-11-27T10:00:00Z, or a date) at the first record at or after TIME\n"
            "by record timestamp; \"ready\" on stderr means the start offsets are fixed.\n"
            "With --group the consumer joins that group and commits its position;\n"
            "--from beginning|end then applies only when the group has no committed\n"
            "position yet, and --from TIME is refused.\n"
            "\n"
            "Stops after N printed articles (--max-messages), after T milliseconds\n"
            "(--timeout-ms), or on Ctrl-C; exit 0. Brokers, security properties and the\n"
            "topic prefix come from the daemon's configuration file when --config names\n"
            "one (no file is read otherwise, as with newsclfd: the built-in defaults\n"
            "apply); -X sets any librdkafka property.\n");
}

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

/* Colours of the pretty format (SGR): labels bold cyan, a probability green
 * from 0.9, yellow from 0.5, else dim. */
#define SGR_LABEL "\033[1;36m"
#define SGR_RESET "\033[0m"
static const char *prob_sgr(double p)
{
    return p >= 0.9 ? "\033[32m" : p >= 0.5 ? "\033[33m" : "\033[2m";
}

/* ms since the epoch as local time with its offset,
 * "2026-11-27T10:00:00.123+01:00", into when (at least 40 bytes). */
static void format_local(int64_t ms, char *when, size_t len)
{
    time_t t = (time_t)(ms / 1000);
    struct tm tm;
    size_t n;
    long off;

    if (!localtime_r(&t, &tm)) {
        snprintf(when, len, "-");
        return;
    }
    n = strftime(when, len, "%Y-%m-%dT%H:%M:%S", &tm);
    off = tm.tm_gmtoff / 60;
    snprintf(when + n, len - n, ".%03d%c%02ld:%02ld", (int)(ms % 1000), off < 0 ? '-' : '+',
             (off < 0 ? -off : off) / 60, (off < 0 ? -off : off) % 60);
}

static void print_pretty(const struct sub *s, const rd_kafka_message_t *m, json_t *rec)
{
    json_t *labels = json_object_get(rec, "labels"), *scores = json_object_get(rec, "scores");
    json_t *art = json_object_get(rec, "article");
    int64_t ts = rd_kafka_message_timestamp(m, NULL);
    char when[64] = "-";
    if (ts >= 0)
        format_local(ts, when, sizeof(when));
    printf("%s ", when);
    size_t i;
    json_t *l;
    json_array_foreach(labels, i, l)
    {
        if (!json_is_string(l))
            continue;
        json_t *p = json_object_get(scores, json_string_value(l));
        double v = json_is_number(p) ? json_number_value(p) : 0.0;
        printf(" %s", s->color ? SGR_LABEL : "");
        put_clean(json_string_value(l));
        if (s->color)
            printf(SGR_RESET " %s%.2f" SGR_RESET, prob_sgr(v), v);
        else
            printf(" %.2f", v);
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
        print_pretty(s, m, rec);
    }
    fflush(stdout);
    printed = 1;
out:
    json_decref(rec);
    return printed;
}

/* One option of subscribe's own; 0, or an exit code. */
static int sub_option(void *ctx, int o, const char *arg)
{
    struct sub *s = ctx;
    char *end;

    switch (o) {
    case 'l':
        return nc_strlist_add(&s->labels, arg, "subscribe", "--label") ? NC_CLI_EXIT_USAGE : 0;
    case 'g':
    case 'P':
        *(o == 'g' ? &s->group : &s->prefix) = arg;
        return 0;
    case 'B':
        s->from.kind = NC_B_BEGINNING;
        return 0;
    case 'F':
        if (nc_bound_parse(arg, &s->from) != 0 ||
            (s->from.kind != NC_B_BEGINNING && s->from.kind != NC_B_END &&
             s->from.kind != NC_B_TIME)) {
            fprintf(stderr, "newsclf subscribe: --from must be beginning, end or an RFC 3339 "
                            "time, not '%s'\n", arg);
            return NC_CLI_EXIT_USAGE;
        }
        return 0;
    case 'C':
        if (!strcmp(arg, "auto") || !strcmp(arg, "always") || !strcmp(arg, "never")) {
            s->color_opt = arg[0] == 'a' ? (arg[1] == 'u' ? COLOR_AUTO : COLOR_ALWAYS)
                                         : COLOR_NEVER;
            return 0;
        }
        fprintf(stderr, "newsclf subscribe: --color must be auto, always or never\n");
        return NC_CLI_EXIT_USAGE;
    case 'f':
        s->jsonl = !strcmp(arg, "jsonl") || !strcmp(arg, "json");
        if (s->jsonl || !strcmp(arg, "pretty"))
            return 0;
        fprintf(stderr, "newsclf subscribe: --format must be pretty or jsonl\n");
        return NC_CLI_EXIT_USAGE;
    case 'p':
        s->min_prob = strtod(arg, &end);
        if (*end || end == arg || s->min_prob < 0 || s->min_prob > 1) {
            fprintf(stderr, "newsclf subscribe: --min-prob must be in [0, 1]\n");
            return NC_CLI_EXIT_USAGE;
        }
        return 0;
    case 'n':
        return nc_kcmd_number("subscribe", arg, 1, &s->max_messages,
                              "--max-messages must be a positive number");
    case 't':
        return nc_kcmd_number("subscribe", arg, 0, &s->timeout_ms,
                              "--timeout-ms must be a number >= 0");
    default: /* not one of ours */
        return NC_CLI_EXIT_USAGE;
    }
}

/* -1: run; else the exit code (help, usage error). */
static int sub_args(struct sub *s, int argc, char **argv)
{
    const struct nc_kcmd_opts own = {sub_longs, "l:g:f:p:n:t:", sub_option, s, usage_subscribe};
    int rc = nc_kcmd_parse(argc, argv, "subscribe", &own, &s->args);
    const char *no_color = getenv("NO_COLOR");

    if (rc < 0 && (s->labels.n == 0 || optind != argc)) {
        fprintf(stderr, "newsclf subscribe: at least one --label is required\n");
        return NC_CLI_EXIT_USAGE;
    }
    if (rc < 0 && s->group && s->from.kind == NC_B_TIME) {
        fprintf(stderr, "newsclf subscribe: --from TIME needs no --group (a group starts at "
                        "its committed position)\n");
        return NC_CLI_EXIT_USAGE;
    }
    s->color = s->color_opt == COLOR_ALWAYS ||
               (s->color_opt == COLOR_AUTO && isatty(STDOUT_FILENO) && !(no_color && *no_color));
    return rc;
}

/* --from TIME: each partition starts at its first record at or after the
 * time, or at its end when there is none (the mock cluster always answers
 * none, docs/kafka.md). parts holds the end offsets; 0 or -1 (printed). */
static int from_time(struct sub *s, rd_kafka_topic_partition_list_t *parts, int timeout_ms)
{
    rd_kafka_topic_partition_list_t *l = rd_kafka_topic_partition_list_copy(parts);
    rd_kafka_resp_err_t e;
    int rc = -1;

    for (int i = 0; i < l->cnt; i++)
        l->elems[i].offset = s->from.value;
    e = rd_kafka_offsets_for_times(nc_kafka_in_handle(s->k.in), l, timeout_ms);
    if (e) {
        fprintf(stderr, "newsclf subscribe: offsets for --from: %s\n", rd_kafka_err2str(e));
        goto out;
    }
    for (int i = 0; i < l->cnt; i++) {
        if (l->elems[i].err) {
            fprintf(stderr, "newsclf subscribe: offsets of %s/%d: %s\n", l->elems[i].topic,
                    (int)l->elems[i].partition, rd_kafka_err2str(l->elems[i].err));
            goto out;
        }
        if (l->elems[i].offset >= 0)
            parts->elems[i].offset = l->elems[i].offset;
    }
    rc = 0;
out:
    rd_kafka_topic_partition_list_destroy(l);
    return rc;
}

/* The consumer, subscribed to the group or assigned at fixed offsets. */
static int sub_start(struct sub *s, char **topics)
{
    /* Without a group: never commit. Either way, where to start. */
    nc_kv settings[] = {{"enable.auto.commit", "false"},
                        {"enable.auto.offset.store", "false"},
                        {"auto.offset.reset",
                         s->from.kind == NC_B_BEGINNING ? "earliest" : "latest"}};
    rd_kafka_topic_partition_list_t *parts;
    int64_t *lows = NULL;
    rd_kafka_resp_err_t e;
    int rc = -1;

    if (s->group ? nc_kcmd_consumer(&s->k, s->group, settings + 2, 1)
                 : nc_kcmd_consumer(&s->k, NULL, settings, 3))
        return -1;
    if (s->group) {
        parts = rd_kafka_topic_partition_list_new((int)s->labels.n);
        for (size_t i = 0; i < s->labels.n; i++)
            rd_kafka_topic_partition_list_add(parts, topics[i], RD_KAFKA_PARTITION_UA);
        e = rd_kafka_subscribe(nc_kafka_in_handle(s->k.in), parts);
        rd_kafka_topic_partition_list_destroy(parts);
        if (e) {
            fprintf(stderr, "newsclf subscribe: %s\n", rd_kafka_err2str(e));
            return -1;
        }
        fprintf(stderr, "newsclf subscribe: joining group %s for %zu topic(s)\n", s->group,
                s->labels.n);
        return 0;
    }
    /* Fix the start offsets before saying "ready": whatever is produced
     * after that line is shown, without relying on when a fetch resolves
     * "latest". */
    parts = nc_kcmd_partitions(&s->k, (const char *const *)topics, s->labels.n, 10000);
    if (!parts)
        return -1;
    if (!(lows = calloc((size_t)parts->cnt + 1, sizeof(*lows))) ||
        nc_kcmd_watermarks(&s->k, parts, lows, 10000) != 0)
        goto out;
    if (s->from.kind == NC_B_BEGINNING)
        for (int i = 0; i < parts->cnt; i++)
            parts->elems[i].offset = lows[i];
    if (s->from.kind == NC_B_TIME && from_time(s, parts, 10000) != 0)
        goto out;
    e = nc_kafka_in_assign(s->k.in, parts);
    if (e) {
        fprintf(stderr, "newsclf subscribe: %s\n", rd_kafka_err2str(e));
        goto out;
    }
    fprintf(stderr, "newsclf subscribe: ready, following %d partition(s) of %zu topic(s)\n",
            parts->cnt, s->labels.n);
    rc = 0;
out:
    rd_kafka_topic_partition_list_destroy(parts);
    free(lows);
    return rc;
}

/* Prints what arrives until a stop; the exit code. */
static int sub_loop(struct sub *s)
{
    int64_t deadline = s->timeout_ms >= 0 ? nc_now_ms() + s->timeout_ms : -1;
    int rc = 0;

    while (!*s->k.stop && (deadline < 0 || nc_now_ms() < deadline)) {
        rd_kafka_message_t *m = nc_kafka_in_poll(s->k.in, 100);
        if (!m)
            continue;
        if (m->err) {
            if (m->err != RD_KAFKA_RESP_ERR__PARTITION_EOF)
                fprintf(stderr, "newsclf subscribe: %s\n", rd_kafka_message_errstr(m));
            if (m->err == RD_KAFKA_RESP_ERR__FATAL || m->err == RD_KAFKA_RESP_ERR__AUTHENTICATION ||
                m->err == RD_KAFKA_RESP_ERR_TOPIC_AUTHORIZATION_FAILED ||
                m->err == RD_KAFKA_RESP_ERR_GROUP_AUTHORIZATION_FAILED) {
                rc = NC_CLI_EXIT_RUNTIME;
                rd_kafka_message_destroy(m);
                break;
            }
        } else if (sub_message(s, m)) {
            s->printed++;
        }
        rd_kafka_message_destroy(m);
        if (s->max_messages && s->printed >= s->max_messages)
            break;
    }
    if (fflush(stdout) != 0)
        rc = NC_CLI_EXIT_RUNTIME;
    return rc;
}

int nc_cli_subscribe(int argc, char **argv)
{
    struct sub *s = calloc(1, sizeof(*s)); /* large (the seen ring): not on the stack */
    char **topics = NULL;
    int rc = NC_CLI_EXIT_RUNTIME;

    if (!s) {
        fprintf(stderr, "newsclf subscribe: out of memory\n");
        return NC_CLI_EXIT_RUNTIME;
    }
    s->timeout_ms = -1;
    rc = sub_args(s, argc, argv);
    if (rc >= 0)
        goto out;
    rc = NC_CLI_EXIT_RUNTIME;
    if (nc_kcmd_start(&s->k, "subscribe", &s->args) != 0)
        goto out;
    if (!s->prefix)
        s->prefix = s->k.cfg->outputs.labels.topic_prefix;
    if (!s->prefix)
        s->prefix = "news.labeled.";
    topics = calloc(s->labels.n, sizeof(*topics));
    if (!topics)
        goto out;
    for (size_t i = 0; i < s->labels.n; i++) {
        /* --label values come from argv: never NULL. */
        size_t n = strlen(s->prefix) + strlen(s->labels.v[i]) + 1; // NOLINT(clang-analyzer-core.NonNullParamChecker)
        if (!(topics[i] = malloc(n)))
            goto out;
        snprintf(topics[i], n, "%s%s", s->prefix, s->labels.v[i]);
    }
    if (sub_start(s, topics) == 0)
        rc = sub_loop(s);
out:
    nc_kcmd_end(&s->k);
    if (topics)
        for (size_t i = 0; i < s->labels.n; i++)
            free(topics[i]);
    free(topics);
    free(s);
    return rc;
}
