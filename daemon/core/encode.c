/* encode.c - see encode.h. */
#include "core/encode.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/util.h"
#include "base/clock.h"

size_t nc_encode_labels_csv(const nc_model *m, const nc_result *r, char *buf, size_t buflen)
{
    size_t n = 0;
    if (buflen)
        buf[0] = '\0';
    for (size_t k = 0; k < r->nlabels; k++) {
        if (!r->on[k])
            continue;
        int w = snprintf(buf + n, buflen > n ? buflen - n : 0, "%s%s", n ? "," : "",
                         nc_model_label(m, k));
        if (w < 0 || (size_t)w >= (buflen > n ? buflen - n : 0)) {
            if (buflen)
                buf[n < buflen ? n : buflen - 1] = '\0';
            return n;
        }
        n += (size_t)w;
    }
    return n;
}

static json_t *article_value(const nc_article *a, const struct nc_encode_opts *o)
{
    json_t *src = nc_article_json(a);
    if (!src) { /* plain text */
        size_t blen;
        const char *body = nc_article_body(a, &blen);
        json_t *obj = json_object();
        json_object_set_new(obj, "body", json_stringn(body ? body : "", blen));
        if (o->article_mode == NC_ARTICLE_LIST) {
            int wanted = 0;
            for (size_t i = 0; i < o->nfields; i++)
                wanted |= strcmp(o->fields[i], "body") == 0;
            if (!wanted)
                json_object_del(obj, "body");
        }
        return obj;
    }
    if (o->article_mode == NC_ARTICLE_ALL)
        return json_incref(src);
    json_t *obj = json_object();
    for (size_t i = 0; i < o->nfields; i++) {
        json_t *v = json_object_get(src, o->fields[i]);
        if (v)
            json_object_set(obj, o->fields[i], v);
    }
    return obj;
}

/* Growable output buffer; after a failed allocation it stays failed. */
struct obuf {
    char *p;
    size_t n, cap;
    int ok;
    const char *why; /* set when a failure is not for lack of memory */
};

static void ob_put(struct obuf *b, const char *s, size_t n)
{
    if (!b->ok)
        return;
    if (b->n + n + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 1024;
        while (cap < b->n + n + 1)
            cap *= 2;
        char *p = realloc(b->p, cap);
        if (!p) {
            b->ok = 0;
            return;
        }
        b->p = p;
        b->cap = cap;
    }
    memcpy(b->p + b->n, s, n);
    b->n += n;
    b->p[b->n] = '\0';
}

#define OB_LIT(b, lit) ob_put((b), (lit), sizeof(lit) - 1)

static void ob_int(struct obuf *b, long long v)
{
    char t[24];
    int n = snprintf(t, sizeof(t), "%lld", v);
    ob_put(b, t, (size_t)n);
}

/* A JSON string as jansson writes it: printable ASCII other than '"' and '\'
 * is copied as is; anything else is left to jansson's own escaping. */
static void ob_string(struct obuf *b, const char *s, size_t n)
{
    size_t i = 0;
    while (i < n && (unsigned char)s[i] >= 0x20 && (unsigned char)s[i] < 0x7F && s[i] != '"' &&
           s[i] != '\\')
        i++;
    if (i == n) {
        OB_LIT(b, "\"");
        ob_put(b, s, n);
        OB_LIT(b, "\"");
        return;
    }
    if (!nc_utf8_valid(s, n)) {
        b->ok = 0;
        b->why = "a string of the record is not valid UTF-8";
        return;
    }
    json_t *j = json_stringn(s, n);
    char *d = j ? json_dumps(j, JSON_ENCODE_ANY) : NULL;
    json_decref(j);
    if (!d) {
        b->ok = 0;
        return;
    }
    ob_put(b, d, strlen(d));
    free(d);
}

size_t nc_encode_real(double v, char *buf, size_t buflen)
{
    /* jansson's jsonp_dtostr() with JSON_REAL_PRECISION(6): "%.6g", ".0"
     * appended when there is neither '.' nor 'e', and the exponent written
     * without '+' and leading zeros. The process never leaves the C locale. */
    char t[40];
    int r = snprintf(t, sizeof(t), "%.6g", v);
    if (r < 0 || (size_t)r >= sizeof(t) - 3)
        return 0;
    size_t n = (size_t)r;
    char *e = strchr(t, 'e');
    if (!e && !strchr(t, '.')) {
        t[n++] = '.';
        t[n++] = '0';
        t[n] = '\0';
    }
    if (e) {
        char *start = e + 1, *end = e + 2;
        if (*start == '-')
            start++;
        while (*end == '0')
            end++;
        if (end != start) {
            memmove(start, end, n - (size_t)(end - t) + 1);
            n -= (size_t)(end - start);
        }
    }
    if (n + 1 > buflen)
        return 0;
    memcpy(buf, t, n + 1);
    return n;
}

