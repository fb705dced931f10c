/* article.c - see article.h. */
#include "core/article.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/util.h"
#include "core/json_fields.h"

/*
 * Nesting depth of a JSON text (brackets outside strings). jansson accepts
 * 2048 levels, but an output record wraps the article one level deeper, so
 * consumers using the same limit could not read it back.
 */
#define MAX_DEPTH 1000

/* jansson's flags, for the reference parse and for nc_article_json(). */
#define JANSSON_FLAGS (JSON_REJECT_DUPLICATES | JSON_ALLOW_NUL)

/* The fields read from a JSON article, in the order their rules are checked. */
enum key { K_ID, K_TITLE, K_BODY, K_TEXT, K_CONTENT, K_URL, K_LANG, K_SOURCE, K_OUTLET,
           K_PUBLISHED, K_DATE, NKEYS };
static const char *const keys[NKEYS] = {"id",  "title",  "body",   "text",      "content", "url",
                                        "lang", "source", "outlet", "published", "date"};

/* nc_article_json() builds the jansson object on first use, through a const
 * article: the object lives in this separately allocated slot. */
struct json_slot {
    json_t *root;
    int pending; /* the text is JSON the fast reader accepted; root not built yet */
};

struct nc_article {
    nc_jfields *jf;       /* the simdjson reader; holds the copy of the message */
    struct json_slot *js; /* NULL root for plain text */
    int fast;             /* the last JSON message was decided by the simdjson reader */
    char idbuf[40];
    const char *id;
    const char *title, *body, *lang;
    size_t tlen, blen;
    const char *raw; /* nc_article_raw: a slice of the copy in jf */
    size_t rawlen;
};

static const char *const reasons[] = {"ok",    "invalid_json", "not_an_object", "invalid_utf8",
                                      "empty", "too_large",    "bad_field"};

const char *nc_article_reason(enum nc_article_error e)
{
    if ((unsigned)e >= sizeof(reasons) / sizeof(reasons[0]))
        return "unknown";
    return reasons[e];
}

nc_article *nc_article_new(void)
{
    nc_article *a = calloc(1, sizeof(nc_article));
    if (!a)
        return NULL;
    a->js = calloc(1, sizeof(*a->js));
    a->jf = nc_jfields_new(MAX_DEPTH);
    if (!a->js || !a->jf) {
        nc_article_free(a);
        return NULL;
    }
    return a;
}

/* Forgets the last message's fields; keeps the reader and its buffers. */
static void reset(nc_article *a)
{
    nc_jfields *jf = a->jf;
    struct json_slot *js = a->js;
    if (js->root)
        json_decref(js->root);
    memset(js, 0, sizeof(*js));
    memset(a, 0, sizeof(*a));
    a->jf = jf;
    a->js = js;
}

void nc_article_free(nc_article *a)
{
    if (!a)
        return;
    if (a->js)
        reset(a);
    nc_jfields_free(a->jf);
    free(a->js);
    free(a);
}

