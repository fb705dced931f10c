/*
 * bounds.h - the librdkafka memory bounds derived from
 * limits.max_inflight_bytes: the consumer's prefetch queue and the
 * producer's queue, unless the user set them (README, "Limits", states the
 * resulting RSS ceiling).
 */
#ifndef NC_KAFKA_BOUNDS_H
#define NC_KAFKA_BOUNDS_H

#include "config/config.h"

/* queued.max.messages.kbytes: limits.queued_max_messages_kbytes, or when
 * that is 0 (the default) limits.max_inflight_bytes / 4 (at least 1 MiB).
 * librdkafka caps fetch.max.bytes (unless set) to this, but not below
 * message.max.bytes (docs/kafka.md, "Memory bounds"). */
int nc_bounds_prefetch_kbytes(const nc_config *cfg);

/* queue.buffering.max.kbytes: limits.max_inflight_bytes / 2, but room for at
 * least two records of max_message_bytes (a record larger than the whole
 * queue would wait for room for ever). */
int nc_bounds_producer_kbytes(const nc_config *cfg, size_t max_message_bytes);

#endif
