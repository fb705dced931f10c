/*
 * pipeline.h - consume -> classify -> produce, with per-partition offset
 * watermarks, backpressure, dead-lettering, reload and an orderly drain.
 *
 * Threading. One pipeline thread (the caller of nc_pipeline_run) owns every
 * Kafka handle and all bookkeeping: it polls the consumer, hands each message
 * to a job in a FIFO, produces finished jobs strictly from the FIFO head and
 * serves delivery reports. limits.workers threads (0 = classify inline on the
 * pipeline thread) only parse, classify and encode jobs: pure CPU work on
 * immutable data (the model and config snapshot the job holds). Because
 * outputs are produced in FIFO (= consumption) order by one thread, the
 * outputs of one input partition are produced in input order; the idempotent
 * producer keeps that order on the broker.
 *
 * Delivery. Each input message is a job linked in its partition's list in
 * offset order. A job is done when every record it produced (aggregate,
 * label topics, or its dead-letter record) was acknowledged; the partition's
 * watermark moves over the leading done jobs and the commit strategy
 * (commit.h) is told the new next offset. A job whose output failed for good
 * never becomes done, so nothing past it is ever committed.
 *
 * Backpressure. At most limits.max_inflight_per_partition jobs per partition
 * and limits.max_inflight_total in all (consumed, not yet acknowledged). A
 * partition over its bound is paused; at the total bound consumption stops
 * while delivery reports are served, and if no room comes within a second
 * every partition is paused (pausing drops the consumer's prefetch, so it is
 * not done for brief overshoots). Paused partitions resume below half of the
 * bound; only partitions we paused are resumed (docs/kafka.md #4636). A full
 * producer queue is waited out the same way (poll, retry).
 *
 * Reload. nc_pipeline_run checks the reload flag between batches: a new
 * config and model are loaded and validated completely (topics checked too)
 * before they replace the old snapshot; jobs already dispatched finish with
 * the snapshot they started with. On any failure the old one stays.
 *
 * Output. Routing, record headers and dead letters are kafka/output.h's,
 * shared with `newsclf reclassify`. The pipeline's files are listed in
 * pipeline_int.h.
 */
#ifndef NC_PIPELINE_H
#define NC_PIPELINE_H

#include <signal.h>
#include <stddef.h>

#include "config/config.h"
#include "kafka/conf.h"
#include "kafka/embedded.h"
#include "service/metrics.h"
#include "service/notify.h"
#include "base/log.h"

typedef struct nc_pipeline nc_pipeline;

struct nc_pipeline_opts {
    const nc_config *cfg;  /* start-up config; must outlive the pipeline */
    const char *bootstrap; /* resolved bootstrap servers */
    nc_log *log;
    nc_metrics *metrics;   /* updated by the pipeline; NULL: none */
    nc_notify *notify;     /* systemd notification; NULL: none */
    const struct nc_kstats *stats; /* librdkafka statistics of both clients; NULL: none */
    nc_embedded *embedded; /* non-NULL: in-process mock; outputs created there */
    /* Benchmark reference: copy each input unchanged to the aggregate topic,
     * no parsing or classification, same Kafka settings and bookkeeping. */
    int passthrough;
    volatile sig_atomic_t *stop;   /* set by SIGTERM/SIGINT */
    volatile sig_atomic_t *reload; /* set by SIGHUP; cleared by the pipeline */
    /* Re-reads the configuration for a reload (file + --set overrides,
     * validated). The pipeline owns the result. NULL with err on failure. */
    nc_config *(*load_config)(void *arg, char *err, size_t errlen);
    void *load_config_arg;
};

/*
 * Loads the model, creates the producer and the consumer (subscribed, not
 * polled yet), sends systemd READY (notify.h), then waits for the brokers
 * (retrying, until *stop) and checks the output topics. Returns 0, or -1
 * with err (missing topics, bad model, stopped while waiting).
 */
int nc_pipeline_new(const struct nc_pipeline_opts *opts, nc_pipeline **out, char *err,
                    size_t errlen);

/*
 * Runs until *stop is set or a fatal error, then drains: produces what was
 * consumed, waits for acknowledgements, commits, closes the consumer, all
 * within limits.shutdown_timeout_ms. Returns 0 after a clean drain, -1 with
 * err after a fatal error or an incomplete drain (nothing unacknowledged was
 * committed either way).
 */
int nc_pipeline_run(nc_pipeline *p, char *err, size_t errlen);

void nc_pipeline_free(nc_pipeline *p);

#endif
