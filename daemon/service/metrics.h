/*
 * metrics.h - newsclfd's metric set and health state.
 *
 * An nc_metrics holds the daemon's families in a registry (prom.h) and the
 * state /readyz and the systemd STATUS line are made of. newsclfd creates
 * one and hands it to the pipeline, the HTTP endpoint and the notifier; the
 * hooks below are one-line calls from the pipeline, thread-safe, and no-ops
 * on NULL. Metrics are collected even when the HTTP endpoint is disabled:
 * the STATUS line and /readyz use the same state.
 *
 * Consumer lag and producer queue depth come from librdkafka's statistics
 * (nc_metrics_kafka_stats, a struct nc_kstats callback), never from
 * watermark queries (docs/kafka.md #4460: they ignore their timeout with the
 * brokers down, and a scrape must never block on Kafka).
 *
 * Counting rules (documented for dashboards and the tests):
 *   consumed     at dispatch, per input topic;
 *   classified   when a classified article's job finishes without being
 *                dead-lettered;
 *   deadlettered when an input goes to the dead-letter topic (or is dropped
 *                because dead-lettering is disabled), per reason; an article
 *                whose output was refused ("produce_failed") counts here only;
 *   produced     per output record acknowledged by the broker, per topic.
 * When idle, consumed == classified + deadlettered. Every dead-letter reason and every
 * label of the loaded model has its series from the start, at 0, so rate()
 * and alerts see the first event.
 *
 * The process metrics (process_cpu_seconds_total, _resident_memory_bytes,
 * _open_fds, _max_fds, _start_time_seconds) are read at each rendering from
 * getrusage, getrlimit and /proc/self; the start time is when the set was
 * created, at start-up.
 */
#ifndef NC_METRICS_H
#define NC_METRICS_H

#include <stddef.h>
#include <stdint.h>

#include "core/model.h"
#include "service/prom.h"

typedef struct nc_metrics nc_metrics;

/* A new set; version goes to newsclf_build_info. NULL when out of memory. */
nc_metrics *nc_metrics_new(const char *version);
/* After every thread using it has stopped. NULL is fine. */
void nc_metrics_free(nc_metrics *m);
/* The set's registry (NULL for NULL). */
nc_registry *nc_metrics_registry(nc_metrics *m);
/* nc_registry_render of the set, for the HTTP endpoint (NULL for NULL). */
char *nc_metrics_render(nc_metrics *m, size_t *len);
/* The same in fmt (Prometheus text or OpenMetrics, as the scraper asked). */
char *nc_metrics_render_as(nc_metrics *m, enum nc_prom_format fmt, size_t *len);

/* Pipeline hooks. */
void nc_metrics_consumed(nc_metrics *m, const char *topic);
/* labels_csv: the article's labels, comma-separated ("" for none). */
void nc_metrics_classified(nc_metrics *m, const char *labels_csv);
void nc_metrics_deadlettered(nc_metrics *m, const char *reason);
void nc_metrics_produced(nc_metrics *m, const char *topic);
void nc_metrics_delivery_failed(nc_metrics *m, const char *topic);
void nc_metrics_classify_seconds(nc_metrics *m, double s);
/* An input is done (all its records acknowledged); ts_ms: its Kafka
 * timestamp (ignored when <= 0). */
void nc_metrics_input_done(nc_metrics *m, int64_t ts_ms);
void nc_metrics_inflight(nc_metrics *m, size_t n);
/* event: "assigned", "revoked" or "lost"; n partitions. */
void nc_metrics_rebalance(nc_metrics *m, const char *event, int n);
/* A model was loaded (start or reload). NULL name: passthrough (no model
 * info series, but ready). */
void nc_metrics_model(nc_metrics *m, const char *name, const char *version);
/* Every label of model gets its newsclf_articles_labeled_total series, at
 * 0 until counted (at start and after each reload; earlier labels stay). */
void nc_metrics_model_labels(nc_metrics *m, const nc_model *model);
void nc_metrics_reload(nc_metrics *m, int ok);

/* Health state for /readyz. */
void nc_metrics_broker_reachable(nc_metrics *m, int up);
void nc_metrics_fatal(nc_metrics *m, const char *why);
void nc_metrics_stopping(nc_metrics *m);
/* 1 when ready; else 0 and a one-line reason in why. */
int nc_metrics_ready(nc_metrics *m, char *why, size_t whylen);

/* librdkafka statistics JSON (statistics.interval.ms); arg is the
 * nc_metrics. consumer: from the consumer (lag per partition, broker
 * reachability), else the producer (queue depth). */
void nc_metrics_kafka_stats(void *arg, int consumer, const char *json, size_t len);

/* The systemd STATUS line: articles/s since the previous call, total lag,
 * partitions, model version. */
void nc_metrics_status_line(nc_metrics *m, char *buf, size_t len);

#endif
