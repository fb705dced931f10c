/*
 * commit.h - the commit strategy: how consumed input becomes "done" in Kafka.
 *
 * The pipeline speaks only to this small interface, so the exactly-once mode
 * (a later issue: Kafka transactions, outputs and input offsets committed
 * together) slots in as a second implementation without touching the loop:
 *
 *   begin       before the first output of an input message is produced
 *               (exactly-once: begin a transaction if none is open);
 *   advance     an input partition's contiguous watermark moved: every output
 *               of every message before next_offset is acknowledged
 *               (at-least-once: rd_kafka_offsets_store(next_offset));
 *   checkpoint  make progress durable now: periodic tick, before partitions
 *               are revoked, at shutdown (at-least-once: commit the stored
 *               offsets with a deadline; exactly-once: send the offsets to the
 *               transaction and commit it).
 *
 * Implementations own no threads; they run on the pipeline's thread.
 */
#ifndef NC_COMMIT_H
#define NC_COMMIT_H

#include <librdkafka/rdkafka.h>
#include <stddef.h>
#include <stdint.h>

#include "kafka_in.h"
#include "log.h"

enum nc_checkpoint_reason { NC_CHECKPOINT_TICK = 0, NC_CHECKPOINT_REVOKE, NC_CHECKPOINT_SHUTDOWN };

typedef struct nc_commit nc_commit;

struct nc_commit_ops {
    const char *name;
    int (*begin)(nc_commit *c, char *err, size_t errlen);
    int (*advance)(nc_commit *c, const char *topic, int32_t partition, int64_t next_offset,
                   char *err, size_t errlen);
    int (*checkpoint)(nc_commit *c, enum nc_checkpoint_reason why,
                      const rd_kafka_topic_partition_list_t *parts, int timeout_ms, char *err,
                      size_t errlen);
    void (*destroy)(nc_commit *c);
};

struct nc_commit {
    const struct nc_commit_ops *ops;
};

/* At-least-once: offsets stored behind the watermark, committed by
 * auto-commit and by checkpoints. */
nc_commit *nc_commit_at_least_once_new(nc_kafka_in *in, nc_log *log);

static inline const char *nc_commit_name(const nc_commit *c)
{
    return c->ops->name;
}
static inline int nc_commit_begin(nc_commit *c, char *err, size_t errlen)
{
    return c->ops->begin ? c->ops->begin(c, err, errlen) : 0;
}
static inline int nc_commit_advance(nc_commit *c, const char *topic, int32_t partition,
                                    int64_t next_offset, char *err, size_t errlen)
{
    return c->ops->advance(c, topic, partition, next_offset, err, errlen);
}
static inline int nc_commit_checkpoint(nc_commit *c, enum nc_checkpoint_reason why,
                                       const rd_kafka_topic_partition_list_t *parts, int timeout_ms,
                                       char *err, size_t errlen)
{
    return c->ops->checkpoint(c, why, parts, timeout_ms, err, errlen);
}
static inline void nc_commit_free(nc_commit *c)
{
    if (c)
        c->ops->destroy(c);
}

#endif
