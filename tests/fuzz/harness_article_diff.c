/*
 * harness_article_diff.c - fuzz target "article_diff": the input is one
 * Kafka message, parsed twice: by nc_article_parse() (simdjson where it can
 * decide as jansson would, jansson otherwise) and by
 * nc_article_parse_jansson() (jansson alone, the reference).
 *
 * Both must give the same reason code and the same detail, and for an
 * accepted article the same id, title, body, lang and raw text, and equal
 * JSON objects (nc_article_json, which simdjson's path builds on demand).
 * The reference never takes the simdjson path. A message simdjson decided
 * alone is checked once more with a plain json_loadb: jansson must accept
 * it, since that is what the reader promises (core/json_fields.h).
 */
#include <jansson.h>
#include <stdio.h>
#include <string.h>

#include "harness.h"

#define T "article_diff"

static nc_article *fast, *ref; /* reused, as the daemon reuses its article */

int fuzz_article_diff_init(void)
{
    if (fast)
        return 0;
    if (!(fast = nc_article_new()) || !(ref = nc_article_new())) {
        fprintf(stderr, "fuzz " T ": out of memory\n");
        return -1;
    }
    return 0;
}

/* Same bytes, or both absent. */
static void same(const char *what, const char *x, size_t xn, const char *y, size_t yn)
{
    FUZZ_CHECK(T, !x == !y, "%s: %s with simdjson, %s with jansson", what, x ? "set" : "absent",
               y ? "set" : "absent");
    FUZZ_CHECK(T, !x || (xn == yn && memcmp(x, y, xn) == 0),
               "%s differs: \"%.*s\" (%zu bytes) with simdjson, \"%.*s\" (%zu bytes) with jansson",
               what, (int)(xn > 200 ? 200 : xn), x, xn, (int)(yn > 200 ? 200 : yn), y, yn);
}

static void same_string(const char *what, const char *x, const char *y)
{
    same(what, x, x ? strlen(x) : 0, y, y ? strlen(y) : 0);
}

int fuzz_article_diff(const uint8_t *data, size_t size)
{
    if (fuzz_article_diff_init() != 0)
        nc_fuzz_fail(T, "set-up failed");
    const char *msg = (const char *)data;
    char ferr[256], rerr[256];
    enum nc_article_error fe = nc_article_parse(fast, msg, size, 0, ferr, sizeof(ferr));
    enum nc_article_error re = nc_article_parse_jansson(ref, msg, size, 0, rerr, sizeof(rerr));
    FUZZ_CHECK(T, fe == re, "%s (%s) with simdjson, %s (%s) with jansson", nc_article_reason(fe),
               ferr, nc_article_reason(re), rerr);
    FUZZ_CHECK(T, strcmp(ferr, rerr) == 0, "detail \"%s\" with simdjson, \"%s\" with jansson", ferr,
               rerr);
    FUZZ_CHECK(T, !nc_article_fast(ref), "the jansson reference took the simdjson path");
    if (nc_article_fast(fast)) {
        size_t len = size;
        if (len >= 3 && memcmp(msg, "\xEF\xBB\xBF", 3) == 0) {
            msg += 3;
            len -= 3;
        }
        json_t *j = json_loadb(msg, len, JSON_REJECT_DUPLICATES | JSON_ALLOW_NUL, NULL);
        FUZZ_CHECK(T, j, "simdjson decided a message jansson refuses");
        json_decref(j);
    }
    if (fe != NC_ART_OK)
        return 0;
    same_string("id", nc_article_id(fast), nc_article_id(ref));
    same_string("lang", nc_article_lang(fast), nc_article_lang(ref));
    size_t fn, rn;
    const char *f = nc_article_title(fast, &fn), *r = nc_article_title(ref, &rn);
    same("title", f, fn, r, rn);
    f = nc_article_body(fast, &fn);
    r = nc_article_body(ref, &rn);
    same("body", f, fn, r, rn);
    f = nc_article_raw(fast, &fn);
    r = nc_article_raw(ref, &rn);
    same("raw text", f, fn, r, rn);
    json_t *fj = nc_article_json(fast), *rj = nc_article_json(ref);
    FUZZ_CHECK(T, !fj == !rj && (!fj || json_equal(fj, rj)), "the JSON objects differ");
    return 0;
}
