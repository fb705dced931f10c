/*
 * prom.h - a small Prometheus registry: counters, gauges and histograms
 * with fixed buckets, each a family with label names whose series are
 * created on first use of a tuple of label values, rendered in the
 * Prometheus text format 0.0.4 or in OpenMetrics 1.0.0 (counter families
 * named without _total, canonical bucket bounds, "# EOF"), both with HELP
 * and TYPE lines.
 *
 * One mutex guards a registry: updates are a handful per message (pipeline
 * thread, classification workers) and a scrape renders under the same lock,
 * so it never sees a half-updated series. Nothing here knows newsclfd's
 * metrics (metrics.h).
 */
#ifndef NC_PROM_H
#define NC_PROM_H

#include <stddef.h>
#include <stdint.h>

typedef struct nc_registry nc_registry;
typedef struct nc_family nc_family;

enum nc_prom_format { NC_PROM_TEXT = 0, NC_PROM_OPENMETRICS };

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
/* Sum over every series of a counter or gauge. */
double nc_family_sum(nc_family *f);
/* Removes every series (a gauge describing a set that changes, e.g. the
 * model info on reload). */
void nc_family_clear(nc_family *f);
/* Removes the series not set since the previous call (per-partition gauges
 * rebuilt from each statistics report: revoked partitions disappear). */
void nc_family_retain_touched(nc_family *f);

/* The Prometheus text of every family, malloc'd and NUL-terminated (*len
 * without the NUL). NULL when out of memory. */
char *nc_registry_render(nc_registry *r, size_t *len);
/* The same in either format. */
char *nc_registry_render_as(nc_registry *r, enum nc_prom_format fmt, size_t *len);

/* The format a scraper asks for in its Accept header (NULL: none):
 * OpenMetrics when it lists application/openmetrics-text (any version,
 * q above 0), else the Prometheus text format. */
enum nc_prom_format nc_prom_format_for(const char *accept);
/* The Content-Type of a rendering in fmt. */
const char *nc_prom_content_type(enum nc_prom_format fmt);

#endif
