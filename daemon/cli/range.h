/*
 * range.h - the range `newsclf reclassify` reads: the --from / --to
 * arguments (an RFC 3339 time or a date, an offset for every partition,
 * PARTITION:OFFSET pairs, beginning, end) and, per input partition, the
 * offsets [start, end) they come to. Times are looked up by message
 * timestamp (offsetsForTimes); a partition whose broker did not look one up
 * is scanned, filtering on the message timestamps.
 */
#ifndef NC_CLI_RANGE_H
#define NC_CLI_RANGE_H

#include <librdkafka/rdkafka.h>
#include <stddef.h>
#include <stdint.h>

#include "cli/kafka_cmd.h"

/* One end of a range: --from / --to. */
struct nc_bound {
    enum { NC_B_NONE, NC_B_BEGINNING, NC_B_END, NC_B_TIME, NC_B_OFFSET, NC_B_PARTS } kind;
    int64_t value; /* ms (NC_B_TIME) or offset (NC_B_OFFSET) */
    int32_t part[NC_CLI_MAX_ITEMS];
    int64_t off[NC_CLI_MAX_ITEMS]; /* NC_B_PARTS: partition:offset pairs */
    size_t nparts;
};

/* 0, or -1 when s is none of the forms above. */
int nc_bound_parse(const char *s, struct nc_bound *b);

/* One partition of the range [start, end). */
struct nc_prange {
    const char *topic;
    int32_t partition;
    int64_t start, end;
    int scan_from, scan_to; /* filter by message timestamp (see range.c) */
    int done;
};

struct nc_range {
    struct nc_bound from, to;
    struct nc_prange *pr; /* end: the high watermark at start, before planning */
    size_t npr;
};

/* Applies --from and --to to every partition's [low, high) (lows[i]), with
 * k's consumer for the time lookups. 0, or -1 (printed). */
int nc_range_plan(struct nc_kcmd *k, struct nc_range *r, const int64_t *lows, int timeout_ms);

/* The partition of message m, or NULL. */
struct nc_prange *nc_range_find(struct nc_range *r, const rd_kafka_message_t *m);

#endif
