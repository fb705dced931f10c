/*
 * produce.c - the pipeline's output side: produces finished jobs strictly
 * from the FIFO head (kafka/output.h routes them and builds the records),
 * serves delivery reports, dead-letters inputs whose output the broker
 * refused per message, and keeps each job's count of unacknowledged records
 * so partition.c can move the watermark (see pipeline.h, "Delivery").
 */
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>

#include "service/pipeline_int.h"

/* A produce call failed for good (not per message). Returns 1 when that
 * is only the stop request cutting a full-queue wait short: the input stays
 * uncommitted and is processed again after a restart, nothing is fatal. */
static int stopped_while_full(const nc_pipeline *p, rd_kafka_resp_err_t r)
{
    return r == RD_KAFKA_RESP_ERR__QUEUE_FULL && *p->o.stop;
}

/* The delivery opaque of a dead letter is the job pointer tagged in its low
 * bit (jobs are at least 2-aligned), to tell them apart without an
 * allocation. */
#define DL_TAG ((uintptr_t)1)

/* Produces the dead letter of j (output.h), or drops the input when
 * dead-lettering is disabled. */
static int produce_deadletter(nc_pipeline *p, struct job *j, const char *reason, const char *detail)
{
    const rd_kafka_message_t *m = j->msg;
    const char *dl = nc_output_deadletter(j->rt->out);
    rd_kafka_resp_err_t r;

    if (!dl) {
        /* Dead-lettering disabled: the operator chose to drop bad input. */
        nc_log_warn(p->log, "dropping input error=%s topic=%s partition=%d offset=%" PRId64 ": %s",
                    reason, rd_kafka_topic_name(m->rkt), (int)m->partition, m->offset, detail);
        nc_metrics_deadlettered(p->metrics, reason);
        j->dead = 1;
        p->n_dead++;
        return 0;
    }
    j->pending++;
    r = nc_output_deadletter_produce(j->rt->out, p->out, m, reason, detail,
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
        pipeline_fatal(p,
                       "dead-letter produce failed topic=%s error=%s source=%s/%d/%" PRId64
                       "; not committing past it",
                       dl, rd_kafka_err2str(r), rd_kafka_topic_name(m->rkt), (int)m->partition,
                       m->offset);
        return -1;
    }
    j->dl_sent = 1;
    j->dead = 1;
    p->n_dead++;
    nc_metrics_deadlettered(p->metrics, reason);
    p->n_records++;
    nc_log_debug(p->log, "dead-letter error=%s topic=%s partition=%d offset=%" PRId64 ": %s",
                 reason, rd_kafka_topic_name(m->rkt), (int)m->partition, m->offset, detail);
    return 0;
}

/* Exactly-once: begin said the input's outputs were refused for good in
 * several transactions in a row (commit.h): dead-letter it in this one. */
static void produce_poison(nc_pipeline *p, struct job *j, const char *err)
{
    const rd_kafka_message_t *m = j->msg;
    const char *dl = nc_output_deadletter(j->rt->out);

    if (!dl) {
        j->failed = 1;
        pipeline_fatal(p,
                       "input %s/%d/%" PRId64 ": %s; outputs.deadletter is disabled: not "
                       "committing past it",
                       rd_kafka_topic_name(m->rkt), (int)m->partition, m->offset, err);
        return;
    }
    nc_log_warn(p->log,
                "input topic=%s partition=%d offset=%" PRId64 " goes to the dead-letter "
                "topic %s: %s",
                rd_kafka_topic_name(m->rkt), (int)m->partition, m->offset, dl, err);
    produce_deadletter(p, j, "produce_failed", err);
}

