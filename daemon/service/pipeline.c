/*
 * pipeline.c - consume -> classify -> produce (see pipeline.h for the design).
 */
#include "service/pipeline.h"

#include <inttypes.h>
#include <librdkafka/rdkafka.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/article.h"
#include "kafka/commit.h"
#include "core/encode.h"
#include "kafka/conf.h"
#include "kafka/in.h"
#include "kafka/out.h"
#include "service/metrics.h"
#include "core/model.h"
#include "service/notify.h"
#include "base/util.h"
#include "base/clock.h"

#define BATCH_MAX 256 /* messages dispatched per loop iteration */
#define METADATA_TIMEOUT_MS 5000
#define STATS_EVERY_MS 30000
#define STALL_PAUSE_MS 1000 /* over the total bound this long: pause */
#define DETAIL_MAX 256

/* ---- runtime: one immutable snapshot of model + reloadable config ---- */

struct dest {
    const char *topic;
    double min_prob; /* route: probability needed; label topic: -1 (use "on") */
};

struct runtime {
    int refs;         /* touched on the pipeline thread only */
    unsigned long id; /* distinguishes snapshots for the workers' workspaces */
    nc_model *model;
    nc_config *cfg_owned; /* a reloaded config; NULL: the start-up one */
    const nc_config *cfg;
    struct nc_encode_opts enc;
    char model_header[2 * NC_LABEL_MAX + 256];
    const char *aggregate;  /* NULL when disabled */
    const char *deadletter; /* NULL when disabled */
    size_t nlabels;
    struct dest *dests[NC_MAX_LABELS]; /* per label */
    size_t ndests[NC_MAX_LABELS];
    char *label_topics[NC_MAX_LABELS]; /* prefix + label, owned */
    const char **topics;               /* every distinct output topic */
    size_t ntopics;
};

/* ---- jobs and partitions ---- */

enum job_kind { JOB_OUTPUT = 0, JOB_DEAD, JOB_PASS };

struct part;

struct job {
    struct job *fifo_next; /* production order (pipeline FIFO) */
    struct job *part_next; /* offset order within the partition */
    struct part *part;
    rd_kafka_message_t *msg;
    struct runtime *rt;
    int64_t offset;
    /* written by a worker before `classified` is set under the pool lock */
    int classified;
    enum job_kind kind;
    const char *reason;
    char detail[DETAIL_MAX];
    char *value;
    size_t vlen;
    char *id;
    char *labels_csv;
    const char **dests;
    size_t ndests;
    /* delivery (pipeline thread only) */
    int pending;         /* records not yet acknowledged, +1 while producing */
    int done;            /* every record acknowledged */
    int failed;          /* a record failed for good: never done */
    int need_dl;         /* an output was refused per message: dead-letter it */
    struct job *dl_next; /* in p->dl_queue */
    int dl_sent;
};

struct part {
    char *topic;
    int32_t partition;
    int assigned; /* 0 once revoked: its offsets are never stored again */
    int paused;   /* paused by us (docs/kafka.md #4636) */
    struct job *head, *tail;
    size_t count;
    struct part *next; /* in p->parts or p->retired */
};

/* ---- the worker pool ---- */

struct wctx {
    nc_article *art;
    nc_workspace *ws;
    unsigned long ws_rt; /* runtime id the workspace was made for */
};

struct pool {
    pthread_mutex_t mu;
    pthread_cond_t work_cv;
    pthread_cond_t done_cv;
    struct job **q;
    size_t cap, head, count;
    int quit;
    size_t idle;      /* workers waiting for work */
    int main_waiting; /* the pipeline thread waits for a job to finish */
    pthread_t *threads;
    size_t nthreads;
    struct nc_pipeline *p;
};

struct nc_pipeline {
    struct nc_pipeline_opts o;
    const nc_config *cfg; /* start-up config: kafka.*, limits.* */
    nc_log *log;
    nc_metrics *metrics; /* o.metrics */
    nc_notify *notify;   /* o.notify */
    nc_kafka_in *in;
    nc_kafka_out *out;
    nc_commit *commit;
    struct runtime *rt;
    unsigned long next_rt_id;
    size_t max_article;
    size_t max_message;

    struct part *parts, *retired, *last_part;
    struct job *fifo_head, *fifo_tail;
    size_t fifo_len;
    struct job *dl_queue; /* jobs awaiting a dead-letter produce (from reports) */
    size_t inflight;      /* jobs consumed and not yet freed */

    struct pool pool;
    int use_pool;
    struct wctx inline_ctx;

    volatile sig_atomic_t fatal;
    char fatal_msg[512];
    int shutting_down;

    long long over_since; /* when inflight reached the total bound, 0: not */
    unsigned long long n_in, n_out, n_dead, n_acked, n_records;
    long long last_stats;
};

static void set_fatal(nc_pipeline *p, const char *fmt, ...) NC_PRINTF(2, 3);

static void set_fatal(nc_pipeline *p, const char *fmt, ...)
{
    va_list ap;
    if (p->fatal)
        return;
    va_start(ap, fmt);
    vsnprintf(p->fatal_msg, sizeof(p->fatal_msg), fmt, ap);
    va_end(ap);
    p->fatal = 1;
    nc_metrics_fatal(p->metrics, p->fatal_msg); /* /readyz says why */
    nc_log_error(p->log, "fatal: %s", p->fatal_msg);
}

/* ---- runtime ---- */

static void runtime_unref(struct runtime *rt)
{
    if (!rt || --rt->refs > 0)
        return;
    nc_model_free(rt->model);
    nc_config_free(rt->cfg_owned);
    for (size_t i = 0; i < NC_MAX_LABELS; i++) {
        free(rt->dests[i]);
        free(rt->label_topics[i]);
    }
    free(rt->topics);
    free(rt);
}

static int add_topic(struct runtime *rt, const char *t)
{
    if (!t)
        return 0;
    for (size_t i = 0; i < rt->ntopics; i++)
        if (!strcmp(rt->topics[i], t)) // NOLINT(clang-analyzer-core.NonNullParamChecker): only non-NULL topics are added
            return 0;
    rt->topics[rt->ntopics++] = t;
    return 0;
}

static int add_dest(struct runtime *rt, size_t label, const char *topic, double min_prob)
{
    struct dest *d;
    for (size_t i = 0; i < rt->ndests[label]; i++)
        if (!strcmp(rt->dests[label][i].topic, topic)) {
            /* The same topic twice: the more permissive route wins. */
            if (min_prob < rt->dests[label][i].min_prob)
                rt->dests[label][i].min_prob = min_prob;
            return 0;
        }
    d = realloc(rt->dests[label], (rt->ndests[label] + 1) * sizeof(*d));
    if (!d)
        return -1;
    rt->dests[label] = d;
    d[rt->ndests[label]].topic = topic;
    d[rt->ndests[label]].min_prob = min_prob;
    rt->ndests[label]++;
    return 0;
}

/* Loads cfg's model and builds the routing table. Takes ownership of
 * cfg_owned (may be NULL when cfg is the start-up config). */
