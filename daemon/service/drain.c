/*
 * drain.c - finishing what was consumed: before partitions are revoked,
 * at shutdown (produce, wait for acknowledgements, commit, leave the group,
 * each bounded by limits.shutdown_timeout_ms so a dead broker cannot keep
 * us waiting for ever), and the exactly-once rewind that drops every job of
 * an aborted transaction (commit.h).
 */
#include <stdio.h>

#include "base/clock.h"
#include "service/pipeline_int.h"

/* Before partitions go away: finish and acknowledge what was consumed from
 * them, store, commit. */
void drain_revoking(void *owner, const rd_kafka_topic_partition_list_t *parts, int lost)
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
        pipeline_fatal(p, "partitions lost: %s", err);
    }
    for (int i = 0; i < parts->cnt; i++) {
        struct part *pt = part_find(p, parts->elems[i].topic, parts->elems[i].partition);
        if (pt)
            part_retire(p, pt);
    }
}

/* The transaction was aborted: every job in flight is dropped (its outputs
 * went with the transaction, or were never produced) and the consumer is
 * sought back to the committed offsets, so the same inputs come again. */
static int rewind_jobs(nc_pipeline *p, char *err, size_t errlen)
{
    long long deadline = nc_now_ms() + p->cfg->limits.shutdown_timeout_ms;

    /* Workers may still hold jobs of the FIFO. */
    for (struct job *j = p->fifo_head; j; j = j->fifo_next)
        pool_ready(p, j, 1);
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
    for (struct part *pt = p->parts; pt; pt = pt->next)
        part_clear(p, pt, 1);
    while (p->retired) {
        struct part *pt = p->retired;
        p->retired = pt->next;
        part_clear(p, pt, 0);
    }
    p->over_since = 0;
    return nc_commit_rewind(p->commit, err, errlen);
}

void commit_tick(nc_pipeline *p)
{
    char err[512];
    int rc = nc_commit_checkpoint(p->commit, NC_CHECKPOINT_TICK, NULL,
                                  p->cfg->limits.shutdown_timeout_ms, err, sizeof(err));
    if (rc == NC_COMMIT_REWIND)
        rc = rewind_jobs(p, err, sizeof(err));
    if (rc < 0)
        pipeline_fatal(p, "%s", err);
}

/* At least 2 s, else what is left until deadline. */
static int time_left(long long deadline)
{
    long long left = deadline - nc_now_ms();
    return left < 2000 ? 2000 : (int)left;
}

/* Finishes what was consumed, within limits.shutdown_timeout_ms. What the
 * deadline cuts short is abandoned with a warning naming it: outputs still
 * unacknowledged are purged with the producer and their inputs are not
 * committed (at-least-once stays true), a close that cannot finish is left.
 * That is still a clean stop (0); only a fatal error is not (-1). */
int drain(nc_pipeline *p)
{
    long long deadline = nc_now_ms() + p->cfg->limits.shutdown_timeout_ms;
    char err[512];

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
                        "shutdown: abandoning %d output records unacknowledged after %d ms "
                        "(purged); their inputs stay uncommitted and will be processed again",
                        nc_kafka_out_pending(p->out), p->cfg->limits.shutdown_timeout_ms);
    }
    if (nc_commit_checkpoint(p->commit, NC_CHECKPOINT_SHUTDOWN, NULL, time_left(deadline), err,
                             sizeof(err)) != 0)
        nc_log_warn(p->log, "shutdown: abandoning the last commit (its inputs will be "
                            "processed again): %s", err);
    if (nc_kafka_in_close(p->in, time_left(deadline)) != 0)
        nc_log_warn(p->log, "shutdown: consumer close abandoned (see above); the group drops "
                            "this member at session timeout");
    return p->fatal ? -1 : 0;
}
