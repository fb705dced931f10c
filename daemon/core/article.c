/* article.c - see article.h. */
#include "core/article.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/util.h"

struct nc_article {
    json_t *root; /* NULL for plain text */
    char *text;   /* plain-text body (a copy) */
    char idbuf[40];
    const char *id;
    const char *title, *body, *lang;
    size_t tlen, blen;
    char *raw; /* the JSON text as received (nc_article_raw); kept across parses */
    size_t rawlen, rawcap;
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
    return calloc(1, sizeof(nc_article));
}

static void reset(nc_article *a)
{
    if (a->root)
        json_decref(a->root);
    free(a->text);
    char *raw = a->raw;
    size_t rawcap = a->rawcap;
    memset(a, 0, sizeof(*a));
    a->raw = raw;
    a->rawcap = rawcap;
}

void nc_article_free(nc_article *a)
{
    if (!a)
        return;
    reset(a);
    free(a->raw);
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

/* A string field, null or absent. Returns -1 for another type. */
static int string_field(json_t *root, const char *key, const char **s, size_t *n)
{
    json_t *v = json_object_get(root, key);
    if (!v || json_is_null(v))
        return 0;
    if (!json_is_string(v))
        return -1;
    *s = json_string_value(v);
    *n = json_string_length(v);
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

/*
 * Nesting depth of a JSON text (brackets outside strings). jansson accepts
 * 2048 levels, but an output record wraps the article one level deeper, so
 * consumers using the same limit could not read it back.
 */
#define MAX_DEPTH 1000

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

static enum nc_article_error parse_json(nc_article *a, const char *buf, size_t len, char *err,
                                        size_t errlen)
{
    json_error_t je;
    if (too_deep(buf, len))
        return fail(NC_ART_INVALID_JSON, err, errlen, "nesting deeper than %d levels", MAX_DEPTH);
    a->root = json_loadb(buf, len, JSON_REJECT_DUPLICATES | JSON_ALLOW_NUL, &je);
    if (!a->root) {
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
    if (!json_is_object(a->root))
        return fail(NC_ART_NOT_AN_OBJECT, err, errlen, "%s", "JSON value is not an object");

    json_t *id = json_object_get(a->root, "id");
    if (id && !json_is_null(id)) {
        if (json_is_string(id)) {
            if (strlen(json_string_value(id)) != json_string_length(id))
                return fail(NC_ART_BAD_FIELD, err, errlen, "%s", "field \"id\" contains NUL");
            a->id = json_string_value(id);
        } else if (json_is_integer(id)) {
            snprintf(a->idbuf, sizeof(a->idbuf), "%lld", (long long)json_integer_value(id));
            a->id = a->idbuf;
        } else if (json_is_real(id)) {
            snprintf(a->idbuf, sizeof(a->idbuf), "%.17g", json_real_value(id));
            a->id = a->idbuf;
        } else {
            return fail(NC_ART_BAD_FIELD, err, errlen, "%s",
                        "field \"id\" must be a string or a number");
        }
    }
    if (string_field(a->root, "title", &a->title, &a->tlen) < 0)
        return fail(NC_ART_BAD_FIELD, err, errlen, "field \"%s\" must be a string", "title");
    static const char *const body_keys[] = {"body", "text", "content"};
    for (size_t i = 0; i < 3; i++) {
        int r = string_field(a->root, body_keys[i], &a->body, &a->blen);
        if (r < 0)
            return fail(NC_ART_BAD_FIELD, err, errlen, "field \"%s\" must be a string",
                        body_keys[i]);
        if (r > 0)
            break;
    }
    static const char *const str_keys[] = {"url", "lang", "source", "outlet"};
    for (size_t i = 0; i < 4; i++) {
        const char *s = NULL;
        size_t n = 0;
        if (string_field(a->root, str_keys[i], &s, &n) < 0)
            return fail(NC_ART_BAD_FIELD, err, errlen, "field \"%s\" must be a string",
                        str_keys[i]);
        if (i == 1 && s) {
            if (strlen(s) != n)
                return fail(NC_ART_BAD_FIELD, err, errlen, "%s", "field \"lang\" contains NUL");
            a->lang = s;
        }
    }
    static const char *const date_keys[] = {"published", "date"};
    for (size_t i = 0; i < 2; i++) {
        json_t *v = json_object_get(a->root, date_keys[i]);
        if (v && !json_is_null(v) && !json_is_string(v) && !json_is_number(v))
            return fail(NC_ART_BAD_FIELD, err, errlen, "field \"%s\" must be a string or a number",
                        date_keys[i]);
    }
    if ((!a->title || blank(a->title, a->tlen)) && (!a->body || blank(a->body, a->blen)))
        return fail(NC_ART_EMPTY, err, errlen, "%s", "article has no title and no body");
    return NC_ART_OK;
}

/* Keeps a copy of the object's text (jansson accepted it: one JSON object,
 * no duplicate keys) when it fits on one line and holds no NUL byte (jansson
 * lets a raw NUL pass between tokens; JSON does not). Out of memory only
 * means no copy: encoders then serialise the parsed object. */
static void keep_raw(nc_article *a, const char *text, size_t n)
{
    while (n > 0 && is_space(text[n - 1]))
        n--;
    if (memchr(text, '\n', n) || memchr(text, '\r', n) || memchr(text, '\0', n))
        return;
    if (n > a->rawcap) {
        /* Doubling: few distinct block sizes, so a stream of ever larger
         * articles does not scatter the heap. */
        size_t cap = a->rawcap ? a->rawcap : 4096;
        while (cap < n)
            cap *= 2;
        char *p = realloc(a->raw, cap);
        if (!p)
            return;
        a->raw = p;
        a->rawcap = cap;
    }
    memcpy(a->raw, text, n);
    a->rawlen = n;
}

enum nc_article_error nc_article_parse(nc_article *a, const char *buf, size_t len,
                                       size_t max_bytes, char *err, size_t errlen)
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
    if (!buf || blank(buf, len))
        return fail(NC_ART_EMPTY, err, errlen, "%s", "empty message");
    size_t i = 0;
    while (i < len && is_space(buf[i]))
        i++;
    /* JSON is checked by jansson, which reports invalid UTF-8 on its own. */
    if (buf[i] != '{' && !nc_utf8_valid(buf, len))
        return fail(NC_ART_INVALID_UTF8, err, errlen, "%s", "message is not valid UTF-8");
    if (buf[i] == '[')
        return fail(NC_ART_NOT_AN_OBJECT, err, errlen, "%s",
                    "message starts with '[': a JSON array is not an article");
    if (buf[i] == '{') {
        enum nc_article_error e = parse_json(a, buf, len, err, errlen);
        if (e != NC_ART_OK)
            reset(a);
        else
            keep_raw(a, buf + i, len - i);
        return e;
    }
    a->text = malloc(len + 1);
    if (!a->text)
        return fail(NC_ART_TOO_LARGE, err, errlen, "%s", "out of memory");
    memcpy(a->text, buf, len);
    a->text[len] = '\0';
    a->body = a->text;
    a->blen = len;
    return NC_ART_OK;
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
    return a->root;
}

const char *nc_article_raw(const nc_article *a, size_t *len)
{
    *len = a->rawlen;
    return a->rawlen ? a->raw : NULL;
}