static struct runtime *runtime_new(nc_pipeline *p, const nc_config *cfg, nc_config *cfg_owned,
                                   char *err, size_t errlen)
{
    struct runtime *rt = calloc(1, sizeof(*rt));
    const struct nc_config_outputs *oc = &cfg->outputs;

    if (!rt) {
        nc_config_free(cfg_owned);
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    rt->refs = 1;
    rt->id = ++p->next_rt_id;
    rt->cfg = cfg;
    rt->cfg_owned = cfg_owned;
    if (p->o.passthrough) {
        rt->aggregate = oc->aggregate.topic;
        rt->topics = calloc(1, sizeof(*rt->topics));
        if (!rt->topics)
            goto oom;
        add_topic(rt, rt->aggregate);
        return rt;
    }
    if (nc_model_load(cfg->model.path, &rt->model, err, errlen) != 0)
        goto fail;
    for (size_t i = 0; i < cfg->model.n_thresholds; i++)
        if (nc_model_set_threshold(rt->model, cfg->model.thresholds[i].label,
                                   cfg->model.thresholds[i].probability, err, errlen) != 0)
            goto fail;
    rt->nlabels = nc_model_nlabels(rt->model);
    snprintf(rt->model_header, sizeof(rt->model_header), "%s %s", nc_model_name(rt->model),
             nc_model_version(rt->model));
    rt->enc.article_mode = (enum nc_article_mode)oc->article_fields;
    rt->enc.fields = (const char *const *)oc->fields;
    rt->enc.nfields = oc->n_fields;
    rt->aggregate = oc->aggregate.enabled ? oc->aggregate.topic : NULL;
    rt->deadletter = oc->deadletter.enabled ? oc->deadletter.topic : NULL;
    rt->topics = calloc(2 + rt->nlabels + oc->n_routes, sizeof(*rt->topics));
    if (!rt->topics)
        goto oom;
    if (rt->aggregate)
        add_topic(rt, rt->aggregate);
    for (size_t i = 0; i < rt->nlabels; i++) {
        const char *label = nc_model_label(rt->model, i);
        size_t n;
        if (!oc->labels.enabled)
            continue;
        n = strlen(oc->labels.topic_prefix) + strlen(label) + 1;
        rt->label_topics[i] = malloc(n);
        if (!rt->label_topics[i])
            goto oom;
        snprintf(rt->label_topics[i], n, "%s%s", oc->labels.topic_prefix, label);
        if (add_dest(rt, i, rt->label_topics[i], -1.0) != 0)
            goto oom;
        add_topic(rt, rt->label_topics[i]);
    }
    for (size_t r = 0; r < oc->n_routes; r++) {
        const nc_route *route = &oc->routes[r];
        int li = nc_model_label_index(rt->model, route->label);
        if (li < 0) {
            snprintf(err, errlen, "outputs.routes: label \"%s\" is not a label of model %s",
                     route->label, rt->model_header);
            goto fail;
        }
        if (add_dest(rt, (size_t)li, route->topic,
                     nc_config_route_min(cfg, route, nc_model_threshold(rt->model, (size_t)li))) !=
            0)
            goto oom;
        add_topic(rt, route->topic);
    }
    if (rt->deadletter)
        add_topic(rt, rt->deadletter);
    return rt;
oom:
    snprintf(err, errlen, "out of memory");
fail:
    runtime_unref(rt);
    return NULL;
}

/* Waits for the brokers (retrying until *stop) and checks (or creates) every
 * output topic of rt. once: a single attempt (reload). */
static int check_topics(nc_pipeline *p, struct runtime *rt, int once, char *err, size_t errlen)
{
    int backoff = 1000;

    if (p->o.embedded) {
        /* The mock has no CreateTopics (docs/kafka.md): create them here. */
        for (size_t i = 0; i < rt->ntopics; i++)
            if (nc_embedded_create_topic(p->o.embedded, rt->topics[i], p->cfg->outputs.partitions,
                                         err, errlen) != 0)
                return -1;
    }
    for (;;) {
        int rc = nc_kafka_out_check_topics(
            p->out, rt->topics, rt->ntopics, p->cfg->outputs.create_topics,
            p->cfg->outputs.partitions, p->cfg->outputs.replication_factor, METADATA_TIMEOUT_MS,
            err, errlen);
        if (rc != -2 || once)
            return rc == 0 ? 0 : -1;
        nc_log_warn(p->log, "%s brokers=%s; retrying in %d ms", err, p->o.bootstrap, backoff);
        for (int waited = 0; waited < backoff; waited += 100) {
            struct timespec ts = {0, 100L * 1000 * 1000};
            if (*p->o.stop) {
                snprintf(err, errlen, "stopped while waiting for the brokers");
                return -1;
            }
            nc_notify_tick(p->notify); /* READY was sent: the watchdog runs */
            nanosleep(&ts, NULL);
        }
        if (backoff < 10000)
            backoff *= 2;
    }
}

/* ---- classification (workers or inline) ---- */

static void job_dead(struct job *j, const char *reason, const char *detail)
{
    j->kind = JOB_DEAD;
    j->reason = reason;
    if (detail != j->detail)
        snprintf(j->detail, sizeof(j->detail), "%s", detail);
}

static void classify_job(const nc_pipeline *p, struct wctx *w, struct job *j)
{
    const rd_kafka_message_t *m = j->msg;
    const struct runtime *rt = j->rt;
    nc_result res;
    struct nc_input_meta meta;
    struct nc_encode_opts enc;
    enum nc_article_error ae;
    char labels[NC_MAX_LABELS * NC_LABEL_MAX];
    const char *id;

    if (p->o.passthrough) {
        j->kind = JOB_PASS;
        return;
    }
    ae = nc_article_parse(w->art, m->payload ? (const char *)m->payload : "", m->len,
                          p->max_article, j->detail, sizeof(j->detail));
    if (ae != NC_ART_OK) {
        job_dead(j, nc_article_reason(ae), j->detail);
        return;
    }
    if (!w->ws || w->ws_rt != rt->id) {
        nc_workspace_free(w->ws);
        w->ws = nc_workspace_new(rt->model);
        w->ws_rt = rt->id;
        if (!w->ws) {
            job_dead(j, "classify_failed", "out of memory");
            return;
        }
    }
    if (nc_model_classify(rt->model, w->ws, w->art, &res, j->detail, sizeof(j->detail)) != 0) {
        job_dead(j, "classify_failed", j->detail);
        return;
    }
    meta.topic = rd_kafka_topic_name(m->rkt);
    meta.partition = m->partition;
    meta.offset = m->offset;
    meta.timestamp_ms = rd_kafka_message_timestamp(m, NULL);
    meta.classified_at_ms = nc_wall_ms();
    enc = rt->enc;
    enc.input = &meta;
    j->value =
        nc_encode_result(rt->model, w->art, &res, &enc, &j->vlen, j->detail, sizeof(j->detail));
    if (!j->value) {
        job_dead(j, "encode_failed", j->detail);
        return;
    }
    id = nc_article_id(w->art);
    nc_encode_labels_csv(rt->model, &res, labels, sizeof(labels));
    j->labels_csv = strdup(labels);
    j->id = id ? strdup(id) : NULL;
    j->dests = calloc(1 + rt->nlabels * 2 + rt->cfg->outputs.n_routes, sizeof(*j->dests));
    if (!j->labels_csv || (id && !j->id) || !j->dests) {
        job_dead(j, "classify_failed", "out of memory");
        return;
    }
    if (rt->aggregate)
        j->dests[j->ndests++] = rt->aggregate;
    if (res.skipped == NC_SKIP_NONE) {
        for (size_t i = 0; i < rt->nlabels && i < res.nlabels; i++)
            for (size_t k = 0; k < rt->ndests[i]; k++) {
                const struct dest *d = &rt->dests[i][k];
                int on = d->min_prob < 0 ? res.on[i] : res.prob[i] >= d->min_prob;
                int dup = 0;
                if (!on || !d->topic)
                    continue;
                for (size_t x = 0; x < j->ndests; x++)
                    dup |= !strcmp(j->dests[x], d->topic); // NOLINT(clang-analyzer-core.NonNullParamChecker): dests are non-NULL topics
                if (!dup)
                    j->dests[j->ndests++] = d->topic;
            }
    }
    j->kind = JOB_OUTPUT;
}

static void wctx_clear(struct wctx *w)
{
    nc_article_free(w->art);
    nc_workspace_free(w->ws);
    memset(w, 0, sizeof(*w));
}

static void *worker_main(void *arg)
{
    struct pool *pl = arg;
    struct wctx w = {0};

    w.art = nc_article_new();
    for (;;) {
        struct job *j;
        pthread_mutex_lock(&pl->mu);
        while (!pl->quit && pl->count == 0) {
            pl->idle++;
            pthread_cond_wait(&pl->work_cv, &pl->mu);
            pl->idle--;
        }
        if (pl->quit && pl->count == 0) {
            pthread_mutex_unlock(&pl->mu);
            break;
        }
        j = pl->q[pl->head];
        pl->head = (pl->head + 1) % pl->cap;
        pl->count--;
        pthread_mutex_unlock(&pl->mu);

        double t0 = nc_now();
        if (w.art)
            classify_job(pl->p, &w, j);
        else
            job_dead(j, "classify_failed", "out of memory");
        nc_metrics_classify_seconds(pl->p->metrics, nc_now() - t0);

        pthread_mutex_lock(&pl->mu);
        j->classified = 1;
        /* Wake-ups cost more than classifying on a small machine: only
         * when someone waits. */
        if (pl->main_waiting)
            pthread_cond_signal(&pl->done_cv);
        pthread_mutex_unlock(&pl->mu);
    }
    wctx_clear(&w);
    return NULL;
}

static int pool_start(nc_pipeline *p, size_t nthreads, size_t cap, char *err, size_t errlen)
{
    struct pool *pl = &p->pool;

    pl->p = p;
    pl->cap = cap;
    pl->q = calloc(cap, sizeof(struct job *));
    pl->threads = calloc(nthreads, sizeof(*pl->threads));
    if (!pl->q || !pl->threads) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    pthread_mutex_init(&pl->mu, NULL);
    pthread_cond_init(&pl->work_cv, NULL);
    pthread_cond_init(&pl->done_cv, NULL);
    p->use_pool = 1;
    for (size_t i = 0; i < nthreads; i++) {
        if (pthread_create(&pl->threads[i], NULL, worker_main, pl) != 0) {
            snprintf(err, errlen, "cannot start worker threads");
            return -1;
        }
        pl->nthreads++;
    }
    return 0;
}

static void pool_stop(nc_pipeline *p)
{
    struct pool *pl = &p->pool;
    if (!p->use_pool)
        return;
    pthread_mutex_lock(&pl->mu);
    pl->quit = 1;
    pthread_cond_broadcast(&pl->work_cv);
    pthread_mutex_unlock(&pl->mu);
    for (size_t i = 0; i < pl->nthreads; i++)
        pthread_join(pl->threads[i], NULL);
    pthread_cond_destroy(&pl->done_cv);
    pthread_cond_destroy(&pl->work_cv);
    pthread_mutex_destroy(&pl->mu);
    free(pl->threads);
    free(pl->q);
    p->use_pool = 0;
}

/* ---- partitions ---- */

static struct part *part_find(nc_pipeline *p, const char *topic, int32_t partition)
{
    struct part *pt = p->last_part;
    if (pt && pt->partition == partition && !strcmp(pt->topic, topic))
        return pt;
    for (pt = p->parts; pt; pt = pt->next)
        if (pt->partition == partition && !strcmp(pt->topic, topic)) {
            p->last_part = pt;
            return pt;
        }
    return NULL;
}

static void job_free(nc_pipeline *p, struct job *j)
{
    if (j->msg)
        rd_kafka_message_destroy(j->msg);
    runtime_unref(j->rt);
    free(j->value);
    free(j->id);
    free(j->labels_csv);
    free(j->dests);
    free(j);
    p->inflight--;
}

static void part_free(nc_pipeline *p, struct part *pt)
{
    while (pt->head) {
        struct job *j = pt->head;
        pt->head = j->part_next;
        job_free(p, j);
    }
    free(pt->topic);
    free(pt);
}

/* Moves the watermark over the leading done jobs and tells the commit
 * strategy (delivery reports arrive out of order; this is what makes the
 * stored offset contiguous). */
static void part_advance(nc_pipeline *p, struct part *pt)
{
    int64_t next = -1;
    char err[512];

    while (pt->head && pt->head->done) {
        struct job *j = pt->head;
        pt->head = j->part_next;
        if (!pt->head)
            pt->tail = NULL;
        next = j->offset + 1;
        pt->count--;
        job_free(p, j);
    }
    if (next >= 0 && pt->assigned &&
        nc_commit_advance(p->commit, pt->topic, pt->partition, next, err, sizeof(err)) != 0)
        nc_log_warn(p->log, "%s", err);
}

/* Forgets a revoked partition: its leftover jobs (unacknowledged) stay
 * reachable from the retired list until they finish or the pipeline ends. */
static void part_retire(nc_pipeline *p, struct part *pt)
{
    struct part **pp = &p->parts;
    while (*pp && *pp != pt)
        pp = &(*pp)->next;
    if (*pp)
        *pp = pt->next;
    if (p->last_part == pt)
        p->last_part = NULL;
    pt->assigned = 0;
    pt->paused = 0;
    if (!pt->head) {
        part_free(p, pt);
        return;
    }
    pt->next = p->retired;
    p->retired = pt;
}

static void sweep_retired(nc_pipeline *p)
{
    struct part **pp = &p->retired;
    while (*pp) {
        struct part *pt = *pp;
        part_advance(p, pt);
        if (!pt->head) {
            *pp = pt->next;
            part_free(p, pt);
        } else {
            pp = &pt->next;
        }
    }
}

static void job_finish_check(nc_pipeline *p, struct job *j)
{
    if (j->pending > 0 || j->failed || j->need_dl || j->done)
        return;
    j->done = 1;
    nc_metrics_input_done(p->metrics, j->msg ? rd_kafka_message_timestamp(j->msg, NULL) : 0);
    if (j->part)
        part_advance(p, j->part);
}

/* ---- producing ---- */

static rd_kafka_headers_t *copy_headers(const rd_kafka_message_t *m)
{
    rd_kafka_headers_t *in = NULL, *h;
    if (rd_kafka_message_headers(m, &in) == RD_KAFKA_RESP_ERR_NO_ERROR && in)
        h = rd_kafka_headers_copy(in);
    else
        h = rd_kafka_headers_new(8);
    return h;
}

static void set_header(rd_kafka_headers_t *h, const char *name, const char *value)
{
    /* An input that went through newsclf before must not carry two values. */
    rd_kafka_header_remove(h, name);
    rd_kafka_header_add(h, name, -1, value, -1);
}

static int64_t msg_ts(const rd_kafka_message_t *m)
{
    int64_t ts = rd_kafka_message_timestamp(m, NULL);
    return ts > 0 ? ts : 0;
}

/* A produce call failed for good (not per message). Returns 1 when that
 * is only the stop request cutting a full-queue wait short: the input stays
 * uncommitted and is processed again after a restart, nothing is fatal. */
static int stopped_while_full(nc_pipeline *p, rd_kafka_resp_err_t r)
{
    return r == RD_KAFKA_RESP_ERR__QUEUE_FULL && *p->o.stop;
}

#define DL_TAG ((uintptr_t)1)

/* Produces the dead-letter record of j: the original bytes (cut to fit),
 * the input headers and the newsclf-error* / newsclf-source-* headers. */
static int produce_deadletter(nc_pipeline *p, struct job *j, const char *reason, const char *detail)
{
    const rd_kafka_message_t *m = j->msg;
    const char *dl = j->rt->deadletter;
    rd_kafka_headers_t *h;
    rd_kafka_resp_err_t r;
    char num[32];
    size_t len = m->len, limit, hdr_bytes = 0;
    rd_kafka_headers_t *inh = NULL;

    if (!dl) {
        /* Dead-lettering disabled: the operator chose to drop bad input. */
        nc_log_warn(p->log, "dropping input error=%s topic=%s partition=%d offset=%" PRId64 ": %s",
                    reason, rd_kafka_topic_name(m->rkt), (int)m->partition, m->offset, detail);
        nc_metrics_deadlettered(p->metrics, reason);
        return 0;
    }
    if (rd_kafka_message_headers(m, &inh) == RD_KAFKA_RESP_ERR_NO_ERROR && inh) {
        const char *name;
        const void *val;
        size_t vsz;
        for (size_t i = 0; !rd_kafka_header_get_all(inh, i, &name, &val, &vsz); i++)
            hdr_bytes += strlen(name) + vsz + 16;
    }
    /*
     * A poison message must not stop the daemon: its key or headers alone
     * may exceed what the broker accepts, and a refused dead letter is
     * fatal. Long keys are cut and oversized input headers dropped, each
     * noted in a header of ours.
     */
    size_t key_len = m->key_len;
    const size_t key_max = 1024;
    int drop_headers = hdr_bytes > p->max_message / 4;
    if (key_len > key_max)
        key_len = key_max;
    if (drop_headers)
        hdr_bytes = 0;
    /* Room for the key, the headers (ours: < DETAIL_MAX + 512) and record
     * overhead; the rest is for the bytes. */
    limit = p->max_message > hdr_bytes + key_len + DETAIL_MAX + 1024
                ? p->max_message - hdr_bytes - key_len - DETAIL_MAX - 1024
                : 0;
    h = drop_headers ? rd_kafka_headers_new(8) : copy_headers(m);
    if (!h)
        return -1;
    if (drop_headers)
        set_header(h, "newsclf-headers-dropped", "input headers too large");
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
    j->pending++;
    /* The delivery opaque is the job pointer tagged in its low bit (jobs are
     * at least 2-aligned) to tell dead letters apart without an allocation. */
    r = nc_kafka_out_produce(p->out, dl, m->key, key_len, m->payload, len, h, msg_ts(m),
                             (void *)((uintptr_t)j | DL_TAG), // NOLINT(performance-no-int-to-ptr)
                             p->o.stop);
    if (r) {
        j->pending--;
        j->failed = 1;
        /* Refused for good (per message): fatal in both modes, exactly-once
         * would only come back to it. */
        if ((!nc_kafka_err_is_per_message(r) && nc_commit_output_failed(p->commit, m, dl, r)) ||
            stopped_while_full(p, r))
            return -1;
        set_fatal(p,
                  "dead-letter produce failed topic=%s error=%s source=%s/%d/%" PRId64
                  "; not committing past it",
                  dl, rd_kafka_err2str(r), rd_kafka_topic_name(m->rkt), (int)m->partition,
                  m->offset);
        return -1;
    }
    j->dl_sent = 1;
    p->n_dead++;
    nc_metrics_deadlettered(p->metrics, reason);
    p->n_records++;
    nc_log_debug(p->log, "dead-letter error=%s topic=%s partition=%d offset=%" PRId64 ": %s",
                 reason, rd_kafka_topic_name(m->rkt), (int)m->partition, m->offset, detail);
    return 0;
}

/* Produces j's records; begun is nc_commit_begin's answer for it (err its
 * message). */
static void produce_job(nc_pipeline *p, struct job *j, int begun, const char *err)
{
    const rd_kafka_message_t *m = j->msg;

    j->pending = 1; /* guard: no early "done" while records are produced */
    if (begun == NC_COMMIT_DEADLETTER) {
        /* Exactly-once: its outputs were refused for good in several
         * transactions in a row (commit.h): dead-letter it in this one. */
        if (!j->rt->deadletter) {
            j->failed = 1;
            set_fatal(p,
                      "input %s/%d/%" PRId64 ": %s; outputs.deadletter is disabled: not "
                      "committing past it",
                      rd_kafka_topic_name(m->rkt), (int)m->partition, m->offset, err);
            return;
        }
        nc_log_warn(p->log,
                    "input topic=%s partition=%d offset=%" PRId64 " goes to the dead-letter "
                    "topic %s: %s",
                    rd_kafka_topic_name(m->rkt), (int)m->partition, m->offset, j->rt->deadletter,
                    err);
        produce_deadletter(p, j, "produce_failed", err);
    } else if (begun != 0) {
        if (begun < 0)
            set_fatal(p, "%s", err);
        j->failed = 1; /* NC_COMMIT_SKIP: dropped by the coming rewind, redone */
        return;
    } else if (j->kind == JOB_PASS) {
        rd_kafka_resp_err_t r;
        j->pending++;
        r = nc_kafka_out_produce(p->out, j->rt->aggregate, m->key, m->key_len, m->payload, m->len,
                                 copy_headers(m), msg_ts(m), j, p->o.stop);
        if (r) {
            j->pending--;
            j->failed = 1;
            if (!nc_commit_output_failed(p->commit, m, j->rt->aggregate, r) &&
                !stopped_while_full(p, r))
                set_fatal(p, "produce to %s failed: %s", j->rt->aggregate, rd_kafka_err2str(r));
        } else {
            p->n_out++;
            p->n_records++;
        }
    } else if (j->kind == JOB_OUTPUT) {
        const void *key = j->id ? (const void *)j->id : m->key;
        size_t keylen = j->id ? strlen(j->id) : m->key_len;
        for (size_t i = 0; i < j->ndests && !j->need_dl; i++) {
            rd_kafka_headers_t *h = copy_headers(m);
            rd_kafka_resp_err_t r;
            if (!h) {
                set_fatal(p, "out of memory");
                break;
            }
            set_header(h, "newsclf-labels", j->labels_csv);
            set_header(h, "newsclf-model", j->rt->model_header);
            set_header(h, "content-type", "application/json");
            j->pending++;
            r = nc_kafka_out_produce(p->out, j->dests[i], key, keylen, j->value, j->vlen, h,
                                     msg_ts(m), j, p->o.stop);
            if (!r) {
                p->n_records++;
                continue;
            }
            j->pending--;
            if (nc_kafka_err_is_per_message(r) && j->rt->deadletter) {
                /* e.g. the output is larger than message.max.bytes. */
                j->need_dl = 1;
                snprintf(j->detail, sizeof(j->detail), "produce to %s: %s", j->dests[i],
                         rd_kafka_err2str(r));
            } else {
                j->failed = 1;
                if (nc_commit_output_failed(p->commit, m, j->dests[i], r) ||
                    stopped_while_full(p, r))
                    break;
                set_fatal(p, "produce to %s failed: %s (input %s/%d/%" PRId64 ")", j->dests[i],
                          rd_kafka_err2str(r), rd_kafka_topic_name(m->rkt), (int)m->partition,
                          m->offset);
                break;
            }
        }
        p->n_out++;
        nc_metrics_classified(p->metrics, j->labels_csv);
        if (j->need_dl && !j->failed) {
            j->need_dl = 0;
            produce_deadletter(p, j, "produce_failed", j->detail);
        }
    } else {
        produce_deadletter(p, j, j->reason, j->detail);
    }
    free(j->value);
    j->value = NULL;
    j->pending--;
    job_finish_check(p, j);
}

enum produce_mode {
    PRODUCE_READY, /* the classified jobs at the FIFO head */
    PRODUCE_BLOCK, /* every job, waiting for the workers (the main loop) */
    PRODUCE_ALL,   /* every job, committing when due however long it takes
                    * (revoke, shutdown, reload: nothing may stay behind) */
};

/* Exactly-once, PRODUCE_ALL: begin answered NC_COMMIT_WAIT, the open
 * transaction is due and takes no more input: commit it now, waiting for its
 * outputs (up to limits.shutdown_timeout_ms, then it is aborted). An abort
 * is not rewound here (this may run inside a rebalance callback): begin
 * answers NC_COMMIT_SKIP until the main loop's tick rewinds. */
static void commit_due(nc_pipeline *p)
{
    char err[512];
    if (nc_commit_checkpoint(p->commit, NC_CHECKPOINT_DUE, NULL,
                             p->cfg->limits.shutdown_timeout_ms, err, sizeof(err)) < 0)
        set_fatal(p, "%s", err);
}

/* Produces finished jobs from the FIFO head (see enum produce_mode). */
static void produce_ready(nc_pipeline *p, enum produce_mode mode)
{
    int wait = mode != PRODUCE_READY, committed = 0;

    while (p->fifo_head) {
        struct job *j = p->fifo_head;
        char err[512] = "";
        int begun = 0;
        if (p->use_pool) {
            int ready;
            pthread_mutex_lock(&p->pool.mu);
            while (!j->classified && wait) {
                p->pool.main_waiting = 1;
                pthread_cond_wait(&p->pool.done_cv, &p->pool.mu);
                p->pool.main_waiting = 0;
            }
            ready = j->classified;
            pthread_mutex_unlock(&p->pool.mu);
            if (!ready)
                return;
        }
        if (!p->fatal) {
            begun = nc_commit_begin(p->commit, j->msg, err, sizeof(err));
            if (begun == NC_COMMIT_WAIT) {
                /* Stop here: the main loop's next tick commits it (this
                 * call must not block on it, nor put more into it). Only
                 * PRODUCE_ALL cannot come back later. */
                if (mode != PRODUCE_ALL || committed)
                    return;
                committed = 1;
                commit_due(p);
                continue;
            }
            committed = 0;
        }
        p->fifo_head = j->fifo_next;
        p->fifo_len--;
        if (!p->fifo_head)
            p->fifo_tail = NULL;
        if (p->fatal)
            j->failed = 1; /* stopping: produce nothing more */
        else
            produce_job(p, j, begun, err);
    }
}

/* Re-produces jobs whose output was refused per message (from delivery
 * reports) to the dead-letter topic. */
static void process_dl_queue(nc_pipeline *p)
{
    while (p->dl_queue) {
        struct job *j = p->dl_queue;
        p->dl_queue = j->dl_next;
        j->dl_next = NULL;
        j->need_dl = 0;
        if (p->fatal)
            j->failed = 1;
        else if (!j->failed)
            produce_deadletter(p, j, "produce_failed", j->detail);
        j->pending--; /* the refused record */
        job_finish_check(p, j);
    }
}

static void on_delivery(void *owner, void *opaque, rd_kafka_resp_err_t err,
                        const rd_kafka_message_t *m)
{
    nc_pipeline *p = owner;
    int is_dl = ((uintptr_t)opaque & DL_TAG) != 0;
    struct job *j = (struct job *)((uintptr_t)opaque & ~DL_TAG); // NOLINT(performance-no-int-to-ptr): see produce_deadletter
    const char *topic = rd_kafka_topic_name(m->rkt);

    if (!err) {
        p->n_acked++;
        nc_metrics_produced(p->metrics, topic);
        j->pending--;
        job_finish_check(p, j);
        return;
    }
    if (err == RD_KAFKA_RESP_ERR__PURGE_QUEUE || err == RD_KAFKA_RESP_ERR__PURGE_INFLIGHT) {
        j->pending--;
        j->failed = 1;
        return;
    }
    if (is_dl && nc_kafka_err_is_per_message(err)) {
        /* A dead letter refused for good: stop (below) without committing
         * past it; exactly-once aborts the transaction as well. */
        nc_commit_output_failed(p->commit, j->msg, topic, err);
    } else if (nc_commit_output_failed(p->commit, j->msg, topic, err)) {
        /* Exactly-once: the transaction is aborted and the input redone
         * (dead-lettered after repeated refusals, commit.h). */
        j->pending--;
        j->failed = 1;
        return;
    }
    if (!is_dl && nc_kafka_err_is_per_message(err) && j->rt->deadletter && !j->dl_sent &&
        !j->need_dl) {
        /* Keep the refused record counted in pending until the dead-letter
         * record is produced (process_dl_queue), so the job cannot finish
         * in between. */
        j->need_dl = 1;
        snprintf(j->detail, sizeof(j->detail), "produce to %s: %s", topic, rd_kafka_err2str(err));
        j->dl_next = p->dl_queue;
        p->dl_queue = j;
        return;
    }
    j->pending--;
    j->failed = 1;
    nc_metrics_delivery_failed(p->metrics, topic);
    set_fatal(
        p, "%s delivery failed topic=%s error=%s (input %s/%d/%" PRId64 "); not committing past it",
        is_dl ? "dead-letter" : "output", topic, rd_kafka_err2str(err),
        j->msg ? rd_kafka_topic_name(j->msg->rkt) : "?", j->msg ? (int)j->msg->partition : -1,
        j->offset);
}

static void serve_deliveries(nc_pipeline *p, int timeout_ms)
{
    char err[512];
    nc_kafka_out_poll(p->out, timeout_ms);
    process_dl_queue(p);
    if (!p->fatal && nc_kafka_out_fatal(p->out, err, sizeof(err)))
        set_fatal(p, "producer: %s", err);
}

/* ---- consuming ---- */

static void dispatch(nc_pipeline *p, rd_kafka_message_t *m)
{
    const char *topic = rd_kafka_topic_name(m->rkt);
    struct part *pt = part_find(p, topic, m->partition);
    struct job *j;

    if (!pt) {
        /* Not in our assignment (any more): someone else processes it. */
        rd_kafka_message_destroy(m);
        return;
    }
    j = calloc(1, sizeof(*j));
    if (!j) {
        set_fatal(p, "out of memory");
        rd_kafka_message_destroy(m);
        return;
    }
    j->msg = m;
    j->offset = m->offset;
    j->part = pt;
    j->rt = p->rt;
    p->rt->refs++;
    if (pt->tail)
        pt->tail->part_next = j;
    else
        pt->head = j;
    pt->tail = j;
    pt->count++;
    p->inflight++;
    p->n_in++;
    nc_metrics_consumed(p->metrics, topic);
    if (p->fifo_tail)
        p->fifo_tail->fifo_next = j;
    else
        p->fifo_head = j;
    p->fifo_tail = j;
    p->fifo_len++;

    if (p->use_pool) {
        struct pool *pl = &p->pool;
        pthread_mutex_lock(&pl->mu);
        pl->q[(pl->head + pl->count) % pl->cap] = j;
        pl->count++;
        if (pl->idle > 0)
            pthread_cond_signal(&pl->work_cv);
        pthread_mutex_unlock(&pl->mu);
    } else {
        double t0 = nc_now();
        classify_job(p, &p->inline_ctx, j);
        nc_metrics_classify_seconds(p->metrics, nc_now() - t0);
        j->classified = 1;
    }
}

static void on_assigned(void *owner, const rd_kafka_topic_partition_list_t *parts)
{
    nc_pipeline *p = owner;
    nc_metrics_rebalance(p->metrics, "assigned", parts->cnt);
    for (int i = 0; i < parts->cnt; i++) {
        struct part *pt;
        if (part_find(p, parts->elems[i].topic, parts->elems[i].partition))
            continue;
        pt = calloc(1, sizeof(*pt));
        if (!pt || !(pt->topic = strdup(parts->elems[i].topic))) {
            free(pt);
            set_fatal(p, "out of memory");
            return;
        }
        pt->partition = parts->elems[i].partition;
        pt->assigned = 1;
        pt->next = p->parts;
        p->parts = pt;
    }
}

static int parts_busy(nc_pipeline *p, const rd_kafka_topic_partition_list_t *parts)
{
    for (int i = 0; i < parts->cnt; i++) {
        struct part *pt = part_find(p, parts->elems[i].topic, parts->elems[i].partition);
        for (struct job *j = pt ? pt->head : NULL; j; j = j->part_next)
            if (!j->done && !j->failed)
                return 1;
    }
    return 0;
}

/* Before partitions go away: finish and acknowledge what was consumed from
 * them, store, commit. Bounded by limits.shutdown_timeout_ms so a dead broker
 * cannot keep a rebalance (or a shutdown) waiting for ever. */
static void on_revoking(void *owner, const rd_kafka_topic_partition_list_t *parts, int lost)
{
    nc_pipeline *p = owner;
    char err[512];

    nc_metrics_rebalance(p->metrics, lost ? "lost" : "revoked", parts->cnt);
    if (!lost) {
        long long deadline = nc_now_ms() + p->cfg->limits.shutdown_timeout_ms;
        produce_ready(p, PRODUCE_ALL);
        while (!p->fatal && parts_busy(p, parts) && nc_now_ms() < deadline)
            serve_deliveries(p, 50);
        if (parts_busy(p, parts))
            nc_log_warn(p->log, "revoke: some outputs unacknowledged; their inputs are not "
                                "committed and will be processed again by the next owner");
        if (nc_commit_checkpoint(
                p->commit, NC_CHECKPOINT_REVOKE, parts,
                (int)(deadline - nc_now_ms() > 1000 ? deadline - nc_now_ms() : 1000), err,
                sizeof(err)) != 0)
            nc_log_warn(p->log, "revoke: %s", err);
    } else if (nc_commit_checkpoint(p->commit, NC_CHECKPOINT_LOST, parts,
                                    p->cfg->limits.shutdown_timeout_ms, err, sizeof(err)) != 0) {
        set_fatal(p, "partitions lost: %s", err);
    }
    for (int i = 0; i < parts->cnt; i++) {
        struct part *pt = part_find(p, parts->elems[i].topic, parts->elems[i].partition);
        if (pt)
            part_retire(p, pt);
    }
}

/*
 * Pauses partitions over a bound and resumes the ones we paused once they
 * are below half of it. The total bound first only stops consumption while
 * delivery reports are served (see nc_pipeline_run); partitions are paused
 * for it when no room came for STALL_PAUSE_MS. Pausing drops the consumer's
 * prefetched messages and resuming fetches them again, so pausing at every
 * brief overshoot would cost more than the bound saves.
 */
static void flow_control(nc_pipeline *p)
{
    size_t per = p->cfg->limits.max_inflight_per_partition;
    size_t total = p->cfg->limits.max_inflight_total;
    long long now = nc_now_ms();
    int stalled;

    if (p->inflight >= total) {
        if (!p->over_since)
            p->over_since = now;
    } else if (p->inflight <= total / 2) {
        p->over_since = 0;
    }
    stalled = p->over_since && now - p->over_since >= STALL_PAUSE_MS;
    for (struct part *pt = p->parts; pt; pt = pt->next) {
        int over = pt->count >= per || stalled;
        int under = pt->count <= per / 2 && p->inflight <= total / 2;
        if (!pt->paused && over) {
            if (nc_kafka_in_pause(p->in, pt->topic, pt->partition, 1) == 0) {
                pt->paused = 1;
                nc_log_debug(p->log, "paused topic=%s partition=%d inflight=%zu total=%zu",
                             pt->topic, (int)pt->partition, pt->count, p->inflight);
            }
        } else if (pt->paused && under) {
            if (nc_kafka_in_pause(p->in, pt->topic, pt->partition, 0) == 0) {
                pt->paused = 0;
                nc_log_debug(p->log, "resumed topic=%s partition=%d", pt->topic,
                             (int)pt->partition);
            }
        }
    }
}

static void consumer_error(nc_pipeline *p, rd_kafka_message_t *m)
{
    const char *topic = m->rkt ? rd_kafka_topic_name(m->rkt) : "-";
    switch (m->err) {
    case RD_KAFKA_RESP_ERR__PARTITION_EOF:
        break;
    case RD_KAFKA_RESP_ERR__AUTO_OFFSET_RESET:
    case RD_KAFKA_RESP_ERR_OFFSET_OUT_OF_RANGE:
        /* auto.offset.reset=error: the committed offset is gone (retention,
         * or the mock's 5 MiB limit). Stop rather than skip data silently. */
        set_fatal(p, "consumer topic=%s partition=%d: %s", topic, (int)m->partition,
                  rd_kafka_message_errstr(m));
        break;
    default:
        nc_log_warn(p->log, "consumer topic=%s partition=%d error=%s: %s", topic, (int)m->partition,
                    rd_kafka_err2name(m->err), rd_kafka_message_errstr(m));
    }
    rd_kafka_message_destroy(m);
}

/* ---- exactly-once: abort and rewind (commit.h) ---- */

/* The transaction was aborted: every job in flight is dropped (its outputs
 * went with the transaction, or were never produced) and the consumer is
 * sought back to the committed offsets, so the same inputs come again. */
static int rewind_jobs(nc_pipeline *p, char *err, size_t errlen)
{
    long long deadline = nc_now_ms() + p->cfg->limits.shutdown_timeout_ms;

    /* Workers may still hold jobs of the FIFO. */
    for (struct job *j = p->fifo_head; j && p->use_pool; j = j->fifo_next) {
        pthread_mutex_lock(&p->pool.mu);
        while (!j->classified) {
            p->pool.main_waiting = 1;
            pthread_cond_wait(&p->pool.done_cv, &p->pool.mu);
            p->pool.main_waiting = 0;
        }
        pthread_mutex_unlock(&p->pool.mu);
    }
    /* Delivery reports of purged outputs still name their jobs. */
    while (nc_kafka_out_pending(p->out) > 0 && nc_now_ms() < deadline)
        serve_deliveries(p, 50);
    if (nc_kafka_out_pending(p->out) > 0) {
        snprintf(err, errlen, "rewind: %d outputs still unsettled after the abort",
                 nc_kafka_out_pending(p->out));
        return -1;
    }
    p->fifo_head = p->fifo_tail = NULL;
    p->fifo_len = 0;
    p->dl_queue = NULL;
    for (struct part *pt = p->parts; pt; pt = pt->next) {
        while (pt->head) {
            struct job *j = pt->head;
            pt->head = j->part_next;
            job_free(p, j);
        }
        pt->tail = NULL;
        pt->count = 0;
    }
    while (p->retired) {
        struct part *pt = p->retired;
        p->retired = pt->next;
        part_free(p, pt);
    }
    p->over_since = 0;
    return nc_commit_rewind(p->commit, err, errlen);
}

/* Every loop iteration: the strategy commits when due (exactly-once: every
 * N messages or T ms); after an abort the pipeline rewinds. */
static void commit_tick(nc_pipeline *p)
{
    char err[512];
    int rc = nc_commit_checkpoint(p->commit, NC_CHECKPOINT_TICK, NULL,
                                  p->cfg->limits.shutdown_timeout_ms, err, sizeof(err));
    if (rc == NC_COMMIT_REWIND)
        rc = rewind_jobs(p, err, sizeof(err));
    if (rc < 0)
        set_fatal(p, "%s", err);
}

/* ---- reload ---- */

static void do_reload(nc_pipeline *p)
{
    char err[NC_CONFIG_ERRLEN], diff[2048];
    nc_config *cfg;
    struct runtime *rt;

    nc_log_info(p->log, "reload requested");
    if (!p->o.load_config) {
        nc_log_warn(p->log, "reload: no configuration source; nothing to do");
        return;
    }
    cfg = p->o.load_config(p->o.load_config_arg, err, sizeof(err));
    if (!cfg) {
        nc_log_error(p->log, "reload refused, keeping the running config and model: %s", err);
        return;
    }
    if (nc_config_diff(p->cfg, cfg, true, diff, sizeof(diff)) > 0) {
        for (char *s = diff; *s; s++)
            if (*s == '\n')
                *s = ' ';
        nc_log_warn(p->log, "reload: these keys need a restart and keep their old values: %s",
                    diff);
    }
    rt = runtime_new(p, cfg, cfg, err, sizeof(err));
    if (!rt) {
        nc_log_error(p->log, "reload refused, keeping model %s: %s",
                     p->rt->model_header[0] ? p->rt->model_header : "(passthrough)", err);
        return;
    }
    if (check_topics(p, rt, 1, err, sizeof(err)) != 0) {
        nc_log_error(p->log, "reload refused, keeping model %s: %s", p->rt->model_header, err);
        runtime_unref(rt);
        return;
    }
    /* The swap: jobs dispatched from now on use rt; earlier ones keep the
     * snapshot they hold a reference to. */
    runtime_unref(p->rt);
    p->rt = rt;
    nc_log_set_level(p->log, cfg->logging.level);
    nc_log_info(p->log, "reloaded model=\"%s\" dir=%s outputs=%zu", rt->model_header,
                rt->model ? nc_model_dir(rt->model) : "-", rt->ntopics);
}

/* ---- lifecycle ---- */

int nc_pipeline_new(const struct nc_pipeline_opts *opts, nc_pipeline **out, char *err,
                    size_t errlen)
{
    nc_pipeline *p = calloc(1, sizeof(*p));
    struct nc_kafka_in_hooks hooks;

    *out = NULL;
    if (!p) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    p->o = *opts;
    p->cfg = opts->cfg;
    p->log = opts->log;
    p->metrics = opts->metrics;
    p->notify = opts->notify;
    p->max_article = p->cfg->limits.max_article_bytes;
    if (p->cfg->kafka.delivery == NC_DELIVERY_EXACTLY_ONCE) {
        char txn_id[512]; /* fail before the model load: kafka.instance_id is required */
        if (nc_kafka_transactional_id(p->cfg, txn_id, sizeof(txn_id), err, errlen) != 0)
            goto fail;
    }
    p->rt = runtime_new(p, p->cfg, NULL, err, errlen);
    if (!p->rt)
        goto fail;
    if (p->rt->model)
        nc_log_info(p->log, "model loaded name=\"%s\" dir=%s labels=%zu", p->rt->model_header,
                    nc_model_dir(p->rt->model), p->rt->nlabels);
    nc_metrics_model(p->metrics, p->rt->model ? nc_model_name(p->rt->model) : NULL,
                     p->rt->model ? nc_model_version(p->rt->model) : NULL);
    {
        struct nc_kafka_out_opts oo = {
            .client = {.bootstrap = opts->bootstrap, .log = p->log, .stats = opts->stats},
            .dr = on_delivery,
            .owner = p,
        };
        if (nc_kafka_out_new(p->cfg, &oo, &p->out, err, errlen))
            goto fail;
        p->max_message = nc_kafka_out_max_message_bytes(p->out);
        hooks.owner = p;
        hooks.assigned = on_assigned;
        hooks.revoking = on_revoking;
        if (nc_kafka_in_new(p->cfg, &oo.client, &hooks, &p->in, err, errlen) != 0)
            goto fail;
    }
    /* Config, model and both clients are in place: every error that no
     * waiting can heal is behind us, so systemd hears READY now and not
     * after a broker that may be down for hours (/readyz and STATUS= say
     * "waiting for broker" meanwhile). The consumer is only polled once the
     * brokers answered and the output topics exist. */
    nc_notify_ready(p->notify, NULL);
    if (check_topics(p, p->rt, 0, err, errlen) != 0)
        goto fail;
    nc_metrics_broker_reachable(p->metrics, 1);
    p->commit = p->cfg->kafka.delivery == NC_DELIVERY_EXACTLY_ONCE
                    ? nc_commit_exactly_once_new(p->in, p->out, p->cfg, p->log)
                    : nc_commit_at_least_once_new(p->in, p->log);
    if (!p->commit) {
        snprintf(err, errlen, "out of memory");
        goto fail;
    }
    if (p->cfg->limits.workers > 0) {
        if (pool_start(p, p->cfg->limits.workers, p->cfg->limits.max_inflight_total + BATCH_MAX + 1,
                       err, errlen) != 0)
            goto fail;
    } else {
        p->inline_ctx.art = nc_article_new();
        if (!p->inline_ctx.art) {
            snprintf(err, errlen, "out of memory");
            goto fail;
        }
    }
    *out = p;
    return 0;
fail:
    nc_pipeline_free(p);
    return -1;
}

static void log_stats(nc_pipeline *p, const char *what)
{
    nc_log_info(p->log,
                "%s consumed=%llu classified=%llu deadlettered=%llu records=%llu acked=%llu "
                "inflight=%zu",
                what, p->n_in, p->n_out, p->n_dead, p->n_records, p->n_acked, p->inflight);
}

/* Orderly stop: produce what was consumed, wait for acknowledgements, commit,
 * leave the group. Returns 0 when everything consumed was acknowledged. */
static int drain(nc_pipeline *p)
{
    long long deadline = nc_now_ms() + p->cfg->limits.shutdown_timeout_ms;
    char err[512];
    int rc = 0, left;

    p->shutting_down = 1;
    produce_ready(p, PRODUCE_ALL);
    while (!p->fatal && nc_kafka_out_pending(p->out) > 0 && nc_now_ms() < deadline)
        serve_deliveries(p, 50);
    serve_deliveries(p, 0);
    if (nc_kafka_out_pending(p->out) > 0) {
        if (p->fatal)
            nc_log_warn(p->log,
                        "shutdown: %d output records unacknowledged at the fatal error; "
                        "their inputs stay uncommitted and will be processed again",
                        nc_kafka_out_pending(p->out));
        else
            nc_log_warn(p->log,
                        "shutdown: %d output records unacknowledged after %d ms; their "
                        "inputs stay uncommitted and will be processed again",
                        nc_kafka_out_pending(p->out), p->cfg->limits.shutdown_timeout_ms);
        rc = -1;
    }
    left = (int)(deadline - nc_now_ms());
    if (left < 2000)
        left = 2000;
    if (nc_commit_checkpoint(p->commit, NC_CHECKPOINT_SHUTDOWN, NULL, left, err, sizeof(err)) !=
        0) {
        nc_log_warn(p->log, "shutdown: %s", err);
        rc = -1;
    }
    left = (int)(deadline - nc_now_ms());
    if (left < 2000)
        left = 2000;
    if (nc_kafka_in_close(p->in, left) != 0)
        rc = -1;
    return rc;
}

int nc_pipeline_run(nc_pipeline *p, char *err, size_t errlen)
{
    int rc;

    nc_log_info(p->log, "running delivery=%s workers=%zu passthrough=%d", nc_commit_name(p->commit),
                p->cfg->limits.workers, p->o.passthrough);
    p->last_stats = nc_now_ms();
    while (!*p->o.stop && !p->fatal) {
        int busy = p->inflight >= p->cfg->limits.max_inflight_total;
        size_t n = 0;

        serve_deliveries(p, busy ? 10 : 0);
        commit_tick(p);
        if (p->retired)
            sweep_retired(p);
        nc_metrics_inflight(p->metrics, p->inflight);
        nc_notify_tick(p->notify);
        if (*p->o.reload) {
            unsigned long before = p->rt->id; /* a new snapshot id: reloaded */
            *p->o.reload = 0;
            nc_notify_reloading(p->notify);
            produce_ready(p, PRODUCE_ALL);
            do_reload(p);
            nc_metrics_reload(p->metrics, p->rt->id != before);
            if (p->rt->id != before && p->rt->model)
                nc_metrics_model(p->metrics, nc_model_name(p->rt->model),
                                 nc_model_version(p->rt->model));
            nc_notify_ready(p->notify, NULL);
        }
        flow_control(p);
        busy = p->inflight >= p->cfg->limits.max_inflight_total;
        /* Over the total bound and not yet paused for it: consume nothing;
         * produce what was classified and serve delivery reports (above)
         * until there is room. */
        if (busy && !(p->over_since && nc_now_ms() - p->over_since >= STALL_PAUSE_MS)) {
            produce_ready(p, PRODUCE_BLOCK);
            continue;
        }
        while (n < BATCH_MAX && !*p->o.stop && !p->fatal) {
            /* Block briefly only when there is nothing else to do. */
            int timeout = (n == 0 && !p->fifo_head && !busy) ? 50 : 0;
            rd_kafka_message_t *m = nc_kafka_in_poll(p->in, timeout);
            if (!m)
                break;
            if (m->err) {
                consumer_error(p, m);
                continue;
            }
            dispatch(p, m);
            n++;
            if (p->inflight >= p->cfg->limits.max_inflight_total)
                break;
        }
        /* With workers, produce what is classified and go on consuming while
         * they work on the rest; block only when there was nothing new to
         * consume (no busy loop) or the FIFO is long. */
        produce_ready(p, !p->use_pool || n == 0 || p->fifo_len >= (size_t)4 * BATCH_MAX
                             ? PRODUCE_BLOCK
                             : PRODUCE_READY);
        if (nc_now_ms() - p->last_stats >= STATS_EVERY_MS) {
            p->last_stats = nc_now_ms();
            log_stats(p, "progress");
        }
    }
    nc_log_info(p->log, "%s: draining", p->fatal ? "fatal error" : "stop requested");
    nc_metrics_stopping(p->metrics);
    nc_notify_stopping(p->notify);
    rc = drain(p);
    log_stats(p, "stopped");
    if (p->fatal) {
        snprintf(err, errlen, "%s", p->fatal_msg);
        return -1;
    }
    if (rc != 0) {
        snprintf(err, errlen,
                 "shutdown incomplete (see the log); nothing unacknowledged was "
                 "committed");
        return -1;
    }
    return 0;
}

void nc_pipeline_free(nc_pipeline *p)
{
    if (!p)
        return;
    pool_stop(p);
    /* Jobs still in the FIFO are also in their partition lists. */
    p->fifo_head = p->fifo_tail = NULL;
    p->fifo_len = 0;
    /* Purged records produce no reports (the owner callback is cut first). */
    nc_kafka_out_free(p->out);
    p->out = NULL;
    /* Jobs hold consumer messages: destroy them before the consumer. */
    while (p->parts) {
        struct part *pt = p->parts;
        p->parts = pt->next;
        part_free(p, pt);
    }
    while (p->retired) {
        struct part *pt = p->retired;
        p->retired = pt->next;
        part_free(p, pt);
    }
    nc_commit_free(p->commit);
    nc_kafka_in_free(p->in);
    wctx_clear(&p->inline_ctx);
    runtime_unref(p->rt);
    free(p);
}
