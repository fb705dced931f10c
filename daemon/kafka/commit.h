/*
 * commit.h - the commit strategy: how consumed input becomes "done" in Kafka.
 *
 * The pipeline speaks only to this small interface; kafka.delivery picks the
 * implementation:
 *
 *   begin       before the first output of an input message is produced
 *               (exactly-once: begin a transaction if none is open); may
 *               answer that the open transaction is due and takes no more
 *               input (checkpoint first), or that the input goes to the
 *               dead-letter topic instead of being produced (exactly-once:
 *               see poison inputs below);
 *   advance     an input partition's contiguous watermark moved: every output
 *               of every message before next_offset is acknowledged
 *               (at-least-once: rd_kafka_offsets_store(next_offset));
 *   checkpoint  make progress durable: periodic tick (every loop iteration;
 *               the strategy decides whether anything is due), when begin
 *               said the transaction is due, before partitions are
 *               revoked, when they were lost, at shutdown;
 *   output_failed  a produce call or a delivery of an input's output
 *               failed;
 *   rewind      after the pipeline dropped every job in flight: move the
 *               consumer back to the last committed offsets.
 *
 * At-least-once: offsets are stored behind the watermark and committed by
 * auto-commit and at revoke/shutdown. Output errors are the pipeline's own
 * business (dead-letter or fatal). Both strategies fail a tick once the
 * consumer raised a fatal error (it would never consume again).
 *
 * Exactly-once (Kafka transactions, librdkafka's examples/transactions.c):
 * one transactional producer per instance (transactional.id = group + "-" +
 * kafka.instance_id). A transaction opens with the first output produced
 * after the last commit and holds the outputs of consecutive input messages;
 * it is committed when it has kafka.transaction.commit_every_messages inputs
 * or is commit_every_ms old, before a revoke completes, and at shutdown. A
 * due transaction takes no more input (begin answers NC_COMMIT_WAIT until it
 * is committed): otherwise, under load, the pipeline would go on producing
 * into it while the commit waits for its outputs, and every transaction
 * would grow to what the producer has queued. Committing: the
 * producer is flushed (every output of the transaction acknowledged, so the
 * watermarks cover exactly the inputs whose outputs are in it), the
 * watermarks go into the transaction (send_offsets_to_transaction with the
 * consumer's group metadata, which fences a member that lost its generation),
 * and the transaction is committed. Outputs and input offsets thus become
 * visible to read_committed readers together or not at all.
 *   Any error inside a transaction (a failed produce or delivery, an abortable
 * commit, a lost assignment) aborts it; the next tick returns
 * NC_COMMIT_REWIND, the pipeline drops every job in flight and calls rewind,
 * which seeks the consumer to the committed offsets, so the aborted inputs are
 * consumed and classified again. Until then begin returns NC_COMMIT_SKIP: the
 * pipeline produces nothing (the job is dropped by the rewind). Fatal
 * producer errors (fenced by a newer instance with the same transactional.id)
 * make checkpoint return -1: the daemon stops, nothing more is committed.
 *   Poison inputs: an output the broker refuses for good (a per-message
 * error such as MSG_SIZE_TOO_LARGE: the output topic's max.message.bytes is
 * below the producer's message.max.bytes) would abort the transaction every
 * time its input comes again. The strategy remembers, across rewinds, each
 * input (topic, partition, offset) whose output failed so; once it was in
 * kafka.transaction.max_attempts aborted transactions, begin answers
 * NC_COMMIT_DEADLETTER for it: the pipeline dead-letters the input (reason
 * produce_failed) inside the transaction, so it is committed with its
 * offset. Transient errors (purged, fenced, timed out, lost partitions)
 * never count. The table is small (EOS_SUSPECTS_MAX entries); an entry goes
 * once its offset is committed, once its outputs went through (the aborts
 * must be consecutive), or when its partition is revoked or lost.
 *
 * Implementations own no threads; they run on the pipeline's thread. advance
 * may be called from inside checkpoint (delivery reports served by a flush).
 */
#ifndef NC_COMMIT_H
#define NC_COMMIT_H

#include <librdkafka/rdkafka.h>
#include <stddef.h>
#include <stdint.h>

#include "config/config.h"
#include "kafka/in.h"
#include "kafka/out.h"
#include "base/log.h"

enum nc_checkpoint_reason {
    NC_CHECKPOINT_TICK = 0,
    NC_CHECKPOINT_REVOKE,   /* parts are about to be taken away */
    NC_CHECKPOINT_SHUTDOWN, /* the pipeline stops */
    NC_CHECKPOINT_LOST,     /* parts already belong to someone else */
    NC_CHECKPOINT_DUE,      /* begin said NC_COMMIT_WAIT and the caller cannot
                             * come back later: commit now, waiting up to
                             * timeout_ms for the outputs (else abort) */
};

