/*
 * classify.c - one job's CPU work, on a worker thread or inline on the
 * pipeline thread: parse the input, classify, encode the output record and
 * pick its topics (kafka/output.h), or say why the input goes to the
 * dead-letter topic. Touches only the job, the worker's scratch and the
 * immutable snapshot the job holds.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/encode.h"
#include "service/pipeline_int.h"

static void job_dead(struct job *j, const char *reason, const char *detail)
{
    j->kind = JOB_DEAD;
    j->reason = reason;
    if (detail != j->detail)
        snprintf(j->detail, sizeof(j->detail), "%s", detail);
}

/* The worker's workspace, made for the job's snapshot. */
static nc_workspace *workspace(struct wctx *w, const struct runtime *rt)
{
    if (!w->ws || w->ws_rt != rt->id) {
        nc_workspace_free(w->ws);
        w->ws = nc_workspace_new(rt->model);
        w->ws_rt = rt->id;
    }
    return w->ws;
}

/* Encodes the classified article into j's record and picks its topics. */
static void job_output(const struct runtime *rt, const nc_article *art, const nc_result *res,
                       struct job *j)
{
    char labels[NC_MAX_LABELS * NC_LABEL_MAX];
    const char *id;

    j->value = nc_output_encode(rt->out, art, res, j->msg, &j->vlen, j->detail, sizeof(j->detail));
    if (!j->value) {
        job_dead(j, "encode_failed", j->detail);
        return;
    }
    id = nc_article_id(art);
    nc_encode_labels_csv(rt->model, res, labels, sizeof(labels));
    j->labels_csv = strdup(labels);
    j->id = id ? strdup(id) : NULL;
    j->dests = calloc(nc_output_max_dests(rt->out), sizeof(*j->dests));
    if (!j->labels_csv || (id && !j->id) || !j->dests) {
        job_dead(j, "classify_failed", "out of memory");
        return;
    }
    j->ndests = nc_output_route(rt->out, res, j->dests);
    j->kind = JOB_OUTPUT;
}

void classify_job(const nc_pipeline *p, struct wctx *w, struct job *j)
{
    const rd_kafka_message_t *m = j->msg;
    const struct runtime *rt = j->rt;
    nc_workspace *ws;
    nc_result res;
    enum nc_article_error ae;

    if (p->o.passthrough) {
        j->kind = JOB_PASS;
        return;
    }
    if (!w->art) {
        job_dead(j, "classify_failed", "out of memory");
        return;
    }
    ae = nc_article_parse(w->art, m->payload ? (const char *)m->payload : "", m->len,
                          p->max_article, j->detail, sizeof(j->detail));
    if (ae != NC_ART_OK) {
        job_dead(j, nc_article_reason(ae), j->detail);
        return;
    }
    ws = workspace(w, rt);
    if (!ws) {
        job_dead(j, "classify_failed", "out of memory");
        return;
    }
    if (nc_model_classify(rt->model, ws, w->art, &res, j->detail, sizeof(j->detail)) != 0) {
        job_dead(j, "classify_failed", j->detail);
        return;
    }
    job_output(rt, w->art, &res, j);
}

void job_output_free(struct job *j)
{
    free(j->value);
    free(j->id);
    free(j->labels_csv);
    free(j->dests);
}

void wctx_clear(struct wctx *w)
{
    nc_article_free(w->art);
    nc_workspace_free(w->ws);
    memset(w, 0, sizeof(*w));
}
