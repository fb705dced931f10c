/*
 * metrics.c - the metrics registry, newsclfd's metric set and health state
 * (see metrics.h).
 */
#include "service/metrics.h"

#include <jansson.h>
#include <math.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/util.h"
#include "base/clock.h"

/* ---- registry ---- */

enum ftype { F_COUNTER = 0, F_GAUGE, F_HISTOGRAM };

static const char *const type_names[] = {"counter", "gauge", "histogram"};

struct series {
    struct series *next;
    char **lv;         /* nlabels values, owned */
    double value;      /* counter, gauge */
    uint64_t *buckets; /* histogram: per-bucket counts, nbounds + 1 (last: +Inf) */
    double sum;
    uint64_t count;
    int touched;
};

struct nc_family {
    nc_family *next;
    nc_registry *reg;
    enum ftype type;
    char *name;
    char *help;
    char **labels;
    size_t nlabels;
    double *bounds;
    size_t nbounds;
    struct series *head, *tail;
};

struct nc_registry {
    pthread_mutex_t mu;
    nc_family *head, *tail;
};

nc_registry *nc_registry_new(void)
{
    nc_registry *r = calloc(1, sizeof(*r));
    if (!r)
        return NULL;
    if (pthread_mutex_init(&r->mu, NULL) != 0) {
        free(r);
        return NULL;
    }
    return r;
}

static void series_free(const nc_family *f, struct series *s)
{
    if (!s)
        return;
    for (size_t i = 0; s->lv && i < f->nlabels; i++)
        free(s->lv[i]);
    free(s->lv);
    free(s->buckets);
    free(s);
}

static void family_free(nc_family *f)
{
    while (f->head) {
        struct series *s = f->head;
        f->head = s->next;
        series_free(f, s);
    }
    for (size_t i = 0; f->labels && i < f->nlabels; i++)
        free(f->labels[i]);
    free(f->labels);
    free(f->bounds);
    free(f->name);
    free(f->help);
    free(f);
}

void nc_registry_free(nc_registry *r)
{
    if (!r)
        return;
    while (r->head) {
        nc_family *f = r->head;
        r->head = f->next;
        family_free(f);
    }
    pthread_mutex_destroy(&r->mu);
    free(r);
}

static int valid_name(const char *s, int colon)
{
    if (!s || !*s || (*s >= '0' && *s <= '9'))
        return 0;
    for (; *s; s++) {
        char c = *s;
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '_' || (colon && c == ':')))
            return 0;
    }
    return 1;
}

/* Called with the registry lock held. */
static struct series *series_new(nc_family *f, const char *const *lv)
{
    struct series *s = calloc(1, sizeof(*s));
    if (!s)
        return NULL;
    if (f->nlabels) {
        s->lv = calloc(f->nlabels, sizeof(*s->lv));
        if (!s->lv)
            goto oom;
        for (size_t i = 0; i < f->nlabels; i++)
            /* lv holds f->nlabels values (the family's contract), or is NULL. */
            // NOLINTNEXTLINE(clang-analyzer-core.uninitialized.Branch)
            if (!(s->lv[i] = strdup(lv && lv[i] ? lv[i] : "")))
                goto oom;
    }
    if (f->type == F_HISTOGRAM && !(s->buckets = calloc(f->nbounds + 1, sizeof(*s->buckets))))
        goto oom;
    if (f->tail)
        f->tail->next = s;
    else
        f->head = s;
    f->tail = s;
    return s;
oom:
    series_free(f, s);
    return NULL;
}

/* Called with the registry lock held. NULL: absent (create == 0) or OOM. */
static struct series *series_find(nc_family *f, const char *const *lv, int create)
{
    for (struct series *s = f->head; s; s = s->next) {
        size_t i = 0;
        /* lv holds f->nlabels values (the family's contract), or is NULL. */
        // NOLINTNEXTLINE(clang-analyzer-core.uninitialized.Branch)
        while (i < f->nlabels && !strcmp(s->lv[i], lv && lv[i] ? lv[i] : ""))
            i++;
        if (i == f->nlabels)
            return s;
    }
    return create ? series_new(f, lv) : NULL;
}

