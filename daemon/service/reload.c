/*
 * reload.c - the pipeline's runtime snapshots (model + reloadable config +
 * output routing), the output-topic check, and the reload that builds and
 * checks a new snapshot completely before it replaces the old one (see
 * pipeline.h, "Reload").
 */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "service/pipeline_int.h"

void runtime_unref(struct runtime *rt)
{
    if (!rt || --rt->refs > 0)
        return;
    nc_output_free(rt->out);
    nc_model_free(rt->model);
    nc_config_free(rt->cfg_owned);
    free(rt);
}

struct runtime *runtime_new(nc_pipeline *p, const nc_config *cfg, nc_config *cfg_owned, char *err,
                            size_t errlen)
{
    struct runtime *rt = calloc(1, sizeof(*rt));
    struct nc_output_opts oo = {.deadletter = 1, .log = p->log};

    if (!rt) {
        nc_config_free(cfg_owned);
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    rt->refs = 1;
    rt->id = ++p->next_rt_id;
    rt->cfg = cfg;
    rt->cfg_owned = cfg_owned;
    if ((!p->o.passthrough && nc_output_load_model(cfg, NULL, &rt->model, err, errlen) != 0) ||
        nc_output_new(cfg, rt->model, &oo, &rt->out, err, errlen) != 0) {
        runtime_unref(rt);
        return NULL;
    }
    return rt;
}

/* Sleeps ms in 100 ms steps, ticking the watchdog; -1 if asked to stop. */
static int wait_retry(nc_pipeline *p, int ms)
{
    for (int waited = 0; waited < ms; waited += 100) {
        struct timespec ts = {0, 100L * 1000 * 1000};
        if (*p->o.stop)
            return -1;
        nc_notify_tick(p->notify); /* READY was sent: the watchdog runs */
        nanosleep(&ts, NULL);
    }
    return *p->o.stop ? -1 : 0;
}

/*
 * The first try waits up to METADATA_TIMEOUT_MS for the metadata. After a
 * failure the line says "retrying in N ms" and the next try has ended, with
 * the metadata or another such line, N ms later: it waits for the metadata
 * at most N/2 of them (librdkafka keeps connecting in between), so the lines
 * of a cluster that stays down are N ms apart, N doubling from 1 s to 16 s.
 */
int runtime_check_topics(nc_pipeline *p, struct runtime *rt, int once, char *err, size_t errlen)
{
    int backoff = 1000, timeout = METADATA_TIMEOUT_MS;
    size_t n;
    const char *const *topics = nc_output_topics(rt->out, &n);

    if (p->o.embedded) {
        /* The mock has no CreateTopics (docs/kafka.md): create them here. */
        for (size_t i = 0; i < n; i++)
            if (nc_embedded_create_topic(p->o.embedded, topics[i], p->cfg->outputs.partitions, err,
                                         errlen) != 0)
                return -1;
    }
    for (;;) {
        int rc = nc_kafka_out_check_topics(p->out, topics, n, p->cfg->outputs.create_topics,
                                           p->cfg->outputs.partitions,
                                           p->cfg->outputs.replication_factor, timeout, err,
                                           errlen);
        if (rc != -2 || once)
            return rc == 0 ? 0 : -1;
        nc_log_warn(p->log, "%s; retrying in %d ms brokers=%s retry_ms=%d", err, backoff,
                    p->o.bootstrap, backoff);
        timeout = backoff / 2 < METADATA_TIMEOUT_MS ? backoff / 2 : METADATA_TIMEOUT_MS;
        if (wait_retry(p, backoff - timeout) != 0) {
            snprintf(err, errlen, "stopped while waiting for the brokers");
            return -1;
        }
        if (backoff < 16000)
            backoff *= 2;
    }
}

/* The model of the running snapshot, for the log. */
static const char *running_model(const nc_pipeline *p)
{
    const char *h = nc_output_model_header(p->rt->out);
    return h[0] ? h : "(passthrough)";
}

/* A new snapshot from the reloaded configuration, or NULL (logged). */
static struct runtime *reload_runtime(nc_pipeline *p)
{
    char err[NC_CONFIG_ERRLEN], diff[2048];
    nc_config *cfg;
    struct runtime *rt;

    cfg = p->o.load_config(p->o.load_config_arg, err, sizeof(err));
    if (!cfg) {
        nc_log_error(p->log, "reload refused, keeping the running config and model: %s", err);
        return NULL;
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
        nc_log_error(p->log, "reload refused, keeping model %s: %s", running_model(p), err);
        return NULL;
    }
    if (runtime_check_topics(p, rt, 1, err, sizeof(err)) != 0) {
        nc_log_error(p->log, "reload refused, keeping model %s: %s",
                     nc_output_model_header(p->rt->out), err);
        runtime_unref(rt);
        return NULL;
    }
    return rt;
}

/* Loads and swaps in a new snapshot, or keeps the running one (logged). */
static void reload(nc_pipeline *p)
{
    struct runtime *rt;
    size_t ntopics;

    nc_log_info(p->log, "reload requested");
    if (!p->o.load_config) {
        nc_log_warn(p->log, "reload: no configuration source; nothing to do");
        return;
    }
    rt = reload_runtime(p);
    if (!rt)
        return;
    /* The swap: jobs dispatched from now on use rt; earlier ones keep the
     * snapshot they hold a reference to. */
    runtime_unref(p->rt);
    p->rt = rt;
    nc_log_set_level(p->log, rt->cfg->logging.level);
    nc_output_topics(rt->out, &ntopics);
    nc_log_info(p->log, "reloaded model=\"%s\" dir=%s outputs=%zu", nc_output_model_header(rt->out),
                rt->model ? nc_model_dir(rt->model) : "-", ntopics);
}

void pipeline_reload(nc_pipeline *p)
{
    unsigned long before = p->rt->id; /* a new snapshot id: reloaded */

    *p->o.reload = 0;
    nc_notify_reloading(p->notify);
    produce_ready(p, PRODUCE_ALL);
    reload(p);
    nc_metrics_reload(p->metrics, p->rt->id != before);
    if (p->rt->id != before && p->rt->model)
        nc_metrics_model(p->metrics, nc_model_name(p->rt->model), nc_model_version(p->rt->model));
    nc_metrics_model_labels(p->metrics, p->rt->model);
    nc_notify_ready(p->notify, NULL);
}
