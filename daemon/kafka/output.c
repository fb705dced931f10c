/*
 * output.c - routing, headers and produce calls of newsclf's records (see
 * output.h).
 */
#include "kafka/output.h"

#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kafka/conf.h"
#include "base/clock.h"

/* config.h's outputs.article_fields is handed to the encoder by a cast. */
_Static_assert((int)NC_CONFIG_FIELDS_NONE == (int)NC_ARTICLE_NONE,
               "enum nc_config_fields and enum nc_article_mode differ: none");
_Static_assert((int)NC_CONFIG_FIELDS_ALL == (int)NC_ARTICLE_ALL,
               "enum nc_config_fields and enum nc_article_mode differ: all");
_Static_assert((int)NC_CONFIG_FIELDS_LIST == (int)NC_ARTICLE_LIST,
               "enum nc_config_fields and enum nc_article_mode differ: list");

#define KEY_MAX 1024 /* a dead letter's key is cut here */

/* One destination of a label. */
struct dest {
    const char *topic;
    double min_prob; /* a route: the probability it needs; < 0: the label's own topic */
};

struct nc_output {
    const nc_config *cfg;
    const nc_model *model; /* NULL: passthrough */
    int reclassified;
    struct nc_encode_opts enc;
    char model_header[2 * NC_LABEL_MAX + 256];
    const char *only;       /* every record to this topic only, or NULL */
    const char *aggregate;  /* NULL when disabled */
    const char *deadletter; /* NULL when disabled */
    size_t nlabels;
    struct dest *dests[NC_MAX_LABELS]; /* per label */
    size_t ndests[NC_MAX_LABELS];
    char *label_topics[NC_MAX_LABELS]; /* prefix + label, owned */
    const char **topics;               /* every distinct topic */
    size_t ntopics;
};

int nc_output_load_model(const nc_config *cfg, const char *dir, nc_model **out, char *err,
                         size_t errlen)
{
    char why[512];

    if (nc_model_load(dir ? dir : cfg->model.path, out, err, errlen) != 0)
        return -1;
    for (size_t i = 0; i < cfg->model.n_thresholds; i++)
        if (nc_model_set_threshold(*out, cfg->model.thresholds[i].label,
                                   cfg->model.thresholds[i].probability, why, sizeof(why)) != 0) {
            snprintf(err, errlen, "model.thresholds: %s", why);
            nc_model_free(*out);
            *out = NULL;
            return -1;
        }
    return 0;
}

void nc_output_free(nc_output *o)
{
    if (!o)
        return;
    for (size_t i = 0; i < NC_MAX_LABELS; i++) {
        free(o->dests[i]);
        free(o->label_topics[i]);
    }
    free(o->topics);
    free(o);
}

static void add_topic(nc_output *o, const char *t)
{
    if (!t)
        return;
    for (size_t i = 0; i < o->ntopics; i++)
        if (!strcmp(o->topics[i], t)) // NOLINT(clang-analyzer-core.NonNullParamChecker): only non-NULL topics are added
            return;
    o->topics[o->ntopics++] = t;
}

static int add_dest(nc_output *o, size_t label, const char *topic, double min_prob)
{
    struct dest *d;
    for (size_t i = 0; i < o->ndests[label]; i++)
        if (!strcmp(o->dests[label][i].topic, topic)) {
            /* The same topic twice: the more permissive route wins; the
             * label's own topic (-1) keeps the label's rule. */
            if (min_prob < o->dests[label][i].min_prob)
                o->dests[label][i].min_prob = min_prob;
            return 0;
        }
    d = realloc(o->dests[label], (o->ndests[label] + 1) * sizeof(*d));
    if (!d)
        return -1;
    o->dests[label] = d;
    d[o->ndests[label]].topic = topic;
    d[o->ndests[label]].min_prob = min_prob;
    o->ndests[label]++;
    add_topic(o, topic);
    return 0;
}