static nc_family *family_new(nc_registry *r, enum ftype type, const char *name, const char *help,
                             const char *const *labels, const double *bounds, size_t nbounds)
{
    nc_family *f;

    if (!r || !valid_name(name, 1))
        return NULL;
    for (size_t i = 0; labels && labels[i]; i++)
        if (!valid_name(labels[i], 0) || (type == F_HISTOGRAM && !strcmp(labels[i], "le")))
            return NULL;
    for (size_t i = 1; i < nbounds; i++)
        if (!(bounds[i] > bounds[i - 1]))
            return NULL;
    f = calloc(1, sizeof(*f));
    if (!f)
        return NULL;
    f->reg = r;
    f->type = type;
    f->name = strdup(name);
    f->help = strdup(help ? help : "");
    if (!f->name || !f->help)
        goto fail;
    while (labels && labels[f->nlabels])
        f->nlabels++;
    if (f->nlabels) {
        f->labels = calloc(f->nlabels, sizeof(*f->labels));
        if (!f->labels)
            goto fail;
        for (size_t i = 0; i < f->nlabels; i++)
            if (!(f->labels[i] = strdup(labels[i])))
                goto fail;
    }
    if (type == F_HISTOGRAM && nbounds) {
        f->bounds = malloc(nbounds * sizeof(*f->bounds));
        if (!f->bounds)
            goto fail;
        memcpy(f->bounds, bounds, nbounds * sizeof(*f->bounds));
        f->nbounds = nbounds;
    }
    /* Without labels the one series exists from the start, so a rate() over
     * it has a zero to start from. */
    if (f->nlabels == 0 && !series_new(f, NULL))
        goto fail;
    pthread_mutex_lock(&r->mu);
    if (r->tail)
        r->tail->next = f;
    else
        r->head = f;
    r->tail = f;
    pthread_mutex_unlock(&r->mu);
    return f;
fail:
    family_free(f);
    return NULL;
}

nc_family *nc_registry_counter(nc_registry *r, const char *name, const char *help,
                               const char *const *labels)
{
    return family_new(r, F_COUNTER, name, help, labels, NULL, 0);
}

nc_family *nc_registry_gauge(nc_registry *r, const char *name, const char *help,
                             const char *const *labels)
{
    return family_new(r, F_GAUGE, name, help, labels, NULL, 0);
}

nc_family *nc_registry_histogram(nc_registry *r, const char *name, const char *help,
                                 const char *const *labels, const double *bounds, size_t nbounds)
{
    return family_new(r, F_HISTOGRAM, name, help, labels, bounds, nbounds);
}

void nc_family_add(nc_family *f, const char *const *lv, double v)
{
    struct series *s;
    if (!f || f->type == F_HISTOGRAM || (f->type == F_COUNTER && !(v >= 0)))
        return;
    pthread_mutex_lock(&f->reg->mu);
    s = series_find(f, lv, 1);
    if (s) {
        s->value += v;
        s->touched = 1;
    }
    pthread_mutex_unlock(&f->reg->mu);
}

void nc_family_set(nc_family *f, const char *const *lv, double v)
{
    struct series *s;
    if (!f || f->type != F_GAUGE)
        return;
    pthread_mutex_lock(&f->reg->mu);
    s = series_find(f, lv, 1);
    if (s) {
        s->value = v;
        s->touched = 1;
    }
    pthread_mutex_unlock(&f->reg->mu);
}

void nc_family_observe(nc_family *f, const char *const *lv, double v)
{
    struct series *s;
    size_t b = 0;
    if (!f || f->type != F_HISTOGRAM || isnan(v))
        return;
    while (b < f->nbounds && v > f->bounds[b])
        b++;
    pthread_mutex_lock(&f->reg->mu);
    s = series_find(f, lv, 1);
    if (s) {
        s->buckets[b]++;
        s->sum += v;
        s->count++;
        s->touched = 1;
    }
    pthread_mutex_unlock(&f->reg->mu);
}

double nc_family_get(nc_family *f, const char *const *lv)
{
    struct series *s;
    double v = 0;
    if (!f || f->type == F_HISTOGRAM)
        return 0;
    pthread_mutex_lock(&f->reg->mu);
    s = series_find(f, lv, 0);
    if (s)
        v = s->value;
    pthread_mutex_unlock(&f->reg->mu);
    return v;
}

