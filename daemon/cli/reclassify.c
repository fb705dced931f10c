/*
 * reclassify.c - `newsclf reclassify`: reads a range of the input topics
 * (range.h) with its own, group-less consumer (assign and explicit offsets:
 * it can never commit to, or rebalance, the daemon's group), classifies with
 * a model and produces the daemon's records through the daemon's output
 * path (kafka/output.h: the same routing, headers and keys) to the
 * configured output topics, or to --output-topic. --dump prints the raw
 * messages of the range instead (used by scripts/retrain to read the
 * feedback topic). Stops on SIGINT/SIGTERM.
 */
#include "cli/kafka.h"

#include <inttypes.h>
#include <jansson.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/kafka_cmd.h"
#include "cli/range.h"
#include "core/article.h"
#include "core/encode.h"
#include "core/model.h"
#include "kafka/out.h"
#include "kafka/output.h"
#include "base/util.h"

/* What classifies and routes. */
struct clf {
    nc_model *m;
    nc_workspace *ws;
    nc_article *a;
    nc_output *out; /* routing and records (kafka/output.h) */
    const char **dests;
};

struct recl {
    struct nc_kcmd k;
    struct nc_kcmd_args args;
    struct nc_strlist inputs;
    const char *model_dir, *from, *to;
    struct nc_range range;
    struct clf c;           /* not for --dump */
    nc_kafka_out *producer; /* NULL: --dump, --dry-run */
    rd_kafka_topic_partition_list_t *parts; /* the input partitions; pr[] names their topics */
    int dump, dry_run;
    const char *output_topic;
    int timeout_ms;
    /* counters */
    long long read, classified, rejected, produced, skipped_ts;
    long long delivered, failed;
    char first_error[512];
};

/* Delivery reports (served on this thread by polls and the flush). */
static void on_delivery(void *owner, void *opaque, rd_kafka_resp_err_t err,
                        const rd_kafka_message_t *m)
{
    struct recl *r = owner;
    (void)opaque;
    if (err) {
        if (!r->failed)
            snprintf(r->first_error, sizeof(r->first_error), "%s: %s", rd_kafka_topic_name(m->rkt),
                     rd_kafka_err2str(err));
        r->failed++;
    } else {
        r->delivered++;
    }
}

/* --dump: an envelope per message; the value as a string when it is UTF-8. */
static int dump_message(struct recl *r, const rd_kafka_message_t *m)
{
    json_t *o = json_pack("{s:s,s:i,s:I,s:I}", "topic", rd_kafka_topic_name(m->rkt), "partition",
                          (int)m->partition, "offset", (json_int_t)m->offset, "timestamp",
                          (json_int_t)rd_kafka_message_timestamp(m, NULL));
    const char *p = m->payload ? m->payload : "";
    char *s;

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
    s = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER);
    json_decref(o);
    if (!s)
        return -1;
    puts(s);
    free(s);
    return 0;
}

/* Produces the record of one classified article as newsclfd would. */
static int produce_record(struct recl *r, const rd_kafka_message_t *m, const nc_result *res,
                          const char *value, size_t vlen)
{
    char labels[NC_MAX_LABELS * NC_LABEL_MAX];
    struct nc_output_record rec = {m, nc_article_id(r->c.a), labels, value, vlen};
    size_t n = nc_output_route(r->c.out, res, r->c.dests), produced = 0;
    const char *topic = NULL;
    rd_kafka_resp_err_t e;

    nc_encode_labels_csv(r->c.m, res, labels, sizeof(labels));
    e = nc_output_produce(r->c.out, r->producer, &rec, r->c.dests, n, NULL, r->k.stop, &produced,
                          &topic);
    r->produced += (long long)produced;
    nc_kafka_out_poll(r->producer, 0);
    if (e) {
        fprintf(stderr, "newsclf %s: produce to %s: %s\n", r->k.name, topic, rd_kafka_err2str(e));
        return -1;
    }
    return 0;
}

