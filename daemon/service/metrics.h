/*
 * metrics.h - newsclfd's metrics and health state.
 *
 * Two layers:
 *
 * 1. A small registry (nc_registry): counters, gauges and histograms with
 *    fixed buckets, each a family with label names whose series are created
 *    on first use of a tuple of label values, rendered in the Prometheus text
 *    format 0.0.4 with HELP and TYPE lines. One mutex guards a registry:
 *    updates are a handful per message (pipeline thread, classification
 *    workers) and a scrape renders under the same lock, so it never sees a
 *    half-updated series.
 *
 * 2. The daemon's metric set and health state: nc_metrics_init() creates the
 *    process-wide set; the hooks below (nc_metrics_consumed(), ...) are
 *    one-line calls from the pipeline and are no-ops before init or after
 *    nc_metrics_shutdown(). Metrics are collected even when the HTTP endpoint
 *    is disabled: the systemd STATUS line and /readyz use the same state.
 *
 * Consumer lag and producer queue depth come from librdkafka's statistics
 * callback (nc_metrics_kafka_stats), never from watermark queries
 * (docs/kafka.md #4460: they ignore their timeout with the brokers down, and
 * a scrape must never block on Kafka).
 *
 * Counting rules (documented for dashboards and the tests):
 *   consumed     at dispatch, per input topic;
 *   classified   when a classified article's records are produced;
 *   deadlettered when an input goes to the dead-letter topic (or is dropped
 *                because dead-lettering is disabled), per reason;
 *   produced     per output record acknowledged by the broker, per topic.
 * When idle, consumed == classified + deadlettered, except that an article
 * whose output was refused per message (reason "produce_failed") was
 * classified first and counts in both.
 */
#ifndef NC_METRICS_H
#define NC_METRICS_H

#include <stddef.h>
#include <stdint.h>

/* ---- the registry ---- */

typedef struct nc_registry nc_registry;
typedef struct nc_family nc_family;

/* Label values for one series, in the family's label-name order:
 * nc_family_add(f, NC_LV("news.articles", "0"), 1). */
#define NC_LV(...) ((const char *const[]){__VA_ARGS__})

nc_registry *nc_registry_new(void);
void nc_registry_free(nc_registry *r);

/* Registers a family. labels: NULL-terminated label names, or NULL for none.
 * A family without labels has its single series from the start (value 0).
 * Histogram bounds: nbounds finite upper bounds, strictly increasing (+Inf
 * is implicit). Returns NULL when out of memory or on a bad name. */
nc_family *nc_registry_counter(nc_registry *r, const char *name, const char *help,
                               const char *const *labels);
nc_family *nc_registry_gauge(nc_registry *r, const char *name, const char *help,
                             const char *const *labels);
nc_family *nc_registry_histogram(nc_registry *r, const char *name, const char *help,
                                 const char *const *labels, const double *bounds, size_t nbounds);

/* Series updates. lv: one value per label name (ignored without labels).
 * add: counters (v >= 0) and gauges; set: gauges; observe: histograms. */
void nc_family_add(nc_family *f, const char *const *lv, double v);
void nc_family_set(nc_family *f, const char *const *lv, double v);
void nc_family_observe(nc_family *f, const char *const *lv, double v);
/* Value of a counter or gauge series (0 when it does not exist). */
double nc_family_get(nc_family *f, const char *const *lv);
/* Removes every series (a gauge describing a set that changes, e.g. the
 * model info on reload). */
void nc_family_clear(nc_family *f);
/* Removes the series not set since the previous call (per-partition gauges
 * rebuilt from each statistics report: revoked partitions disappear). */
void nc_family_retain_touched(nc_family *f);

/* The Prometheus text of every family, malloc'd and NUL-terminated (*len
 * without the NUL). NULL when out of memory. */
char *nc_registry_render(nc_registry *r, size_t *len);

/* ---- the daemon's metric set ---- */

/* Creates the process-wide set; version goes to newsclf_build_info. 0 or -1
 * (out of memory). Call before any thread uses the hooks. */
int nc_metrics_init(const char *version);
/* After every thread using the hooks has stopped. */
void nc_metrics_shutdown(void);
/* The set's registry (NULL before init), for rendering. */
nc_registry *nc_metrics_registry(void);
/* nc_registry_render of the set, for the HTTP endpoint. */
char *nc_metrics_render(size_t *len);

/* Pipeline hooks (thread-safe). */
void nc_metrics_consumed(const char *topic);
/* labels_csv: the article's labels, comma-separated ("" for none). */
void nc_metrics_classified(const char *labels_csv);
void nc_metrics_deadlettered(const char *reason);
void nc_metrics_produced(const char *topic);
void nc_metrics_delivery_failed(const char *topic);
void nc_metrics_classify_seconds(double s);
/* An input is done (all its records acknowledged); ts_ms: its Kafka
 * timestamp (ignored when <= 0). */
void nc_metrics_input_done(int64_t ts_ms);
void nc_metrics_inflight(size_t n);
/* event: "assigned", "revoked" or "lost"; n partitions. */
void nc_metrics_rebalance(const char *event, int n);
/* A model was loaded (start or reload). NULL name: passthrough (no model
 * info series, but ready). */
void nc_metrics_model(const char *name, const char *version);
void nc_metrics_reload(int ok);

/* Health state for /readyz. */
void nc_metrics_broker_reachable(int up);
void nc_metrics_fatal(const char *why);
void nc_metrics_stopping(void);
/* 1 when ready; else 0 and a one-line reason in why. */
int nc_metrics_ready(char *why, size_t whylen);

/* librdkafka statistics JSON (statistics.interval.ms). consumer: from the
 * consumer (lag per partition, broker reachability), else the producer
 * (queue depth). */
void nc_metrics_kafka_stats(int consumer, const char *json, size_t len);

/* The systemd STATUS line: articles/s since the previous call, total lag,
 * partitions, model version. */
void nc_metrics_status_line(char *buf, size_t len);

#endif