/* Sum over every series of a counter or gauge. */
static double family_sum(nc_family *f)
{
    double v = 0;
    if (!f)
        return 0;
    pthread_mutex_lock(&f->reg->mu);
    for (struct series *s = f->head; s; s = s->next)
        v += s->value;
    pthread_mutex_unlock(&f->reg->mu);
    return v;
}

static void family_drop(nc_family *f, int keep_touched)
{
    struct series **pp = &f->head;
    f->tail = NULL;
    while (*pp) {
        struct series *s = *pp;
        if (keep_touched && s->touched) {
            s->touched = 0;
            f->tail = s;
            pp = &s->next;
        } else {
            *pp = s->next;
            series_free(f, s);
        }
    }
}

void nc_family_clear(nc_family *f)
{
    if (!f || f->nlabels == 0)
        return;
    pthread_mutex_lock(&f->reg->mu);
    family_drop(f, 0);
    pthread_mutex_unlock(&f->reg->mu);
}

void nc_family_retain_touched(nc_family *f)
{
    if (!f || f->nlabels == 0)
        return;
    pthread_mutex_lock(&f->reg->mu);
    family_drop(f, 1);
    pthread_mutex_unlock(&f->reg->mu);
}

/* ---- rendering ---- */

struct buf {
    char *p;
    size_t len, cap;
    int oom;
};

static void buf_reserve(struct buf *b, size_t more)
{
    char *n;
    size_t cap;
    if (b->oom || b->len + more + 1 <= b->cap)
        return;
    cap = b->cap ? b->cap : 4096;
    while (cap < b->len + more + 1)
        cap *= 2;
    n = realloc(b->p, cap);
    if (!n) {
        b->oom = 1;
        return;
    }
    b->p = n;
    b->cap = cap;
}

static void buf_put(struct buf *b, const char *s, size_t n)
{
    buf_reserve(b, n);
    if (b->oom)
        return;
    memcpy(b->p + b->len, s, n);
    b->len += n;
    b->p[b->len] = '\0';
}

static void buf_puts(struct buf *b, const char *s)
{
    buf_put(b, s, strlen(s));
}