static int recl_message(struct recl *r, const rd_kafka_message_t *m)
{
    char err[512];
    nc_result res;
    size_t vlen;
    char *value;
    int rc = 0;

    r->read++;
    if (r->dump)
        return dump_message(r, m);
    enum nc_article_error ae = nc_article_parse(r->c.a, m->payload ? m->payload : "", m->len,
                                                r->k.cfg->limits.max_article_bytes, err,
                                                sizeof(err));
    if (ae != NC_ART_OK) {
        /* The daemon sent it to the dead-letter topic the first time. */
        if (r->rejected++ < 10)
            fprintf(stderr, "newsclf %s: %s/%d@%" PRId64 ": %s: %s (skipped)\n", r->k.name,
                    rd_kafka_topic_name(m->rkt), (int)m->partition, m->offset,
                    nc_article_reason(ae), err);
        return 0;
    }
    if (nc_model_classify(r->c.m, r->c.ws, r->c.a, &res, err, sizeof(err)) != 0) {
        fprintf(stderr, "newsclf %s: %s\n", r->k.name, err);
        return -1;
    }
    r->classified++;
    value = nc_output_encode(r->c.out, r->c.a, &res, m, &vlen, err, sizeof(err));
    if (!value) {
        fprintf(stderr, "newsclf %s: %s\n", r->k.name, err);
        return -1;
    }
    if (r->dry_run) {
        fwrite(value, 1, vlen, stdout);
        putchar('\n');
    } else {
        rc = produce_record(r, m, &res, value, vlen);
    }
    free(value);
    return rc;
}

/* Marks p done when m is its last message; returns 1 then. */
static int range_step(struct nc_prange *p, const rd_kafka_message_t *m)
{
    if (p->done || m->offset + 1 < p->end)
        return 0;
    p->done = 1;
    return 1;
}

/* One message or event of the range; 1: a partition is done, 0: go on,
 * -1: stop with an error. */
static int recl_one(struct recl *r, const rd_kafka_message_t *m)
{
    struct nc_prange *p = m->rkt ? nc_range_find(&r->range, m) : NULL;

    if (m->err == RD_KAFKA_RESP_ERR__PARTITION_EOF) {
        /* The end of what exists: also the end of the range when the last
         * offsets were not messages (e.g. transaction markers). */
        if (p && !p->done && m->offset >= p->end) {
            p->done = 1;
            return 1;
        }
        return 0;
    }
    if (m->err) {
        fprintf(stderr, "newsclf %s: %s\n", r->k.name, rd_kafka_message_errstr(m));
        return m->err == RD_KAFKA_RESP_ERR__AUTO_OFFSET_RESET ||
                       m->err == RD_KAFKA_RESP_ERR_OFFSET_OUT_OF_RANGE ||
                       m->err == RD_KAFKA_RESP_ERR__FATAL ||
                       m->err == RD_KAFKA_RESP_ERR_TOPIC_AUTHORIZATION_FAILED
                   ? -1
                   : 0;
    }
    if (!p || p->done)
        return 0;
    if (p->scan_to && rd_kafka_message_timestamp(m, NULL) >= r->range.to.value) {
        p->done = 1;
        return 1;
    }
    if (m->offset < p->end) {
        if (p->scan_from && rd_kafka_message_timestamp(m, NULL) < r->range.from.value)
            r->skipped_ts++;
        else if (recl_message(r, m) != 0)
            return -1;
    }
    return range_step(p, m);
}

