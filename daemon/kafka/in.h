/*
 * in.h - the consumer: group membership (cooperative-sticky), the
 * rebalance protocol, pause/resume, commits and a bounded close.
 *
 * Offsets are never stored automatically (enable.auto.offset.store=false):
 * the commit strategy stores them when the pipeline's watermark says so, and
 * librdkafka's auto-commit (or nc_kafka_in_commit) commits what was stored.
 * In exactly-once mode auto-commit is off: offsets are committed only
 * inside the producer's transactions (commit.h).
 * Rebalance events call the owner's hooks on the polling thread, before
 * partitions are assigned and before they are taken away, so the owner can
 * drain and commit first.
 *
 * The command-line tools (newsclf subscribe, reclassify) get the same
 * client set-up, callbacks and bounded close from nc_kafka_in_new_tool, with
 * their own group (or none) and settings.
 */
#ifndef NC_KAFKA_IN_H
#define NC_KAFKA_IN_H

#include <librdkafka/rdkafka.h>
#include <stddef.h>

#include "config/config.h"
#include "kafka/conf.h"
#include "base/log.h"

typedef struct nc_kafka_in nc_kafka_in;

struct nc_kafka_in_hooks {
    void *owner;
    /* Partitions were just added to the assignment. */
    void (*assigned)(void *owner, const rd_kafka_topic_partition_list_t *parts);
    /* Partitions are about to be taken away. lost: they already belong to
     * someone else (no commit is possible). */
    void (*revoking)(void *owner, const rd_kafka_topic_partition_list_t *parts, int lost);
};

/* Creates newsclfd's consumer (group kafka.group) and subscribes to cfg's
 * input topics. Extra properties (e.g. from tests) come from
 * cfg->kafka.consumer. */
int nc_kafka_in_new(const nc_config *cfg, const struct nc_kclient_opts *o,
                    const struct nc_kafka_in_hooks *hooks, nc_kafka_in **out, char *err,
                    size_t errlen);

/*
 * A consumer for a command-line tool: cfg's kafka.consumer map, o->extra,
 * group.id `group` or, when NULL, a private one (<client id>-<host>-<pid>-
 * <ms>) that is never joined or committed to, then settings in order. It
 * subscribes to nothing: the caller assigns (nc_kafka_in_assign) or
 * subscribes through the handle. No hooks.
 */
int nc_kafka_in_new_tool(const nc_config *cfg, const struct nc_kclient_opts *o, const char *group,
                         const nc_kv *settings, size_t nsettings, nc_kafka_in **out, char *err,
                         size_t errlen);
/* Destroys the handle without another close (call nc_kafka_in_close first). */
void nc_kafka_in_free(nc_kafka_in *in);

rd_kafka_t *nc_kafka_in_handle(nc_kafka_in *in);

/* Next message or event (NULL on timeout); rebalance hooks run in here. The
 * caller destroys the message. */
rd_kafka_message_t *nc_kafka_in_poll(nc_kafka_in *in, int timeout_ms);

/* rd_kafka_assign (NULL: unassign all); a non-empty assignment counts as
 * "ever assigned" (nc_kafka_in_close). */
rd_kafka_resp_err_t nc_kafka_in_assign(nc_kafka_in *in,
                                       const rd_kafka_topic_partition_list_t *parts);

/* Pauses or resumes one partition. The caller tracks what it paused and
 * only resumes those (docs/kafka.md #4636). */
int nc_kafka_in_pause(nc_kafka_in *in, const char *topic, int32_t partition, int pause);

/* Commits the stored offsets of the current assignment, waiting at most
 * timeout_ms (a broker that is gone must not hang us). 0, or -1 with err. */
int nc_kafka_in_commit(nc_kafka_in *in, int timeout_ms, char *err, size_t errlen);

/* Exactly-once rewind: seeks every assigned partition back to its
 * committed offset (a partition never committed: to where
 * auto.offset.reset starts it), waiting for the seeks, so nothing fetched
 * before comes out of nc_kafka_in_poll afterwards. Returns the number of
 * partitions rewound, or -1 with err. */
int nc_kafka_in_rewind(nc_kafka_in *in, int timeout_ms, char *err, size_t errlen);

/* Leaves the group (revoke hooks run), waiting at most timeout_ms. Returns
 * 0, or -1 when the close did not finish in time (the handle is then left
 * for nc_kafka_in_free to drop without closing). */
int nc_kafka_in_close(nc_kafka_in *in, int timeout_ms);

/* Non-zero once the consumer raised a fatal error (it consumes nothing any
 * more; e.g. FENCED_INSTANCE_ID with static membership); its reason in err. */
int nc_kafka_in_fatal(nc_kafka_in *in, char *err, size_t errlen);

/* Non-zero once any partition was ever assigned. */
int nc_kafka_in_ever_assigned(const nc_kafka_in *in);

#endif