static void buf_printf(struct buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void buf_printf(struct buf *b, const char *fmt, ...)
{
    va_list ap;
    int n;
    char small[128];

    va_start(ap, fmt);
    /* va_start above initialises ap; the analyzer loses track of it. */
    n = vsnprintf(small, sizeof(small), fmt, ap); // NOLINT(clang-analyzer-valist.Uninitialized)
    va_end(ap);
    if (n < 0)
        return;
    if ((size_t)n < sizeof(small)) {
        buf_put(b, small, (size_t)n);
        return;
    }
    buf_reserve(b, (size_t)n);
    if (b->oom)
        return;
    va_start(ap, fmt);
    vsnprintf(b->p + b->len, (size_t)n + 1, fmt, ap);
    va_end(ap);
    b->len += (size_t)n;
}

/* Label values escape \, " and newline; HELP text escapes \ and newline. */
static void buf_escaped(struct buf *b, const char *s, int quote)
{
    for (; *s; s++) {
        if (*s == '\\')
            buf_puts(b, "\\\\");
        else if (*s == '\n')
            buf_puts(b, "\\n");
        else if (quote && *s == '"')
            buf_puts(b, "\\\"");
        else
            buf_put(b, s, 1);
    }
}

static void buf_number(struct buf *b, double v)
{
    if (isnan(v))
        buf_puts(b, "NaN");
    else if (isinf(v))
        buf_puts(b, v > 0 ? "+Inf" : "-Inf");
    else if (v == floor(v) && fabs(v) < 1e15)
        buf_printf(b, "%.0f", v);
    else
        buf_printf(b, "%.15g", v);
}

/* {a="x",b="y"[,le="..."]} or nothing. */
static void buf_labels(struct buf *b, const nc_family *f, const struct series *s, const char *le)
{
    if (f->nlabels == 0 && !le)
        return;
    buf_puts(b, "{");
    for (size_t i = 0; i < f->nlabels; i++) {
        buf_printf(b, "%s%s=\"", i ? "," : "", f->labels[i]);
        buf_escaped(b, s->lv[i], 1);
        buf_puts(b, "\"");
    }
    if (le)
        buf_printf(b, "%sle=\"%s\"", f->nlabels ? "," : "", le);
    buf_puts(b, "}");
}

static void render_family(struct buf *b, const nc_family *f)
{
    buf_printf(b, "# HELP %s ", f->name);
    buf_escaped(b, f->help, 0);
    buf_printf(b, "\n# TYPE %s %s\n", f->name, type_names[f->type]);
    for (const struct series *s = f->head; s; s = s->next) {
        if (f->type != F_HISTOGRAM) {
            buf_puts(b, f->name);
            buf_labels(b, f, s, NULL);
            buf_puts(b, " ");
            buf_number(b, s->value);
            buf_puts(b, "\n");
            continue;
        }
        uint64_t cum = 0;
        for (size_t i = 0; i <= f->nbounds; i++) {
            char le[64];
            cum += s->buckets[i];
            if (i < f->nbounds)
                snprintf(le, sizeof(le), "%.15g", f->bounds[i]);
            else
                snprintf(le, sizeof(le), "+Inf");
            buf_printf(b, "%s_bucket", f->name);
            buf_labels(b, f, s, le);
            buf_printf(b, " %llu\n", (unsigned long long)cum);
        }
        buf_printf(b, "%s_sum", f->name);
        buf_labels(b, f, s, NULL);
        buf_puts(b, " ");
        buf_number(b, s->sum);
        buf_printf(b, "\n%s_count", f->name);
        buf_labels(b, f, s, NULL);
        buf_printf(b, " %llu\n", (unsigned long long)s->count);
    }
}

char *nc_registry_render(nc_registry *r, size_t *len)
{
    struct buf b = {0};

    buf_reserve(&b, 0);
    pthread_mutex_lock(&r->mu);
    for (const nc_family *f = r->head; f; f = f->next)
        render_family(&b, f);
    pthread_mutex_unlock(&r->mu);
    if (b.oom) {
        free(b.p);
        return NULL;
    }
    *len = b.len;
    return b.p;
}

/* ---- the daemon's metric set ---- */

/* Seconds. Classification of one article takes about 0.1-10 ms. */
static const double classify_bounds[] = {0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005,
                                         0.01,   0.025,   0.05,   0.1,   0.25,   1};
/* Seconds from the input's timestamp to the last acknowledgement of its
 * outputs: milliseconds when keeping up, minutes when catching up. */
static const double e2e_bounds[] = {0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1,
                                    2.5,   5,    10,    30,   60,  300,  900, 3600};

struct dm {
    nc_registry *reg;
    nc_family *consumed, *classified, *deadlettered, *labeled, *produced, *delivery_failed;
    nc_family *classify_seconds, *e2e_seconds, *inflight, *lag, *pq_msgs, *pq_bytes;
    nc_family *model_info, *model_loaded, *reloads, *reload_failures, *rebalances, *assigned;

    pthread_mutex_t mu; /* the health and status state below */
    int model_loaded_flag;
    int broker_up;
    int nassigned;
    int stopping;
    char fatal[256];
    char model_version[128];
    long long lag_total; /* -1: not known yet */
    double status_t, status_consumed;
};

static struct dm *g;

static double wall_seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

#define L(...) ((const char *const[]){__VA_ARGS__, NULL})

int nc_metrics_init(const char *version)
{
    struct dm *d = calloc(1, sizeof(*d));
    nc_registry *r;
    nc_family *build;

    if (!d || !(d->reg = r = nc_registry_new()))
        goto fail;
    if (pthread_mutex_init(&d->mu, NULL) != 0) {
        nc_registry_free(r);
        goto fail;
    }
    build =
        nc_registry_gauge(r, "newsclf_build_info", "newsclfd build; the value is 1", L("version"));
    d->consumed = nc_registry_counter(r, "newsclf_articles_consumed_total",
                                      "Input messages consumed, per input topic", L("topic"));
    d->classified = nc_registry_counter(r, "newsclf_articles_classified_total",
                                        "Articles classified and produced to the outputs", NULL);
    d->deadlettered = nc_registry_counter(
        r, "newsclf_articles_deadlettered_total",
        "Inputs sent to the dead-letter topic (or dropped when it is disabled), per reason",
        L("reason"));
    d->labeled = nc_registry_counter(r, "newsclf_articles_labeled_total",
                                     "Classified articles that got the label", L("label"));
    d->produced =
        nc_registry_counter(r, "newsclf_records_produced_total",
                            "Output records acknowledged by the broker, per topic", L("topic"));
    d->delivery_failed =
        nc_registry_counter(r, "newsclf_records_failed_total",
                            "Output records that failed for good, per topic", L("topic"));
    d->classify_seconds = nc_registry_histogram(
        r, "newsclf_classification_duration_seconds",
        "Time to parse, classify and encode one article", NULL, classify_bounds,
        sizeof(classify_bounds) / sizeof(classify_bounds[0]));
    d->e2e_seconds = nc_registry_histogram(
        r, "newsclf_end_to_end_latency_seconds",
        "From the input message's timestamp to the acknowledgement of its last output", NULL,
        e2e_bounds, sizeof(e2e_bounds) / sizeof(e2e_bounds[0]));
    d->inflight =
        nc_registry_gauge(r, "newsclf_inflight_messages",
                          "Inputs consumed and not yet done (outputs unacknowledged)", NULL);
    d->lag = nc_registry_gauge(r, "newsclf_consumer_lag_messages",
                               "Consumer lag per assigned input partition (librdkafka statistics)",
                               L("topic", "partition"));
    d->pq_msgs =
        nc_registry_gauge(r, "newsclf_producer_queue_messages",
                          "Records in the producer's queues (librdkafka statistics)", NULL);
    d->pq_bytes = nc_registry_gauge(r, "newsclf_producer_queue_bytes",
                                    "Bytes in the producer's queues (librdkafka statistics)", NULL);
    d->model_info = nc_registry_gauge(r, "newsclf_model_info", "The loaded model; the value is 1",
                                      L("name", "version"));
    d->model_loaded = nc_registry_gauge(r, "newsclf_model_loaded_timestamp_seconds",
                                        "When the loaded model was loaded (Unix time)", NULL);
    d->reloads =
        nc_registry_counter(r, "newsclf_reloads_total", "Successful reloads (SIGHUP)", NULL);
    d->reload_failures =
        nc_registry_counter(r, "newsclf_reload_failures_total",
                            "Refused reloads (the running config and model stayed)", NULL);
    d->rebalances = nc_registry_counter(r, "newsclf_rebalances_total",
                                        "Consumer group rebalance events (assigned, revoked, lost)",
                                        L("event"));
    d->assigned = nc_registry_gauge(r, "newsclf_assigned_partitions",
                                    "Input partitions currently assigned", NULL);
    if (!build || !d->consumed || !d->classified || !d->deadlettered || !d->labeled ||
        !d->produced || !d->delivery_failed || !d->classify_seconds || !d->e2e_seconds ||
        !d->inflight || !d->lag || !d->pq_msgs || !d->pq_bytes || !d->model_info ||
        !d->model_loaded || !d->reloads || !d->reload_failures || !d->rebalances || !d->assigned) {
        pthread_mutex_destroy(&d->mu);
        nc_registry_free(r);
        goto fail;
    }
    nc_family_set(build, NC_LV(version), 1);
    /* Known label values start at 0, so rate() and increase() see the first. */
    nc_family_add(d->rebalances, NC_LV("assigned"), 0);
    nc_family_add(d->rebalances, NC_LV("revoked"), 0);
    nc_family_add(d->rebalances, NC_LV("lost"), 0);
    d->lag_total = -1;
    d->status_t = nc_now();
    g = d;
    return 0;
fail:
    free(d);
    return -1;
}

void nc_metrics_shutdown(void)
{
    struct dm *d = g;
    if (!d)
        return;
    g = NULL;
    pthread_mutex_destroy(&d->mu);
    nc_registry_free(d->reg);
    free(d);
}

nc_registry *nc_metrics_registry(void)
{
    return g ? g->reg : NULL;
}

char *nc_metrics_render(size_t *len)
{
    return g ? nc_registry_render(g->reg, len) : NULL;
}

void nc_metrics_consumed(const char *topic)
{
    if (g)
        nc_family_add(g->consumed, NC_LV(topic), 1);
}

void nc_metrics_classified(const char *labels_csv)
{
    char label[256];
    const char *s = labels_csv;

    if (!g)
        return;
    nc_family_add(g->classified, NULL, 1);
    while (s && *s) {
        const char *e = strchr(s, ',');
        size_t n = e ? (size_t)(e - s) : strlen(s);
        if (n > 0 && n < sizeof(label)) {
            memcpy(label, s, n);
            label[n] = '\0';
            nc_family_add(g->labeled, NC_LV(label), 1);
        }
        s = e ? e + 1 : NULL;
    }
}

void nc_metrics_deadlettered(const char *reason)
{
    if (g)
        nc_family_add(g->deadlettered, NC_LV(reason), 1);
}

void nc_metrics_produced(const char *topic)
{
    if (g)
        nc_family_add(g->produced, NC_LV(topic), 1);
}

void nc_metrics_delivery_failed(const char *topic)
{
    if (g)
        nc_family_add(g->delivery_failed, NC_LV(topic), 1);
}

void nc_metrics_classify_seconds(double s)
{
    if (g)
        nc_family_observe(g->classify_seconds, NULL, s < 0 ? 0 : s);
}

void nc_metrics_input_done(int64_t ts_ms)
{
    double s;
    if (!g || ts_ms <= 0)
        return;
    s = wall_seconds() - (double)ts_ms / 1000.0;
    /* A producer clock ahead of ours: count it as immediate. */
    nc_family_observe(g->e2e_seconds, NULL, s < 0 ? 0 : s);
}

void nc_metrics_inflight(size_t n)
{
    if (g)
        nc_family_set(g->inflight, NULL, (double)n);
}

void nc_metrics_rebalance(const char *event, int n)
{
    int assigned;
    if (!g)
        return;
    nc_family_add(g->rebalances, NC_LV(event), 1);
    pthread_mutex_lock(&g->mu);
    g->nassigned += strcmp(event, "assigned") ? -n : n;
    if (g->nassigned < 0)
        g->nassigned = 0;
    assigned = g->nassigned;
    pthread_mutex_unlock(&g->mu);
    nc_family_set(g->assigned, NULL, assigned);
}

void nc_metrics_model(const char *name, const char *version)
{
    if (!g)
        return;
    if (name) {
        /* Exactly one series: the reload tool (scripts/retrain) confirms a
         * reload by newsclf_model_info{name,version} 1. */
        nc_family_clear(g->model_info);
        nc_family_set(g->model_info, NC_LV(name, version ? version : ""), 1);
        nc_family_set(g->model_loaded, NULL, wall_seconds());
    }
    pthread_mutex_lock(&g->mu);
    g->model_loaded_flag = 1;
    snprintf(g->model_version, sizeof(g->model_version), "%s",
             name ? (version ? version : "") : "passthrough");
    pthread_mutex_unlock(&g->mu);
}

void nc_metrics_reload(int ok)
{
    if (g)
        nc_family_add(ok ? g->reloads : g->reload_failures, NULL, 1);
}

void nc_metrics_broker_reachable(int up)
{
    if (!g)
        return;
    pthread_mutex_lock(&g->mu);
    g->broker_up = up;
    pthread_mutex_unlock(&g->mu);
}

void nc_metrics_fatal(const char *why)
{
    if (!g)
        return;
    pthread_mutex_lock(&g->mu);
    if (!g->fatal[0])
        snprintf(g->fatal, sizeof(g->fatal), "%s", why && *why ? why : "fatal error");
    pthread_mutex_unlock(&g->mu);
}

void nc_metrics_stopping(void)
{
    if (!g)
        return;
    pthread_mutex_lock(&g->mu);
    g->stopping = 1;
    pthread_mutex_unlock(&g->mu);
}

int nc_metrics_ready(char *why, size_t whylen)
{
    int ok = 0;
    if (!g) {
        snprintf(why, whylen, "starting");
        return 0;
    }
    pthread_mutex_lock(&g->mu);
    if (g->fatal[0])
        snprintf(why, whylen, "fatal error: %s", g->fatal);
    else if (g->stopping)
        snprintf(why, whylen, "stopping");
    else if (!g->model_loaded_flag)
        snprintf(why, whylen, "no model loaded");
    else if (g->nassigned == 0 && !g->broker_up)
        snprintf(why, whylen, "waiting for broker (not reachable)");
    else
        ok = 1;
    pthread_mutex_unlock(&g->mu);
    if (ok)
        snprintf(why, whylen, "ready");
    return ok;
}

/* ---- librdkafka statistics ---- */

/* Any broker connection up: the cluster is reachable. */
static int any_broker_up(json_t *root)
{
    json_t *brokers = json_object_get(root, "brokers");
    const char *name;
    json_t *b;
    json_object_foreach(brokers, name, b)
    {
        const char *state = json_string_value(json_object_get(b, "state"));
        if (state && !strcmp(state, "UP"))
            return 1;
    }
    return 0;
}

static void consumer_stats(struct dm *d, json_t *root)
{
    json_t *topics = json_object_get(root, "topics");
    const char *tname, *pname;
    json_t *t, *pt;
    long long total = 0;
    int up = any_broker_up(root);

    json_object_foreach(topics, tname, t)
    {
        json_t *parts = json_object_get(t, "partitions");
        json_object_foreach(parts, pname, pt)
        {
            json_t *lag = json_object_get(pt, "consumer_lag");
            /* Partition -1 is librdkafka's internal UA partition; lag -1
             * means unknown (not assigned, or no position yet). */
            if (!strcmp(pname, "-1") || !json_is_integer(lag) || json_integer_value(lag) < 0)
                continue;
            nc_family_set(d->lag, NC_LV(tname, pname), (double)json_integer_value(lag));
            total += json_integer_value(lag);
        }
    }
    nc_family_retain_touched(d->lag);
    pthread_mutex_lock(&d->mu);
    d->lag_total = total;
    d->broker_up = up;
    pthread_mutex_unlock(&d->mu);
}

static void producer_stats(struct dm *d, json_t *root)
{
    json_t *cnt = json_object_get(root, "msg_cnt"), *size = json_object_get(root, "msg_size");
    if (json_is_integer(cnt))
        nc_family_set(d->pq_msgs, NULL, (double)json_integer_value(cnt));
    if (json_is_integer(size))
        nc_family_set(d->pq_bytes, NULL, (double)json_integer_value(size));
}

void nc_metrics_kafka_stats(int consumer, const char *json, size_t len)
{
    json_error_t jerr;
    json_t *root;

    if (!g)
        return;
    root = json_loadb(json, len, 0, &jerr);
    if (!root)
        return;
    if (consumer)
        consumer_stats(g, root);
    else
        producer_stats(g, root);
    json_decref(root);
}

void nc_metrics_status_line(char *buf, size_t len)
{
    double now, consumed, rate;
    char lag[32];

    if (!g) {
        snprintf(buf, len, "starting");
        return;
    }
    now = nc_now();
    consumed = family_sum(g->consumed);
    pthread_mutex_lock(&g->mu);
    rate = now > g->status_t ? (consumed - g->status_consumed) / (now - g->status_t) : 0;
    g->status_t = now;
    g->status_consumed = consumed;
    if (g->lag_total >= 0)
        snprintf(lag, sizeof(lag), "%lld", g->lag_total);
    else
        snprintf(lag, sizeof(lag), "unknown");
    if (g->fatal[0])
        snprintf(buf, len, "fatal error: %s", g->fatal);
    else if (g->stopping)
        snprintf(buf, len, "stopping");
    else if (g->nassigned == 0 && !g->broker_up)
        snprintf(buf, len, "waiting for broker; model %s", g->model_version);
    else
        snprintf(buf, len, "%.1f articles/s, lag %s, %d partitions, model %s", rate, lag,
                 g->nassigned, g->model_version);
    pthread_mutex_unlock(&g->mu);
}