/* Reads every planned partition up to its end; 0, or -1 on error. */
static int recl_run(struct recl *r)
{
    rd_kafka_topic_partition_list_t *l = rd_kafka_topic_partition_list_new((int)r->range.npr);
    size_t left = 0;
    int rc = -1;
    char why[512];

    for (size_t i = 0; i < r->range.npr; i++)
        if (!r->range.pr[i].done) {
            rd_kafka_topic_partition_list_add(l, r->range.pr[i].topic, r->range.pr[i].partition)
                ->offset = r->range.pr[i].start;
            left++;
        }
    if (left) {
        rd_kafka_resp_err_t e = nc_kafka_in_assign(r->k.in, l);
        if (e) {
            fprintf(stderr, "newsclf %s: cannot assign the partitions: %s\n", r->k.name,
                    rd_kafka_err2str(e));
            goto out;
        }
    }
    while (left && !*r->k.stop) {
        rd_kafka_message_t *m = nc_kafka_in_poll(r->k.in, 100);
        int step;
        if (r->producer) {
            nc_kafka_out_poll(r->producer, 0);
            if (nc_kafka_out_fatal(r->producer, why, sizeof(why))) {
                /* docs/kafka.md #4438: the idempotent producer may fail
                 * fatally after a broker loss. Stop; what was not delivered
                 * is reported. */
                fprintf(stderr, "newsclf %s: fatal producer error: %s\n", r->k.name, why);
                if (m)
                    rd_kafka_message_destroy(m);
                goto out;
            }
        }
        if (!m)
            continue;
        step = recl_one(r, m);
        rd_kafka_message_destroy(m);
        if (step < 0)
            goto out;
        left -= (size_t)step;
    }
    rc = *r->k.stop ? -1 : 0;
    if (*r->k.stop)
        fprintf(stderr, "newsclf %s: interrupted\n", r->k.name);
out:
    nc_kafka_in_assign(r->k.in, NULL);
    rd_kafka_topic_partition_list_destroy(l);
    return rc;
}

/* One option of reclassify's own; 0, or an exit code. */
static int recl_option(void *ctx, int o, const char *arg)
{
    struct recl *r = ctx;
    long long t;

    switch (o) {
    case 'F':
    case 'T':
    case 'm':
    case 'o':
        *(o == 'F'   ? &r->from
          : o == 'T' ? &r->to
          : o == 'm' ? &r->model_dir
                     : &r->output_topic) = arg;
        return 0;
    case 'n':
    case 'd':
        *(o == 'n' ? &r->dry_run : &r->dump) = 1;
        return 0;
    case 'i':
        return nc_strlist_add(&r->inputs, arg, "reclassify", "--input-topic") ? NC_CLI_EXIT_USAGE
                                                                               : 0;
    case 't':
        if (nc_kcmd_number("reclassify", arg, 1, &t, "--timeout-ms must be a positive number"))
            return NC_CLI_EXIT_USAGE;
        r->timeout_ms = t > INT_MAX ? INT_MAX : (int)t;
        return 0;
    default: /* not one of ours */
        return NC_CLI_EXIT_USAGE;
    }
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
            "and the model come from the daemon's configuration file when --config names\n"
            "one (no file is read otherwise, as with newsclfd: the built-in defaults\n"
            "apply). Exit 0 when every record was delivered.\n");
}

/* -1: run; else the exit code (help, usage error). */
static int recl_args(struct recl *r, int argc, char **argv)
{
    static const struct option longs[] = {
        NC_OPT_ARG("from", 'F'),          NC_OPT_ARG("to", 'T'),
        NC_OPT_ARG("input-topic", 'i'),   NC_OPT_ARG("model", 'm'),
        NC_OPT_ARG("output-topic", 'o'),  NC_OPT_FLAG("dry-run", 'n'),
        NC_OPT_FLAG("dump", 'd'),         NC_OPT_ARG("timeout-ms", 't'), {0, 0, 0, 0}};
    const struct nc_kcmd_opts own = {longs, "i:m:o:t:", recl_option, r, usage_reclassify};
    int rc = nc_kcmd_parse(argc, argv, "reclassify", &own, &r->args);

    if (rc >= 0)
        return rc;
    if (!r->from || optind != argc) {
        fprintf(stderr, "newsclf reclassify: --from is required\n");
        return NC_CLI_EXIT_USAGE;
    }
    if (nc_bound_parse(r->from, &r->range.from) != 0 ||
        (r->to && nc_bound_parse(r->to, &r->range.to) != 0) ||
        r->range.to.kind == NC_B_BEGINNING) {
        fprintf(stderr, "newsclf reclassify: --from/--to take an RFC 3339 time, an offset, "
                        "PARTITION:OFFSET[,...], beginning or end\n");
        return NC_CLI_EXIT_USAGE;
    }
    if (r->dump && (r->dry_run || r->output_topic || r->model_dir)) {
        fprintf(stderr, "newsclf reclassify: --dump reads only; it takes no --dry-run, "
                        "--output-topic or --model\n");
        return NC_CLI_EXIT_USAGE;
    }
    return -1;
}

