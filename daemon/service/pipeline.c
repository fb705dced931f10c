/*
 * pipeline.c - the pipeline's lifecycle and main loop: start-up, consuming
 * and dispatching messages as jobs, fatal errors, progress lines, and the
 * order of things at the end (see pipeline.h for the design and
 * pipeline_int.h for the other files).
 */
#include "service/pipeline.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/clock.h"
#include "service/pipeline_int.h"

#define STATS_EVERY_MS 30000

void pipeline_fatal(nc_pipeline *p, const char *fmt, ...)
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
        pipeline_fatal(p, "out of memory");
        rd_kafka_message_destroy(m);
        return;
    }
    j->msg = m;
    j->offset = m->offset;
    j->rt = p->rt;
    p->rt->refs++;
    part_append(pt, j);
    job_admit(p, j);
    p->n_in++;
    nc_metrics_consumed(p->metrics, topic);
    /* The FIFO: production order. */
    *(p->fifo_tail ? &p->fifo_tail->fifo_next : &p->fifo_head) = j;
    p->fifo_tail = j;
    p->fifo_len++;
    pool_submit(p, j);
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
        pipeline_fatal(p, "consumer topic=%s partition=%d: %s", topic, (int)m->partition,
                       rd_kafka_message_errstr(m));
        break;
    default:
        nc_log_warn(p->log, "consumer topic=%s partition=%d error=%s: %s", topic, (int)m->partition,
                    rd_kafka_err2name(m->err), rd_kafka_message_errstr(m));
    }
    rd_kafka_message_destroy(m);
}

/* Consumes and dispatches up to BATCH_MAX messages; returns how many. */
static size_t consume_batch(nc_pipeline *p, int busy)
{
    size_t n = 0;

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
        if (pipeline_full(p))
            break;
    }
    return n;
}

/* ---- lifecycle ---- */

/* The clients: the producer first (the topic check and exactly-once's
 * fencing need it before the consumer exists), then the consumer. */
static int clients_new(nc_pipeline *p, char *err, size_t errlen)
{
    struct nc_kafka_out_opts oo = {
        .client = {.bootstrap = p->o.bootstrap, .log = p->log, .stats = p->o.stats},
        .dr = on_delivery,
        .owner = p,
    };
    struct nc_kafka_in_hooks hooks = {
        .owner = p, .assigned = parts_assigned, .revoking = drain_revoking};

    if (nc_kafka_out_new(p->cfg, &oo, &p->out, err, errlen) != 0)
        return -1;
    return nc_kafka_in_new(p->cfg, &oo.client, &hooks, &p->in, err, errlen);
}

/* The worker pool, or the pipeline thread's own scratch without workers. */
static int classifiers_new(nc_pipeline *p, char *err, size_t errlen)
{
    if (p->cfg->limits.workers > 0)
        return pool_start(p, p->cfg->limits.workers,
                          p->cfg->limits.max_inflight_total + BATCH_MAX + 1, err, errlen);
    p->inline_ctx.art = nc_article_new();
    if (!p->inline_ctx.art) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    return 0;
}

int nc_pipeline_new(const struct nc_pipeline_opts *opts, nc_pipeline **out, char *err,
                    size_t errlen)
{
    nc_pipeline *p = calloc(1, sizeof(*p));

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
        nc_log_info(p->log, "model loaded name=\"%s\" dir=%s labels=%zu",
                    nc_output_model_header(p->rt->out), nc_model_dir(p->rt->model),
                    nc_model_nlabels(p->rt->model));
    nc_metrics_model(p->metrics, p->rt->model ? nc_model_name(p->rt->model) : NULL,
                     p->rt->model ? nc_model_version(p->rt->model) : NULL);
    nc_metrics_model_labels(p->metrics, p->rt->model);
    if (clients_new(p, err, errlen) != 0)
        goto fail;
    /* Config, model and both clients are in place: every error that no
     * waiting can heal is behind us, so systemd hears READY now and not
     * after a broker that may be down for hours (/readyz and STATUS= say
     * "waiting for broker" meanwhile). The consumer is only polled once the
     * brokers answered and the output topics exist. */
    nc_notify_ready(p->notify, NULL);
    if (runtime_check_topics(p, p->rt, 0, err, errlen) != 0)
        goto fail;
    nc_metrics_broker_reachable(p->metrics, 1);
    p->commit = p->cfg->kafka.delivery == NC_DELIVERY_EXACTLY_ONCE
                    ? nc_commit_exactly_once_new(p->in, p->out, p->cfg, p->log)
                    : nc_commit_at_least_once_new(p->in, p->log);
    if (!p->commit) {
        snprintf(err, errlen, "out of memory");
        goto fail;
    }
    if (classifiers_new(p, err, errlen) != 0)
        goto fail;
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
                "inflight=%zu inflight_bytes=%zu",
                what, p->n_in, p->n_out, p->n_dead, p->n_records, p->n_acked, p->inflight,
                p->inflight_bytes);
}

/* One iteration of the main loop. */
static void run_once(nc_pipeline *p)
{
    int busy = pipeline_full(p);
    size_t n;

    serve_deliveries(p, busy ? 10 : 0);
    commit_tick(p);
    if (p->retired)
        parts_sweep_retired(p);
    nc_metrics_inflight(p->metrics, p->inflight);
    nc_notify_tick(p->notify);
    if (*p->o.reload)
        pipeline_reload(p);
    flow_control(p);
    busy = pipeline_full(p);
    /* Over the total bound and not yet paused for it: consume nothing;
     * produce what was classified and serve delivery reports (above)
     * until there is room. */
    if (busy && !(p->over_since && nc_now_ms() - p->over_since >= STALL_PAUSE_MS)) {
        produce_ready(p, PRODUCE_BLOCK);
        return;
    }
    n = consume_batch(p, busy);
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

int nc_pipeline_run(nc_pipeline *p, char *err, size_t errlen)
{
    int rc;

    nc_log_info(p->log, "running delivery=%s workers=%zu passthrough=%d", nc_commit_name(p->commit),
                p->cfg->limits.workers, p->o.passthrough);
    p->last_stats = nc_now_ms();
    while (!*p->o.stop && !p->fatal)
        run_once(p);
    nc_log_info(p->log, "%s: draining", p->fatal ? "fatal error" : "stop requested");
    nc_metrics_stopping(p->metrics);
    nc_notify_stopping(p->notify);
    rc = drain(p); /* -1 only after a fatal error */
    log_stats(p, "stopped");
    if (rc != 0) {
        snprintf(err, errlen, "%s", p->fatal_msg);
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
    parts_free_all(p);
    nc_commit_free(p->commit);
    /* Stopped during start-up: the group join may be under way (a no-op
     * after drain's close; docs/kafka.md, "Closing before the first
     * assignment"). */
    if (p->in)
        nc_kafka_in_close(p->in, p->cfg->limits.shutdown_timeout_ms);
    nc_kafka_in_free(p->in);
    wctx_clear(&p->inline_ctx);
    runtime_unref(p->rt);
    free(p);
}
