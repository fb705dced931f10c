/*
 * partition.c - the pipeline's per-partition state: each assigned input
 * partition's jobs in offset order, the contiguous watermark that tells the
 * commit strategy how far every output is acknowledged, revoked partitions
 * whose jobs are still finishing, and backpressure by pausing partitions
 * (see pipeline.h, "Delivery" and "Backpressure").
 */
#include <stdlib.h>
#include <string.h>

#include "base/clock.h"
#include "service/pipeline_int.h"

struct part *part_find(nc_pipeline *p, const char *topic, int32_t partition)
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

void part_append(struct part *pt, struct job *j)
{
    struct job **link = pt->tail ? &pt->tail->part_next : &pt->head;
    *link = pt->tail = j;
    j->part = pt;
    pt->count++;
}

void job_free(nc_pipeline *p, struct job *j)
{
    if (j->msg)
        rd_kafka_message_destroy(j->msg);
    runtime_unref(j->rt);
    job_output_free(j);
    p->inflight--;
    p->inflight_bytes -= j->bytes;
    free(j);
}

void job_admit(nc_pipeline *p, struct job *j)
{
    j->bytes = j->msg->len + j->msg->key_len;
    p->inflight++;
    p->inflight_bytes += j->bytes;
}

int pipeline_full(const nc_pipeline *p)
{
    return p->inflight >= p->cfg->limits.max_inflight_total ||
           p->inflight_bytes >= p->cfg->limits.max_inflight_bytes;
}

void part_clear(nc_pipeline *p, struct part *pt, int keep)
{
    while (pt->head) {
        struct job *j = pt->head;
        pt->head = j->part_next;
        job_free(p, j);
    }
    pt->tail = NULL;
    pt->count = 0;
    if (keep)
        return;
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
void part_retire(nc_pipeline *p, struct part *pt)
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
        part_clear(p, pt, 0);
        return;
    }
    pt->next = p->retired;
    p->retired = pt;
}

void parts_sweep_retired(nc_pipeline *p)
{
    struct part **pp = &p->retired;
    while (*pp) {
        struct part *pt = *pp;
        part_advance(p, pt);
        if (!pt->head) {
            *pp = pt->next;
            part_clear(p, pt, 0);
        } else {
            pp = &pt->next;
        }
    }
}

/* Frees every partition of the list at *head. */
static void free_list(nc_pipeline *p, struct part **head)
{
    while (*head) {
        struct part *pt = *head;
        *head = pt->next;
        part_clear(p, pt, 0);
    }
}

void parts_free_all(nc_pipeline *p)
{
    free_list(p, &p->parts);
    free_list(p, &p->retired);
    p->last_part = NULL;
}

void job_finish_check(nc_pipeline *p, struct job *j)
{
    if (j->pending > 0 || j->failed || j->need_dl || j->done)
        return;
    j->done = 1;
    /* Each input is counted once, by its fate: consumed = classified +
     * deadlettered (a refused output was dead-lettered, counted there). */
    if (!j->dead) {
        p->n_out++;
        if (j->kind == JOB_OUTPUT)
            nc_metrics_classified(p->metrics, j->labels_csv);
    }
    nc_metrics_input_done(p->metrics, j->msg ? rd_kafka_message_timestamp(j->msg, NULL) : 0);
    if (j->part)
        part_advance(p, j->part);
}

int parts_busy(nc_pipeline *p, const rd_kafka_topic_partition_list_t *parts)
{
    for (int i = 0; i < parts->cnt; i++) {
        struct part *pt = part_find(p, parts->elems[i].topic, parts->elems[i].partition);
        for (struct job *j = pt ? pt->head : NULL; j; j = j->part_next)
            if (!j->done && !j->failed)
                return 1;
    }
    return 0;
}

void parts_assigned(void *owner, const rd_kafka_topic_partition_list_t *parts)
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
            pipeline_fatal(p, "out of memory");
            return;
        }
        pt->partition = parts->elems[i].partition;
        pt->assigned = 1;
        pt->next = p->parts;
        p->parts = pt;
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
void flow_control(nc_pipeline *p)
{
    size_t per = p->cfg->limits.max_inflight_per_partition;
    size_t total = p->cfg->limits.max_inflight_total;
    long long now = nc_now_ms();
    int stalled;

    if (pipeline_full(p)) {
        if (!p->over_since)
            p->over_since = now;
    } else if (p->inflight <= total / 2 &&
               p->inflight_bytes <= p->cfg->limits.max_inflight_bytes / 2) {
        p->over_since = 0;
    }
    stalled = p->over_since && now - p->over_since >= STALL_PAUSE_MS;
    for (struct part *pt = p->parts; pt; pt = pt->next) {
        int over = pt->count >= per || stalled;
        int under = pt->count <= per / 2 && p->inflight <= total / 2 &&
                    p->inflight_bytes <= p->cfg->limits.max_inflight_bytes / 2;
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
