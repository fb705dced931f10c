/*
 * validate.c - the cross-field checks (nc_config_validate()), run after every
 * value passed its own: newsclfd must never consume its own output (an input
 * topic, or ^regex tried with POSIX regexec like librdkafka, against every
 * enabled output topic and the per-label prefix), dead letters must not mix
 * into labeled output, routes must not repeat, exactly-once needs an
 * instance id, and the per-partition inflight limit must fit in the total.
 * Each error names where the key the user wrote came from (origin.c).
 */
#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config/internal.h"

struct vctx {
    const nc_config *c;
    struct cfg_sink *s;
};

/* Prefixes a validation error with where `key` came from. */
static NC_PRINTF(3, 4) void verr(struct vctx *v, const char *key, const char *fmt, ...)
{
    char msg[CFG_MSG_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    const char *where = nc_config_origin(v->c, key);
    cfg_sink_add(v->s, "%s: %s", where ? where : "defaults", msg);
}

struct outtopic {
    const char *topic;
    char key[64];
};

/* Of two keys in one error, the one the user wrote (file or --set). */
static const char *blame(const nc_config *c, const char *a, const char *b)
{
    return nc_config_origin(c, a) || !nc_config_origin(c, b) ? a : b;
}

/* The enabled output topics with their keys (the per-label ones aside). */
static struct outtopic *output_topics(const struct nc_config_outputs *o, size_t *nout)
{
    struct outtopic *outs = calloc(2 + o->n_routes, sizeof *outs);
    size_t n = 0;
    if (!outs)
        return NULL;
    if (o->aggregate.enabled) {
        outs[n].topic = o->aggregate.topic;
        snprintf(outs[n++].key, sizeof outs[0].key, "outputs.aggregate.topic");
    }
    if (o->deadletter.enabled) {
        outs[n].topic = o->deadletter.topic;
        snprintf(outs[n++].key, sizeof outs[0].key, "outputs.deadletter.topic");
    }
    for (size_t i = 0; i < o->n_routes; i++) {
        outs[n].topic = o->routes[i].topic;
        snprintf(outs[n++].key, sizeof outs[0].key, "outputs.routes[%zu]", i);
    }
    *nout = n;
    return outs;
}

static void check_outputs(struct vctx *v, const struct outtopic *outs, size_t nout)
{
    const nc_config *c = v->c;
    const struct nc_config_outputs *o = &c->outputs;
    char qa[128], qb[128], ikey[64];
    /* Dead letters mixed into labeled output would break its consumers. */
    if (o->deadletter.enabled) {
        for (size_t i = 0; i < nout; i++) {
            if (strcmp(outs[i].key, "outputs.deadletter.topic") != 0 &&
                strcmp(outs[i].topic, o->deadletter.topic) == 0)
                verr(v, blame(c, outs[i].key, "outputs.deadletter.topic"),
                     "%s %s is also outputs.deadletter.topic", outs[i].key,
                     cfg_quote(outs[i].topic, qa, sizeof qa));
        }
    }
    for (size_t i = 0; i < o->n_routes; i++)
        for (size_t j = 0; j < i; j++)
            if (!strcmp(o->routes[i].label, o->routes[j].label) &&
                !strcmp(o->routes[i].topic, o->routes[j].topic)) {
                snprintf(ikey, sizeof ikey, "outputs.routes[%zu]", i);
                verr(v, ikey, "%s repeats outputs.routes[%zu] (label %s, topic %s)", ikey, j,
                     cfg_quote(o->routes[i].label, qa, sizeof qa),
                     cfg_quote(o->routes[i].topic, qb, sizeof qb));
            }
}

static void check_kafka_limits(struct vctx *v)
{
    const nc_config *c = v->c;
    /* The transactional.id is group + instance_id: it must be stable and unique. */
    if (c->kafka.delivery == NC_DELIVERY_EXACTLY_ONCE && c->kafka.instance_id[0] == '\0')
        verr(v, blame(c, "kafka.delivery", "kafka.instance_id"),
             "kafka.delivery exactly-once needs kafka.instance_id: a stable id, unique in the "
             "group (it becomes the transactional.id)");

    if (c->limits.max_inflight_per_partition > c->limits.max_inflight_total)
        verr(v, blame(c, "limits.max_inflight_per_partition", "limits.max_inflight_total"),
             "limits.max_inflight_per_partition (%zu) exceeds limits.max_inflight_total (%zu)",
             c->limits.max_inflight_per_partition, c->limits.max_inflight_total);
}

/* Input topic `in` (a name, at ikey) is one of our outputs. */
static void check_plain_input(struct vctx *v, const char *ikey, const char *in,
                              const struct outtopic *outs, size_t nout, const char *prefix)
{
    char qa[128], qb[128];
    for (size_t j = 0; j < nout; j++) {
        if (strcmp(in, outs[j].topic) == 0) {
            verr(v, blame(v->c, ikey, outs[j].key),
                 "%s %s is also our output topic (%s): newsclfd would consume its own output",
                 ikey, cfg_quote(in, qa, sizeof qa), outs[j].key);
            return;
        }
    }
    size_t pl = prefix ? strlen(prefix) : 0;
    if (prefix && strncmp(in, prefix, pl) == 0 && in[pl]) {
        verr(v, blame(v->c, ikey, "outputs.labels.topic_prefix"),
             "%s %s is a per-label output topic (outputs.labels.topic_prefix %s): "
             "newsclfd would consume its own output",
             ikey, cfg_quote(in, qa, sizeof qa), cfg_quote(prefix, qb, sizeof qb));
    }
}

/* The j-th name tried after the label prefix: samples, then the labels of
 * model.thresholds and of outputs.routes; NULL past the end. */
static const char *label_sample(const nc_config *c, size_t j)
{
    static const char *const samples[] = {"x", "a",      "z",          "0",   "_",  "-",
                                          "X", "sports", "world-news", "a.b", "A_1"};
    size_t ns = sizeof samples / sizeof samples[0];
    if (j < ns)
        return samples[j];
    j -= ns;
    if (j < c->model.n_thresholds)
        return c->model.thresholds[j].label;
    j -= c->model.n_thresholds;
    return j < c->outputs.n_routes ? c->outputs.routes[j].label : NULL;
}

/*
 * Input pattern `in` (a ^regex, at ikey) matches one of our outputs: it is
 * tried on every output topic and on the label prefix followed by sample
 * names and the labels we know of.
 */
static void check_pattern_input(struct vctx *v, const char *ikey, const char *in,
                                const struct outtopic *outs, size_t nout, const char *prefix)
{
    const nc_config *c = v->c;
    char qa[128], qb[128];
    regex_t re;
    if (cfg_regex_too_complex(in) || regcomp(&re, in, REG_EXTENDED | REG_NOSUB) != 0)
        return; /* reported when the value was set */
    for (size_t j = 0; j < nout; j++) {
        if (regexec(&re, outs[j].topic, 0, NULL, 0) == 0) {
            verr(v, blame(c, ikey, outs[j].key),
                 "%s pattern %s matches our output topic %s (%s): newsclfd would consume "
                 "its own output",
                 ikey, cfg_quote(in, qa, sizeof qa), cfg_quote(outs[j].topic, qb, sizeof qb),
                 outs[j].key);
            regfree(&re);
            return;
        }
    }
    const char *suf;
    for (size_t j = 0; prefix && (suf = label_sample(c, j)) != NULL; j++) {
        char name[600];
        snprintf(name, sizeof name, "%s%s", prefix, suf);
        if (regexec(&re, name, 0, NULL, 0) == 0) {
            verr(v, blame(c, ikey, "outputs.labels.topic_prefix"),
                 "%s pattern %s matches per-label output topics such as %s "
                 "(outputs.labels.topic_prefix): newsclfd would consume its own output",
                 ikey, cfg_quote(in, qa, sizeof qa), cfg_quote(name, qb, sizeof qb));
            break;
        }
    }
    regfree(&re);
}

void cfg_validate_into(const nc_config *c, struct cfg_sink *s)
{
    struct vctx v = {c, s};
    size_t nout = 0;
    struct outtopic *outs = output_topics(&c->outputs, &nout);
    if (!outs) {
        s->oom = true;
        return;
    }
    check_outputs(&v, outs, nout);
    check_kafka_limits(&v);
    /* Consuming our own output would classify it again, forever. */
    const char *prefix = c->outputs.labels.enabled ? c->outputs.labels.topic_prefix : NULL;
    for (size_t i = 0; i < c->kafka.n_input_topics; i++) {
        const char *in = c->kafka.input_topics[i];
        char ikey[64];
        snprintf(ikey, sizeof ikey, "kafka.input_topics[%zu]", i);
        if (in[0] == '^')
            check_pattern_input(&v, ikey, in, outs, nout, prefix);
        else
            check_plain_input(&v, ikey, in, outs, nout, prefix);
    }
    free(outs);
}

int nc_config_validate(const nc_config *c, char *err, size_t errlen)
{
    struct cfg_sink s = {0};
    cfg_validate_into(c, &s);
    int rc = s.nlines ? NC_CONFIG_EINVAL : s.oom ? NC_CONFIG_ENOMEM : 0;
    if (rc)
        cfg_sink_finish(&s, err, errlen);
    else if (err && errlen)
        err[0] = '\0';
    cfg_sink_free(&s);
    return rc;
}