/* The model, the output routing and the scratch to classify with. */
static int recl_model(struct recl *r)
{
    struct nc_output_opts oo = {
        .only_topic = r->output_topic, .reclassified = 1, .log = r->k.log};
    char err[512];

    if (nc_output_load_model(r->k.cfg, r->model_dir, &r->c.m, err, sizeof(err)) != 0 ||
        nc_output_new(r->k.cfg, r->c.m, &oo, &r->c.out, err, sizeof(err)) != 0) {
        fprintf(stderr, "newsclf reclassify: %s\n", err);
        return -1;
    }
    r->c.ws = nc_workspace_new(r->c.m);
    r->c.a = nc_article_new();
    r->c.dests = calloc(nc_output_max_dests(r->c.out), sizeof(*r->c.dests));
    return r->c.ws && r->c.a && r->c.dests ? 0 : -1;
}

/* The consumer and, unless only printing, the producer. */
static int recl_clients(struct recl *r)
{
    /* assign() only, so nothing is ever committed and the daemon's group
     * never sees this consumer. A reset would silently skip or repeat data,
     * so it is an error. */
    static const nc_kv settings[] = {{"enable.auto.commit", "false"},
                                     {"enable.auto.offset.store", "false"},
                                     {"enable.partition.eof", "true"},
                                     {"auto.offset.reset", "error"}};
    struct nc_kafka_out_opts oo = {
        .client = r->k.producer, .dr = on_delivery, .owner = r, .tool = 1};
    char err[512];

    if (nc_kcmd_consumer(&r->k, NULL, settings, sizeof(settings) / sizeof(settings[0])) != 0)
        return -1;
    if (r->dump || r->dry_run)
        return 0;
    if (nc_kafka_out_new(r->k.cfg, &oo, &r->producer, err, sizeof(err)) != 0) {
        fprintf(stderr, "newsclf reclassify: %s\n", err);
        return -1;
    }
    return 0;
}

/* The partitions of the input topics and the range to read from each. */
static int recl_plan(struct recl *r)
{
    int64_t *lows = NULL;
    int rc = -1;
    long long planned = 0;

    r->parts = nc_kcmd_partitions(&r->k, r->inputs.v, r->inputs.n, r->timeout_ms);
    if (!r->parts)
        return -1;
    r->range.npr = (size_t)r->parts->cnt;
    r->range.pr = calloc(r->range.npr + 1, sizeof(*r->range.pr));
    lows = calloc(r->range.npr + 1, sizeof(*lows));
    if (!r->range.pr || !lows || nc_kcmd_watermarks(&r->k, r->parts, lows, r->timeout_ms) != 0)
        goto out;
    for (size_t i = 0; i < r->range.npr; i++) {
        r->range.pr[i].topic = r->parts->elems[i].topic;
        r->range.pr[i].partition = r->parts->elems[i].partition;
        r->range.pr[i].end = r->parts->elems[i].offset; /* high watermark at start */
    }
    if (nc_range_plan(&r->k, &r->range, lows, r->timeout_ms) != 0)
        goto out;
    for (size_t i = 0; i < r->range.npr; i++)
        if (!r->range.pr[i].done)
            planned += r->range.pr[i].end - r->range.pr[i].start;
    fprintf(stderr, "newsclf %s: reading up to %lld message(s) from %zu partition(s)%s%s\n",
            r->k.name, planned, r->range.npr, r->c.m ? " with model " : "",
            r->c.m ? nc_output_model_header(r->c.out) : "");
    rc = 0;
out:
    free(lows);
    return rc;
}