static int is_space(char c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

static int blank(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (!is_space(s[i]))
            return 0;
    return 1;
}

static enum nc_article_error fail(enum nc_article_error e, char *err, size_t errlen,
                                  const char *fmt, ...) __attribute__((format(printf, 4, 5)));
static enum nc_article_error fail(enum nc_article_error e, char *err, size_t errlen,
                                  const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
    return e;
}

/* A string field: 1, 0 when null or absent, -1 for another type. */
static int string_value(const struct nc_jf_value *v, const char **s, size_t *n)
{
    if (v->type == NC_JF_ABSENT || v->type == NC_JF_NULL)
        return 0;
    if (v->type != NC_JF_STRING)
        return -1;
    *s = v->s;
    *n = v->len;
    return 1;
}

static enum nc_article_error take_id(nc_article *a, const struct nc_jf_value *id, char *err,
                                     size_t errlen)
{
    switch (id->type) {
    case NC_JF_ABSENT:
    case NC_JF_NULL:
        return NC_ART_OK;
    case NC_JF_STRING:
        if (strlen(id->s) != id->len)
            return fail(NC_ART_BAD_FIELD, err, errlen, "%s", "field \"id\" contains NUL");
        a->id = id->s;
        return NC_ART_OK;
    case NC_JF_INT:
        snprintf(a->idbuf, sizeof(a->idbuf), "%lld", id->i);
        a->id = a->idbuf;
        return NC_ART_OK;
    case NC_JF_REAL:
        snprintf(a->idbuf, sizeof(a->idbuf), "%.17g", id->d);
        a->id = a->idbuf;
        return NC_ART_OK;
    case NC_JF_OTHER:
        break;
    }
    return fail(NC_ART_BAD_FIELD, err, errlen, "%s", "field \"id\" must be a string or a number");
}

/* The article's fields from the values of keys[], whichever parser read them. */
static enum nc_article_error take_fields(nc_article *a, const struct nc_jf_value *v, char *err,
                                         size_t errlen)
{
    enum nc_article_error e = take_id(a, &v[K_ID], err, errlen);
    if (e != NC_ART_OK)
        return e;
    if (string_value(&v[K_TITLE], &a->title, &a->tlen) < 0)
        return fail(NC_ART_BAD_FIELD, err, errlen, "field \"%s\" must be a string", "title");
    for (int k = K_BODY; k <= K_CONTENT; k++) { /* body, else text, else content */
        int r = string_value(&v[k], &a->body, &a->blen);
        if (r < 0)
            return fail(NC_ART_BAD_FIELD, err, errlen, "field \"%s\" must be a string", keys[k]);
        if (r > 0)
            break;
    }
    for (int k = K_URL; k <= K_OUTLET; k++) {
        const char *s = NULL;
        size_t n = 0;
        if (string_value(&v[k], &s, &n) < 0)
            return fail(NC_ART_BAD_FIELD, err, errlen, "field \"%s\" must be a string", keys[k]);
        if (k == K_LANG && s) {
            if (strlen(s) != n)
                return fail(NC_ART_BAD_FIELD, err, errlen, "%s", "field \"lang\" contains NUL");
            a->lang = s;
        }
    }
    for (int k = K_PUBLISHED; k <= K_DATE; k++)
        if (v[k].type == NC_JF_OTHER)
            return fail(NC_ART_BAD_FIELD, err, errlen, "field \"%s\" must be a string or a number",
                        keys[k]);
    if ((!a->title || blank(a->title, a->tlen)) && (!a->body || blank(a->body, a->blen)))
        return fail(NC_ART_EMPTY, err, errlen, "%s", "article has no title and no body");
    return NC_ART_OK;
}

static int too_deep(const char *buf, size_t len)
{
    int depth = 0, in_string = 0;
    for (size_t i = 0; i < len; i++) {
        char c = buf[i];
        if (in_string) {
            if (c == '\\')
                i++;
            else if (c == '"')
                in_string = 0;
        } else if (c == '"') {
            in_string = 1;
        } else if (c == '{' || c == '[') {
            if (++depth > MAX_DEPTH)
                return 1;
        } else if (c == '}' || c == ']') {
            depth--;
        }
    }
    return 0;
}

/* The values of keys[] in a jansson object. */
static void jansson_values(json_t *root, struct nc_jf_value *out)
{
    for (int k = 0; k < NKEYS; k++) {
        json_t *j = json_object_get(root, keys[k]);
        struct nc_jf_value *v = &out[k];
        memset(v, 0, sizeof(*v));
        if (!j)
            continue;
        switch (json_typeof(j)) {
        case JSON_NULL:
            v->type = NC_JF_NULL;
            break;
        case JSON_STRING:
            v->type = NC_JF_STRING;
            v->s = json_string_value(j);
            v->len = json_string_length(j);
            break;
        case JSON_INTEGER:
            v->type = NC_JF_INT;
            v->i = (long long)json_integer_value(j);
            break;
        case JSON_REAL:
            v->type = NC_JF_REAL;
            v->d = json_real_value(j);
            break;
        default:
            v->type = NC_JF_OTHER;
            break;
        }
    }
}

/* The reference: jansson parses the text, and finds the reason of every refusal. */
static enum nc_article_error parse_jansson(nc_article *a, const char *text, size_t len, char *err,
                                           size_t errlen)
{
    json_error_t je;
    if (too_deep(text, len))
        return fail(NC_ART_INVALID_JSON, err, errlen, "nesting deeper than %d levels", MAX_DEPTH);
    json_t *root = a->js->root = json_loadb(text, len, JANSSON_FLAGS, &je);
    if (!root) {
        if (json_error_code(&je) == json_error_invalid_utf8)
            return fail(NC_ART_INVALID_UTF8, err, errlen, "%s", "message is not valid UTF-8");
        char msg[200];
        snprintf(msg, sizeof(msg), "%s at line %d column %d", je.text, je.line, je.column);
        /* jansson quotes the input it choked on: keep the detail on one line. */
        for (char *c = msg; *c; c++)
            if ((unsigned char)*c < 0x20 || *c == 0x7f)
                *c = ' ';
        return fail(NC_ART_INVALID_JSON, err, errlen, "%s", msg);
    }
    if (!json_is_object(root))
        return fail(NC_ART_NOT_AN_OBJECT, err, errlen, "%s", "JSON value is not an object");
    struct nc_jf_value v[NKEYS];
    jansson_values(root, v);
    return take_fields(a, v, err, errlen);
}

/* simdjson when it can decide (json_fields.h), else jansson. */
static enum nc_article_error parse_json(nc_article *a, const char *text, size_t len, int fast,
                                        char *err, size_t errlen)
{
    struct nc_jf_value v[NKEYS];
    if (fast && nc_jfields_parse(a->jf, keys, NKEYS, v) == 1) {
        a->fast = 1;
        a->js->pending = 1;
        return take_fields(a, v, err, errlen);
    }
    return parse_jansson(a, text, len, err, errlen);
}

/* The object's text for nc_article_raw() (it is one JSON object with no
 * duplicate keys), when it fits on one line and holds no NUL byte (jansson
 * lets a raw NUL pass between tokens; JSON does not). */
static void set_raw(nc_article *a, const char *text, size_t n)
{
    while (n > 0 && is_space(text[n - 1]))
        n--;
    if (memchr(text, '\n', n) || memchr(text, '\r', n) || memchr(text, '\0', n))
        return;
    a->raw = text;
    a->rawlen = n;
}

static int has_bom(const char *buf, size_t len)
{
    return len >= 3 && memcmp(buf, "\xEF\xBB\xBF", 3) == 0;
}

static enum nc_article_error parse(nc_article *a, const char *buf, size_t len, size_t max_bytes,
                                   int fast, char *err, size_t errlen)
{
    reset(a);
    if (errlen)
        err[0] = '\0';
    if (max_bytes == 0)
        max_bytes = NC_ARTICLE_DEFAULT_MAX_BYTES;
    if (len > max_bytes) {
        snprintf(err, errlen, "message is %zu bytes, limit is %zu", len, max_bytes);
        return NC_ART_TOO_LARGE;
    }
    if (buf && has_bom(buf, len)) {
        buf += 3;
        len -= 3;
    }
    if (!buf || blank(buf, len))
        return fail(NC_ART_EMPTY, err, errlen, "%s", "empty message");
    size_t i = 0;
    while (i < len && is_space(buf[i]))
        i++;
    /* JSON is checked by the parsers, which report invalid UTF-8 on their own. */
    if (buf[i] != '{' && !nc_utf8_valid(buf, len))
        return fail(NC_ART_INVALID_UTF8, err, errlen, "%s", "message is not valid UTF-8");
    if (buf[i] == '[')
        return fail(NC_ART_NOT_AN_OBJECT, err, errlen, "%s",
                    "message starts with '[': a JSON array is not an article");
    if (nc_jfields_load(a->jf, buf, len) != 0)
        return fail(NC_ART_TOO_LARGE, err, errlen, "%s", "out of memory");
    const char *text = nc_jfields_text(a->jf, &len);
    if (text[i] != '{') {
        a->body = text;
        a->blen = len;
        return NC_ART_OK;
    }
    enum nc_article_error e = parse_json(a, text, len, fast, err, errlen);
    if (e != NC_ART_OK) {
        int decided_fast = a->fast;
        reset(a);
        a->fast = decided_fast;
    } else {
        set_raw(a, text + i, len - i);
    }
    return e;
}

enum nc_article_error nc_article_parse(nc_article *a, const char *buf, size_t len,
                                       size_t max_bytes, char *err, size_t errlen)
{
    return parse(a, buf, len, max_bytes, 1, err, errlen);
}

enum nc_article_error nc_article_parse_jansson(nc_article *a, const char *buf, size_t len,
                                               size_t max_bytes, char *err, size_t errlen)
{
    return parse(a, buf, len, max_bytes, 0, err, errlen);
}

int nc_article_fast(const nc_article *a)
{
    return a->fast;
}

const char *nc_article_id(const nc_article *a)
{
    return a->id;
}

const char *nc_article_title(const nc_article *a, size_t *len)
{
    if (len)
        *len = a->title ? a->tlen : 0;
    return a->title;
}

const char *nc_article_body(const nc_article *a, size_t *len)
{
    if (len)
        *len = a->body ? a->blen : 0;
    return a->body;
}

const char *nc_article_lang(const nc_article *a)
{
    return a->lang;
}

json_t *nc_article_json(const nc_article *a)
{
    struct json_slot *js = a->js;
    if (js->pending) {
        size_t len;
        const char *text = nc_jfields_text(a->jf, &len);
        js->pending = 0;
        js->root = json_loadb(text, len, JANSSON_FLAGS, NULL);
    }
    return js->root;
}

const char *nc_article_raw(const nc_article *a, size_t *len)
{
    *len = a->rawlen;
    return a->rawlen ? a->raw : NULL;
}