/* begin: produce nothing for this input (a rewind is pending). */
#define NC_COMMIT_SKIP 1
/* checkpoint: the transaction was aborted; drop every job in flight, then
 * call nc_commit_rewind(). */
#define NC_COMMIT_REWIND 2
/* begin: produce no outputs for this input but its dead letter (reason
 * produce_failed, the detail in err); the transaction is open. */
#define NC_COMMIT_DEADLETTER 3
/* begin: nothing was done; the open transaction is due. Call checkpoint
 * (NC_CHECKPOINT_TICK: one bounded attempt, or NC_CHECKPOINT_DUE), then
 * begin again. */
#define NC_COMMIT_WAIT 4

typedef struct nc_commit nc_commit;

struct nc_commit_ops {
    const char *name;
    int (*begin)(nc_commit *c, const rd_kafka_message_t *in, char *err, size_t errlen);
    int (*advance)(nc_commit *c, const char *topic, int32_t partition, int64_t next_offset,
                   char *err, size_t errlen);
    int (*checkpoint)(nc_commit *c, enum nc_checkpoint_reason why,
                      const rd_kafka_topic_partition_list_t *parts, int timeout_ms, char *err,
                      size_t errlen);
    int (*output_failed)(nc_commit *c, const rd_kafka_message_t *in, const char *topic,
                         rd_kafka_resp_err_t err);
    int (*rewind)(nc_commit *c, char *err, size_t errlen);
    void (*destroy)(nc_commit *c);
};

struct nc_commit {
    const struct nc_commit_ops *ops;
};

/* At-least-once: offsets stored behind the watermark, committed by
 * auto-commit and by checkpoints. */
nc_commit *nc_commit_at_least_once_new(nc_kafka_in *in, nc_log *log);

/* Exactly-once: transactions on out (created transactional, see
 * nc_kafka_out_new), offsets of in's group. NULL when out of memory. */
nc_commit *nc_commit_exactly_once_new(nc_kafka_in *in, nc_kafka_out *out, const nc_config *cfg,
                                      nc_log *log);

static inline const char *nc_commit_name(const nc_commit *c)
{
    return c->ops->name;
}
/* Before producing input message in: 0, NC_COMMIT_SKIP, NC_COMMIT_WAIT,
 * NC_COMMIT_DEADLETTER with the detail in err, or -1 with err (fatal). */
static inline int nc_commit_begin(nc_commit *c, const rd_kafka_message_t *in, char *err,
                                  size_t errlen)
{
    return c->ops->begin ? c->ops->begin(c, in, err, errlen) : 0;
}
static inline int nc_commit_advance(nc_commit *c, const char *topic, int32_t partition,
                                    int64_t next_offset, char *err, size_t errlen)
{
    return c->ops->advance(c, topic, partition, next_offset, err, errlen);
}
/* 0, NC_COMMIT_REWIND (TICK, DUE), or -1 with err: TICK, DUE, LOST: fatal;
 * REVOKE, SHUTDOWN: progress not committed (a warning; nothing unfinished
 * was committed either). */
static inline int nc_commit_checkpoint(nc_commit *c, enum nc_checkpoint_reason why,
                                       const rd_kafka_topic_partition_list_t *parts, int timeout_ms,
                                       char *err, size_t errlen)
{
    return c->ops->checkpoint(c, why, parts, timeout_ms, err, errlen);
}
/* An output of input message in (NULL: unknown) to topic failed with err.
 * 1: the strategy takes the failure over (exactly-once: the transaction
 * will be aborted and its inputs processed again), so the pipeline only
 * marks the job failed; 0: the pipeline handles it (at-least-once:
 * dead-letter or fatal). */
static inline int nc_commit_output_failed(nc_commit *c, const rd_kafka_message_t *in,
                                          const char *topic, rd_kafka_resp_err_t err)
{
    return c->ops->output_failed ? c->ops->output_failed(c, in, topic, err) : 0;
}
/* After NC_COMMIT_REWIND, once no job is left: 0 or -1 with err (fatal). */
static inline int nc_commit_rewind(nc_commit *c, char *err, size_t errlen)
{
    return c->ops->rewind ? c->ops->rewind(c, err, errlen) : 0;
}
static inline void nc_commit_free(nc_commit *c)
{
    if (c)
        c->ops->destroy(c);
}

#endif