/* After the run: waits for the deliveries and reports; 0 when every record
 * was delivered (and stdout written). */
static int recl_finish(struct recl *r, int run)
{
    if (r->producer) {
        rd_kafka_resp_err_t e = rd_kafka_flush(nc_kafka_out_handle(r->producer), 30000);
        long long outstanding;
        if (e)
            fprintf(stderr, "newsclf %s: flush: %s\n", r->k.name, rd_kafka_err2str(e));
        outstanding = nc_kafka_out_pending(r->producer);
        if (outstanding)
            fprintf(stderr, "newsclf %s: %lld record(s) not delivered\n", r->k.name, outstanding);
        if (r->failed)
            fprintf(stderr, "newsclf %s: %lld record(s) failed, first: %s\n", r->k.name, r->failed,
                    r->first_error);
        if (e || outstanding || r->failed || r->delivered != r->produced)
            run = -1;
    }
    if (fflush(stdout) != 0)
        run = -1;
    if (r->dump)
        fprintf(stderr, "newsclf %s: %lld message(s) dumped, %lld not UTF-8 (skipped)\n",
                r->k.name, r->read - r->rejected, r->rejected);
    else
        fprintf(stderr,
                "newsclf %s: %lld read, %lld classified, %lld unreadable (skipped), "
                "%lld record(s) %s\n",
                r->k.name, r->read + r->skipped_ts, r->classified, r->rejected,
                r->dry_run ? r->classified : r->delivered, r->dry_run ? "printed" : "delivered");
    return run;
}

static void clf_free(struct clf *c)
{
    free(c->dests);
    nc_output_free(c->out);
    nc_article_free(c->a);
    nc_workspace_free(c->ws);
    nc_model_free(c->m);
}

static void recl_free(struct recl *r)
{
    nc_kafka_out_free(r->producer);
    nc_kcmd_end(&r->k);
    if (r->parts)
        rd_kafka_topic_partition_list_destroy(r->parts);
    free(r->range.pr);
    clf_free(&r->c);
    free(r);
}

/* Everything after the arguments; the exit code. */
static int recl_main(struct recl *r)
{
    if (nc_kcmd_start(&r->k, "reclassify", &r->args) != 0)
        return NC_CLI_EXIT_RUNTIME;
    if (r->inputs.n == 0)
        for (size_t i = 0; i < r->k.cfg->kafka.n_input_topics && i < NC_CLI_MAX_ITEMS; i++)
            r->inputs.v[r->inputs.n++] = r->k.cfg->kafka.input_topics[i];
    if (r->output_topic)
        for (size_t i = 0; i < r->inputs.n; i++)
            if (!strcmp(r->inputs.v[i], r->output_topic)) {
                fprintf(stderr, "newsclf reclassify: --output-topic %s is also an input topic\n",
                        r->output_topic);
                return NC_CLI_EXIT_USAGE;
            }
    if ((!r->dump && recl_model(r) != 0) || recl_clients(r) != 0 || recl_plan(r) != 0)
        return NC_CLI_EXIT_RUNTIME;
    return recl_finish(r, recl_run(r)) == 0 ? 0 : NC_CLI_EXIT_RUNTIME;
}

int nc_cli_reclassify(int argc, char **argv)
{
    struct recl *r = calloc(1, sizeof(*r)); /* large (the bounds): not on the stack */
    int rc;

    if (!r) {
        fprintf(stderr, "newsclf reclassify: out of memory\n");
        return NC_CLI_EXIT_RUNTIME;
    }
    r->timeout_ms = 10000;
    rc = recl_args(r, argc, argv);
    if (rc < 0)
        rc = recl_main(r);
    recl_free(r);
    return rc;
}
