/*
 * bounds.c - the consumer prefetch and producer queue bounds derived from
 * limits.max_inflight_bytes (see bounds.h).
 */
#include "kafka/bounds.h"

#include <limits.h>

#define KB 1024u

static int kbytes(size_t bytes)
{
    size_t kb = bytes / KB; /* librdkafka's ranges end at INT_MAX / 1024 */
    return kb > (size_t)INT_MAX / KB ? (int)(INT_MAX / KB) : (int)kb;
}

int nc_bounds_prefetch_kbytes(const nc_config *cfg)
{
    size_t b = cfg->limits.max_inflight_bytes / 4;
    if (cfg->limits.queued_max_messages_kbytes > 0)
        return cfg->limits.queued_max_messages_kbytes;
    return kbytes(b < (size_t)KB * KB ? (size_t)KB * KB : b);
}

int nc_bounds_producer_kbytes(const nc_config *cfg, size_t max_message_bytes)
{
    size_t b = cfg->limits.max_inflight_bytes / 2;
    if (b < 2 * max_message_bytes + KB)
        b = 2 * max_message_bytes + KB;
    return kbytes(b);
}