/* Produces j's records (a classified article, or passthrough's copy). */
static void produce_records(nc_pipeline *p, struct job *j)
{
    const rd_kafka_message_t *m = j->msg;
    int pass = j->kind == JOB_PASS;
    struct nc_output_record rec = {m, j->id, j->labels_csv, j->value, j->vlen};
    const char *aggregate[1], *const *dests = j->dests, *topic = NULL;
    size_t n = j->ndests, produced = 0;
    rd_kafka_resp_err_t r;

    if (pass) {
        rec.value = m->payload;
        rec.vlen = m->len;
        n = nc_output_route(j->rt->out, NULL, aggregate);
        dests = aggregate;
    }
    /* Counted before the calls: a full queue serves delivery reports of
     * the records already produced while the next one waits. */
    j->pending += (int)n;
    r = nc_output_produce(j->rt->out, p->out, &rec, dests, n, j, p->o.stop, &produced, &topic);
    j->pending -= (int)(n - produced);
    p->n_records += produced;
    /* Counted as classified once done (job_finish_check): an output refused
     * now or in its delivery report makes it a dead letter instead. */
    if (!r)
        return;
    if (nc_output_refused(j->rt->out, r)) {
        /* e.g. the output is larger than message.max.bytes. */
        snprintf(j->detail, sizeof(j->detail), "produce to %s: %s", topic, rd_kafka_err2str(r));
        produce_deadletter(p, j, "produce_failed", j->detail);
        return;
    }
    j->failed = 1;
    if (nc_commit_output_failed(p->commit, m, topic, r) || stopped_while_full(p, r))
        return;
    if (pass)
        pipeline_fatal(p, "produce to %s failed: %s", topic, rd_kafka_err2str(r));
    else
        pipeline_fatal(p, "produce to %s failed: %s (input %s/%d/%" PRId64 ")", topic,
                       rd_kafka_err2str(r), rd_kafka_topic_name(m->rkt), (int)m->partition,
                       m->offset);
}

/* Produces j's records; begun is nc_commit_begin's answer for it (err its
 * message). */
static void produce_job(nc_pipeline *p, struct job *j, int begun, const char *err)
{
    j->pending = 1; /* guard: no early "done" while records are produced */
    if (begun == NC_COMMIT_DEADLETTER) {
        produce_poison(p, j, err);
    } else if (begun != 0) {
        if (begun < 0)
            pipeline_fatal(p, "%s", err);
        j->failed = 1; /* NC_COMMIT_SKIP: dropped by the coming rewind, redone */
        return;
    } else if (j->kind == JOB_DEAD) {
        produce_deadletter(p, j, j->reason, j->detail);
    } else {
        produce_records(p, j);
    }
    free(j->value);
    j->value = NULL;
    j->pending--;
    job_finish_check(p, j);
}

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
        pipeline_fatal(p, "%s", err);
}

void produce_ready(nc_pipeline *p, enum produce_mode mode)
{
    int committed = 0;

    while (p->fifo_head) {
        struct job *j = p->fifo_head;
        char err[512] = "";
        int begun = 0;
        if (!pool_ready(p, j, mode != PRODUCE_READY))
            return;
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

void on_delivery(void *owner, void *opaque, rd_kafka_resp_err_t err, const rd_kafka_message_t *m)
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
    if (!is_dl && nc_output_refused(j->rt->out, err) && !j->dl_sent && !j->need_dl) {
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
    pipeline_fatal(
        p, "%s delivery failed topic=%s error=%s (input %s/%d/%" PRId64 "); not committing past it",
        is_dl ? "dead-letter" : "output", topic, rd_kafka_err2str(err),
        j->msg ? rd_kafka_topic_name(j->msg->rkt) : "?", j->msg ? (int)j->msg->partition : -1,
        j->offset);
}

void serve_deliveries(nc_pipeline *p, int timeout_ms)
{
    char err[512];
    nc_kafka_out_poll(p->out, timeout_ms);
    process_dl_queue(p);
    if (!p->fatal && nc_kafka_out_fatal(p->out, err, sizeof(err)))
        pipeline_fatal(p, "producer: %s", err);
}