/* The label topics: <prefix><label>, carrying the label's decision. */
static int add_label_topics(nc_output *o)
{
    const char *prefix = o->cfg->outputs.labels.topic_prefix;

    for (size_t i = 0; i < o->nlabels && o->cfg->outputs.labels.enabled; i++) {
        const char *label = nc_model_label(o->model, i);
        size_t n = strlen(prefix) + strlen(label) + 1;
        o->label_topics[i] = malloc(n);
        if (!o->label_topics[i])
            return -1;
        snprintf(o->label_topics[i], n, "%s%s", prefix, label);
        if (add_dest(o, i, o->label_topics[i], -1.0) != 0)
            return -1;
    }
    return 0;
}

static int add_routes(nc_output *o, nc_log *log, char *err, size_t errlen)
{
    const struct nc_config_outputs *oc = &o->cfg->outputs;

    for (size_t r = 0; r < oc->n_routes; r++) {
        const nc_route *route = &oc->routes[r];
        int li = nc_model_label_index(o->model, route->label);
        double thr, min;
        if (li < 0) {
            snprintf(err, errlen, "outputs.routes: label \"%s\" is not a label of model %s",
                     route->label, o->model_header);
            return -1;
        }
        thr = nc_model_threshold(o->model, (size_t)li);
        min = nc_config_route_min(o->cfg, route, thr);
        if (o->label_topics[li] && !strcmp(o->label_topics[li], route->topic) && min != thr)
            nc_log_warn(log,
                        "outputs.routes: min_probability %.3g of the route of label %s to %s is "
                        "ignored: that topic carries exactly the articles with the label "
                        "(threshold %.3g)",
                        min, route->label, route->topic, thr);
        if (add_dest(o, (size_t)li, route->topic, min) != 0) {
            snprintf(err, errlen, "out of memory");
            return -1;
        }
    }
    return 0;
}

int nc_output_new(const nc_config *cfg, const nc_model *model, const struct nc_output_opts *opts,
                  nc_output **out, char *err, size_t errlen)
{
    const struct nc_config_outputs *oc = &cfg->outputs;
    nc_output *o = calloc(1, sizeof(*o));

    *out = NULL;
    if (!o)
        goto oom;
    o->cfg = cfg;
    o->model = model;
    o->reclassified = opts->reclassified;
    o->only = opts->only_topic;
    o->topics = calloc(3 + (model ? nc_model_nlabels(model) : 0) + oc->n_routes,
                       sizeof(*o->topics));
    if (!o->topics)
        goto oom;
    if (!model) {
        o->aggregate = oc->aggregate.topic;
        add_topic(o, o->aggregate);
        *out = o;
        return 0;
    }
    o->nlabels = nc_model_nlabels(model);
    snprintf(o->model_header, sizeof(o->model_header), "%s %s", nc_model_name(model),
             nc_model_version(model));
    o->enc.article_mode = (enum nc_article_mode)oc->article_fields;
    o->enc.fields = (const char *const *)oc->fields;
    o->enc.nfields = oc->n_fields;
    o->aggregate = oc->aggregate.enabled ? oc->aggregate.topic : NULL;
    o->deadletter = opts->deadletter && oc->deadletter.enabled ? oc->deadletter.topic : NULL;
    add_topic(o, o->only ? o->only : o->aggregate);
    if (add_label_topics(o) != 0)
        goto oom;
    if (add_routes(o, opts->log, err, errlen) != 0)
        goto fail;
    if (o->only)
        o->ntopics = 1; /* the routes were checked; they are not used */
    add_topic(o, o->deadletter);
    *out = o;
    return 0;
oom:
    snprintf(err, errlen, "out of memory");
fail:
    nc_output_free(o);
    return -1;
}

const char *const *nc_output_topics(const nc_output *o, size_t *n)
{
    *n = o->ntopics;
    return o->topics;
}

const char *nc_output_model_header(const nc_output *o)
{
    return o->model_header;
}

