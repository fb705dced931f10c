/*
 * commit.c - the at-least-once commit strategy (see commit.h).
 */
#include "commit.h"

#include <stdio.h>
#include <stdlib.h>

struct alo {
    nc_commit base; /* first: nc_commit * <-> struct alo * */
    nc_kafka_in *in;
    nc_log *log;
};

static int alo_advance(nc_commit *c, const char *topic, int32_t partition, int64_t next_offset,
                       char *err, size_t errlen)
{
    struct alo *a = (struct alo *)c;
    rd_kafka_topic_partition_list_t *l = rd_kafka_topic_partition_list_new(1);
    rd_kafka_resp_err_t r;

    /* rd_kafka_offset_store_message does not exist in 2.0.2 (KAFKA-NOTES.md):
     * store offset + 1 (next_offset already is) through offsets_store. */
    rd_kafka_topic_partition_list_add(l, topic, partition)->offset = next_offset;
    r = rd_kafka_offsets_store(nc_kafka_in_handle(a->in), l);
    if (!r)
        r = l->elems[0].err;
    rd_kafka_topic_partition_list_destroy(l);
    if (r) {
        /* _STATE: the partition was just revoked; the new owner resumes from
         * the last commit, so this is only a duplicate, never a loss. */
        snprintf(err, errlen, "offsets_store topic=%s partition=%d offset=%lld: %s", topic,
                 (int)partition, (long long)next_offset, rd_kafka_err2str(r));
        return -1;
    }
    return 0;
}

static int alo_checkpoint(nc_commit *c, enum nc_checkpoint_reason why,
                          const rd_kafka_topic_partition_list_t *parts, int timeout_ms, char *err,
                          size_t errlen)
{
    struct alo *a = (struct alo *)c;
    (void)parts; /* the stored offsets of the whole assignment are committed */
    if (why == NC_CHECKPOINT_TICK)
        return 0; /* enable.auto.commit does the periodic part */
    return nc_kafka_in_commit(a->in, timeout_ms, err, errlen);
}

static void alo_destroy(nc_commit *c)
{
    free(c);
}

static const struct nc_commit_ops alo_ops = {
    .name = "at-least-once",
    .begin = NULL,
    .advance = alo_advance,
    .checkpoint = alo_checkpoint,
    .destroy = alo_destroy,
};

nc_commit *nc_commit_at_least_once_new(nc_kafka_in *in, nc_log *log)
{
    struct alo *a = calloc(1, sizeof(*a));
    if (!a)
        return NULL;
    a->base.ops = &alo_ops;
    a->in = in;
    a->log = log;
    return &a->base;
}