/* "name":value pairs of one score table (values known to be finite). */
static void ob_scores(struct obuf *b, const nc_model *m, const nc_result *r, const double *v)
{
    OB_LIT(b, "{");
    for (size_t k = 0; k < r->nlabels; k++) {
        const char *name = nc_model_label(m, k);
        char num[40];
        size_t n = nc_encode_real(v[k], num, sizeof(num));
        if (k)
            OB_LIT(b, ",");
        ob_string(b, name, strlen(name));
        OB_LIT(b, ":");
        ob_put(b, num, n);
    }
    OB_LIT(b, "}");
}

/* The article's JSON text: as received when it has it, else dumped. */
static char *article_text(const nc_article *a, const struct nc_encode_opts *o, const char **text,
                          size_t *len)
{
    if (o->article_mode == NC_ARTICLE_ALL && (*text = nc_article_raw(a, len)) != NULL)
        return NULL;
    json_t *art = article_value(a, o);
    char *as = art ? json_dumps(art, JSON_COMPACT | JSON_PRESERVE_ORDER | JSON_ENCODE_ANY) : NULL;
    json_decref(art);
    *text = as;
    *len = as ? strlen(as) : 0;
    return as;
}

char *nc_encode_result(const nc_model *m, const nc_article *a, const nc_result *r,
                       const struct nc_encode_opts *opts, size_t *len, char *err, size_t errlen)
{
    static const struct nc_encode_opts defaults = {NC_ARTICLE_NONE, NULL, 0, NULL};
    if (!opts)
        opts = &defaults;
    /* Written directly, in jansson's compact form and key order (encode.h);
     * strings needing escapes and the article go through jansson. */
    int scored = r->skipped == NC_SKIP_NONE;
    for (size_t k = 0; scored && k < r->nlabels; k++)
        if (!isfinite(r->prob[k]) || !isfinite(r->decision[k])) {
            /* JSON has no NaN or infinity: never emit a partial record. */
            snprintf(err, errlen, "cannot encode the scores of label %s", nc_model_label(m, k));
            return NULL;
        }
    struct obuf b = {NULL, 0, 0, 1, NULL};
    OB_LIT(&b, "{\"schema_version\":");
    ob_int(&b, NC_SCHEMA_VERSION);
    OB_LIT(&b, ",\"id\":");
    const char *id = nc_article_id(a);
    if (id)
        ob_string(&b, id, strlen(id));
    else
        OB_LIT(&b, "null");
    OB_LIT(&b, ",\"labels\":[");
    int first = 1;
    for (size_t k = 0; scored && k < r->nlabels; k++) {
        if (!r->on[k])
            continue;
        if (!first)
            OB_LIT(&b, ",");
        first = 0;
        const char *name = nc_model_label(m, k);
        ob_string(&b, name, strlen(name));
    }
    OB_LIT(&b, "],\"scores\":");
    if (scored) {
        ob_scores(&b, m, r, r->prob);
        OB_LIT(&b, ",\"decision\":");
        ob_scores(&b, m, r, r->decision);
    } else {
        OB_LIT(&b, "{},\"decision\":{}");
    }
    if (r->skipped == NC_SKIP_LANGUAGE)
        OB_LIT(&b, ",\"skipped\":\"language\"");
    OB_LIT(&b, ",\"model\":{\"name\":");
    ob_string(&b, nc_model_name(m), strlen(nc_model_name(m)));
    OB_LIT(&b, ",\"version\":");
    ob_string(&b, nc_model_version(m), strlen(nc_model_version(m)));
    OB_LIT(&b, "}");
    if (opts->input) {
        const struct nc_input_meta *in = opts->input;
        const char *topic = in->topic ? in->topic : "";
        OB_LIT(&b, ",\"input\":{\"topic\":");
        ob_string(&b, topic, strlen(topic));
        OB_LIT(&b, ",\"partition\":");
        ob_int(&b, in->partition);
        OB_LIT(&b, ",\"offset\":");
        ob_int(&b, in->offset);
        OB_LIT(&b, ",\"timestamp\":");
        if (in->timestamp_ms >= 0)
            ob_int(&b, in->timestamp_ms);
        else
            OB_LIT(&b, "null");
        char ts[40];
        nc_format_rfc3339_ms(in->classified_at_ms, ts, sizeof(ts));
        OB_LIT(&b, "},\"classified_at\":");
        ob_string(&b, ts, strlen(ts));
    }
    if (opts->article_mode != NC_ARTICLE_NONE) {
        /* Our scores are written with 6 significant digits; the article's
         * own numbers pass through untouched, so it is spliced in whole. */
        const char *text;
        size_t alen;
        char *as = article_text(a, opts, &text, &alen);
        if (!text) {
            free(b.p);
            goto oom;
        }
        OB_LIT(&b, ",\"article\":");
        ob_put(&b, text, alen);
        free(as);
    }
    OB_LIT(&b, "}");
    if (!b.ok) {
        free(b.p);
        if (b.why) {
            snprintf(err, errlen, "cannot encode the record: %s", b.why);
            return NULL;
        }
        goto oom;
    }
    *len = b.n;
    return b.p;
oom:
    snprintf(err, errlen, "out of memory while encoding");
    return NULL;
}