const char *nc_output_deadletter(const nc_output *o)
{
    return o->deadletter;
}

char *nc_output_encode(const nc_output *o, const nc_article *a, const nc_result *res,
                       const rd_kafka_message_t *in, size_t *len, char *err, size_t errlen)
{
    struct nc_input_meta meta;
    struct nc_encode_opts enc = o->enc;

    meta.topic = rd_kafka_topic_name(in->rkt);
    meta.partition = in->partition;
    meta.offset = in->offset;
    meta.timestamp_ms = rd_kafka_message_timestamp(in, NULL);
    meta.classified_at_ms = nc_wall_ms();
    enc.input = &meta;
    return nc_encode_result(o->model, a, res, &enc, len, err, errlen);
}

size_t nc_output_max_dests(const nc_output *o)
{
    return 1 + o->nlabels * 2 + o->cfg->outputs.n_routes;
}

/* Appends topic to dests[0..*n) unless it is there already. */
static void add_once(const char **dests, size_t *n, const char *topic)
{
    for (size_t x = 0; x < *n; x++)
        if (!strcmp(dests[x], topic)) // NOLINT(clang-analyzer-core.NonNullParamChecker): dests are non-NULL topics
            return;
    dests[(*n)++] = topic;
}

size_t nc_output_route(const nc_output *o, const nc_result *res, const char **dests)
{
    size_t n = 0;

    if (o->only) {
        dests[n++] = o->only;
        return n;
    }
    if (o->aggregate)
        dests[n++] = o->aggregate;
    if (!o->model || res->skipped != NC_SKIP_NONE)
        return n;
    for (size_t i = 0; i < o->nlabels && i < res->nlabels; i++)
        for (size_t k = 0; k < o->ndests[i]; k++) {
            const struct dest *d = &o->dests[i][k];
            int on = d->min_prob < 0 ? res->on[i] : res->prob[i] >= d->min_prob;
            if (on)
                add_once(dests, &n, d->topic);
        }
    return n;
}

/* ---- records ---- */

/* A copy of the input's headers (or an empty set). */
static rd_kafka_headers_t *input_headers(const rd_kafka_message_t *m)
{
    rd_kafka_headers_t *in = NULL;
    if (rd_kafka_message_headers(m, &in) == RD_KAFKA_RESP_ERR_NO_ERROR && in)
        return rd_kafka_headers_copy(in);
    return rd_kafka_headers_new(8);
}

static void set_header(rd_kafka_headers_t *h, const char *name, const char *value)
{
    /* An input that went through newsclf before must not carry two values. */
    rd_kafka_header_remove(h, name);
    rd_kafka_header_add(h, name, -1, value, -1);
}

static int64_t input_ts(const rd_kafka_message_t *m)
{
    int64_t ts = rd_kafka_message_timestamp(m, NULL);
    return ts > 0 ? ts : 0;
}

static rd_kafka_headers_t *record_headers(const nc_output *o, const struct nc_output_record *rec)
{
    rd_kafka_headers_t *h = input_headers(rec->in);
    if (!h || !o->model)
        return h;
    set_header(h, "newsclf-labels", rec->labels_csv);
    set_header(h, "newsclf-model", o->model_header);
    set_header(h, "content-type", "application/json");
    if (o->reclassified)
        set_header(h, "newsclf-reclassified", "true");
    return h;
}

rd_kafka_resp_err_t nc_output_produce(const nc_output *o, nc_kafka_out *out,
                                      const struct nc_output_record *rec, const char *const *dests,
                                      size_t n, void *opaque, const volatile sig_atomic_t *abort,
                                      size_t *produced, const char **failed)
{
    const rd_kafka_message_t *m = rec->in;
    const void *key = rec->id ? (const void *)rec->id : m->key;
    size_t keylen = rec->id ? strlen(rec->id) : m->key_len;

    *produced = 0;
    for (size_t i = 0; i < n; i++) {
        rd_kafka_headers_t *h = record_headers(o, rec);
        rd_kafka_resp_err_t r =
            h ? nc_kafka_out_produce(out, dests[i], key, keylen, rec->value, rec->vlen, h,
                                     input_ts(m), opaque, abort)
              : RD_KAFKA_RESP_ERR__FAIL; /* out of memory */
        if (r) {
            *failed = dests[i];
            return r;
        }
        (*produced)++;
    }
    return RD_KAFKA_RESP_ERR_NO_ERROR;
}

