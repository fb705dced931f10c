/*
 * prom.c - the Prometheus registry and its text format (see prom.h).
 */
#include "service/prom.h"

#include <math.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

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

double nc_family_sum(nc_family *f)
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

/* Drops the series of f (keep_touched: those not touched since the last
 * call), under the registry lock. A family without labels keeps its one. */
static void family_drop_locked(nc_family *f, int keep_touched)
{
    if (!f || f->nlabels == 0)
        return;
    pthread_mutex_lock(&f->reg->mu);
    family_drop(f, keep_touched);
    pthread_mutex_unlock(&f->reg->mu);
}

void nc_family_clear(nc_family *f)
{
    family_drop_locked(f, 0);
}

void nc_family_retain_touched(nc_family *f)
{
    family_drop_locked(f, 1);
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

/* Label values escape \, " and newline; HELP text escapes \ and newline
 * (and " in OpenMetrics). */
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

/* A bucket bound: %.15g, and in OpenMetrics with a ".0" on whole numbers,
 * the canonical form its parsers require ("1.0", as Go prints floats). */
static void bound_text(char *le, size_t n, double v, enum nc_prom_format fmt)
{
    snprintf(le, n, "%.15g", v);
    if (fmt == NC_PROM_OPENMETRICS && strspn(le, "-0123456789") == strlen(le))
        snprintf(le + strlen(le), n - strlen(le), ".0");
}

static int ends_in_total(const char *name)
{
    size_t n = strlen(name);
    return n > 6 && !strcmp(name + n - 6, "_total");
}

/* The family's name in HELP and TYPE: an OpenMetrics counter is named
 * without the _total of its samples. */
static void family_name(struct buf *b, const nc_family *f, enum nc_prom_format fmt)
{
    size_t n = strlen(f->name);
    if (fmt == NC_PROM_OPENMETRICS && f->type == F_COUNTER && ends_in_total(f->name))
        n -= 6;
    buf_put(b, f->name, n);
}

static void render_family(struct buf *b, const nc_family *f, enum nc_prom_format fmt)
{
    int om = fmt == NC_PROM_OPENMETRICS;

    buf_puts(b, "# HELP ");
    family_name(b, f, fmt);
    buf_puts(b, " ");
    buf_escaped(b, f->help, om);
    buf_puts(b, "\n# TYPE ");
    family_name(b, f, fmt);
    buf_printf(b, " %s\n", type_names[f->type]);
    for (const struct series *s = f->head; s; s = s->next) {
        if (f->type != F_HISTOGRAM) {
            buf_puts(b, f->name);
            /* OpenMetrics counter samples end in _total. */
            if (om && f->type == F_COUNTER && !ends_in_total(f->name))
                buf_puts(b, "_total");
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
                bound_text(le, sizeof(le), f->bounds[i], fmt);
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

char *nc_registry_render_as(nc_registry *r, enum nc_prom_format fmt, size_t *len)
{
    struct buf b = {0};

    buf_reserve(&b, 0);
    pthread_mutex_lock(&r->mu);
    for (const nc_family *f = r->head; f; f = f->next)
        render_family(&b, f, fmt);
    pthread_mutex_unlock(&r->mu);
    if (fmt == NC_PROM_OPENMETRICS)
        buf_puts(&b, "# EOF\n");
    if (b.oom) {
        free(b.p);
        return NULL;
    }
    *len = b.len;
    return b.p;
}

char *nc_registry_render(nc_registry *r, size_t *len)
{
    return nc_registry_render_as(r, NC_PROM_TEXT, len);
}

/* ---- content negotiation ---- */

/* One media range of an Accept header, [p, end): 1 when it is
 * application/openmetrics-text with a q above 0. */
static int range_is_openmetrics(const char *p, const char *end)
{
    static const char om[] = "application/openmetrics-text";
    const char *semi;

    while (p < end && (*p == ' ' || *p == '\t'))
        p++;
    if ((size_t)(end - p) < sizeof(om) - 1 || strncasecmp(p, om, sizeof(om) - 1) != 0)
        return 0;
    p += sizeof(om) - 1;
    while (p < end && (*p == ' ' || *p == '\t'))
        p++;
    if (p < end && *p != ';')
        return 0;
    /* Parameters: only q=0 refuses the type; any version is answered 1.0.0. */
    for (semi = p; semi && semi < end; semi = memchr(semi + 1, ';', (size_t)(end - semi - 1))) {
        const char *q = semi + 1;
        while (q < end && (*q == ' ' || *q == '\t'))
            q++;
        if (end - q >= 2 && (q[0] == 'q' || q[0] == 'Q') && q[1] == '=' && strtod(q + 2, NULL) <= 0)
            return 0;
    }
    return 1;
}

enum nc_prom_format nc_prom_format_for(const char *accept)
{
    const char *p = accept;

    while (p && *p) {
        const char *comma = strchr(p, ',');
        const char *end = comma ? comma : p + strlen(p);
        if (range_is_openmetrics(p, end))
            return NC_PROM_OPENMETRICS;
        p = comma ? comma + 1 : NULL;
    }
    return NC_PROM_TEXT;
}

const char *nc_prom_content_type(enum nc_prom_format fmt)
{
    return fmt == NC_PROM_OPENMETRICS ? "application/openmetrics-text; version=1.0.0; charset=utf-8"
                                      : "text/plain; version=0.0.4; charset=utf-8";
}