int nc_output_refused(const nc_output *o, rd_kafka_resp_err_t err)
{
    return o->deadletter && nc_kafka_err_is_per_message(err);
}

/* Bytes of the input's headers as a record carries them (roughly). */
static size_t header_bytes(const rd_kafka_message_t *m)
{
    rd_kafka_headers_t *inh = NULL;
    const char *name;
    const void *val;
    size_t vsz, n = 0;

    if (rd_kafka_message_headers(m, &inh) == RD_KAFKA_RESP_ERR_NO_ERROR && inh)
        for (size_t i = 0; !rd_kafka_header_get_all(inh, i, &name, &val, &vsz); i++)
            n += strlen(name) + vsz + 16;
    return n;
}

rd_kafka_resp_err_t nc_output_deadletter_produce(const nc_output *o, nc_kafka_out *out,
                                                 const rd_kafka_message_t *m,
                                                 const char *reason, const char *detail,
                                                 void *opaque,
                                                 const volatile sig_atomic_t *abort)
{
    size_t max_message = nc_kafka_out_max_message_bytes(out);
    size_t hdr_bytes = header_bytes(m), len = m->len, limit;
    size_t key_len = m->key_len < KEY_MAX ? m->key_len : KEY_MAX;
    /*
     * A poison message must not stop the daemon: its key or headers alone
     * may exceed what the broker accepts, and a refused dead letter is
     * fatal. Long keys are cut and oversized input headers dropped, each
     * noted in a header of ours.
     */
    int drop_headers = hdr_bytes > max_message / 4;
    rd_kafka_headers_t *h = drop_headers ? rd_kafka_headers_new(8) : input_headers(m);
    char num[32];

    if (!h)
        return RD_KAFKA_RESP_ERR__FAIL;
    if (drop_headers) {
        hdr_bytes = 0;
        set_header(h, "newsclf-headers-dropped", "input headers too large");
    }
    /* Room for the key, the headers (ours: < NC_OUTPUT_DETAIL_MAX + 512)
     * and record overhead; the rest is for the bytes. */
    limit = max_message > hdr_bytes + key_len + NC_OUTPUT_DETAIL_MAX + 1024
                ? max_message - hdr_bytes - key_len - NC_OUTPUT_DETAIL_MAX - 1024
                : 0;
    if (key_len < m->key_len) {
        snprintf(num, sizeof(num), "%zu", m->key_len);
        set_header(h, "newsclf-key-truncated-from", num);
    }
    set_header(h, "newsclf-error", reason);
    set_header(h, "newsclf-error-detail", detail);
    set_header(h, "newsclf-source-topic", rd_kafka_topic_name(m->rkt));
    snprintf(num, sizeof(num), "%d", (int)m->partition);
    set_header(h, "newsclf-source-partition", num);
    snprintf(num, sizeof(num), "%" PRId64, m->offset);
    set_header(h, "newsclf-source-offset", num);
    snprintf(num, sizeof(num), "%" PRId64, rd_kafka_message_timestamp(m, NULL));
    set_header(h, "newsclf-source-timestamp", num);
    if (len > limit) {
        snprintf(num, sizeof(num), "%zu", m->len);
        set_header(h, "newsclf-truncated-from", num);
        len = limit;
    }
    return nc_kafka_out_produce(out, o->deadletter, m->key, key_len, m->payload, len, h,
                                input_ts(m), opaque, abort);
}
