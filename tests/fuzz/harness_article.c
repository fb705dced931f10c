/*
 * harness_article.c - fuzz target "article": the input is one Kafka message.
 *
 * It goes through the serving path: nc_article_parse (JSON or plain text),
 * then, when accepted, nc_model_classify with the shipped model (tokenizer,
 * HTML stripping, featurizer, passages, linear scores, Platt) and
 * nc_encode_result in the daemon's and the CLI's forms. Checked besides
 * memory safety: a refusal has a known reason and a one-line detail; an
 * accepted article has UTF-8 title/body and something to classify; parsing
 * into a reused article object and classifying with a reused workspace give
 * identical results; every output record matches encode.h's schema.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "base/util.h"

#define T "article"

static nc_model *model;
static nc_workspace *ws;
static nc_article *reused; /* parsed into again and again, as the daemon does */

int fuzz_article_init(void)
{
    if (model)
        return 0;
    char dir[4096], err[512];
    snprintf(dir, sizeof(dir), "%s/models/default", nc_fuzz_source_dir());
    if (nc_model_load(dir, &model, err, sizeof(err)) != 0) {
        fprintf(stderr, "fuzz " T ": %s\n", err);
        return -1;
    }
    if (!(ws = nc_workspace_new(model)) || !(reused = nc_article_new())) {
        fprintf(stderr, "fuzz " T ": out of memory\n");
        return -1;
    }
    return 0;
}

static int is_space(char c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

static int same_field(const char *a, size_t an, const char *b, size_t bn)
{
    if (!a || !b)
        return a == b;
    return an == bn && memcmp(a, b, an) == 0;
}

/* Invariants of an accepted article. */
static void check_parsed(const nc_article *a, const char *msg, size_t len)
{
    size_t tlen, blen;
    const char *title = nc_article_title(a, &tlen), *body = nc_article_body(a, &blen);
    FUZZ_CHECK(T, title || body, "accepted an article with neither title nor body");
    FUZZ_CHECK(T, !title || nc_utf8_valid(title, tlen), "title is not UTF-8");
    FUZZ_CHECK(T, !body || nc_utf8_valid(body, blen), "body is not UTF-8");
    const char *lang = nc_article_lang(a), *id = nc_article_id(a);
    FUZZ_CHECK(T, !lang || nc_utf8_valid(lang, strlen(lang)), "lang is not UTF-8");
    FUZZ_CHECK(T, !id || nc_utf8_valid(id, strlen(id)), "id is not UTF-8");
    if (len >= 3 && memcmp(msg, "\xEF\xBB\xBF", 3) == 0) { /* a byte-order mark is skipped */
        msg += 3;
        len -= 3;
    }
    size_t i = 0;
    while (i < len && is_space(msg[i]))
        i++;
    if (i < len && msg[i] == '{') {
        FUZZ_CHECK(T, nc_article_json(a) != NULL, "a JSON article without its JSON object");
    } else {
        FUZZ_CHECK(T, !nc_article_json(a) && !id && !title && !lang,
                   "a plain-text article with JSON fields");
        FUZZ_CHECK(T, body && blen == len && memcmp(body, msg, len) == 0,
                   "a plain-text body is not the whole message (after a byte-order mark)");
    }
}

int fuzz_article(const uint8_t *data, size_t size)
{
    if (fuzz_article_init() != 0)
        nc_fuzz_fail(T, "set-up failed");
    const char *msg = (const char *)data;
    char err[256];
    nc_article *a = nc_article_new();
    FUZZ_CHECK(T, a, "out of memory");
    enum nc_article_error e = nc_article_parse(a, msg, size, 0, err, sizeof(err));
    FUZZ_CHECK(T, strcmp(nc_article_reason(e), "unknown") != 0, "unknown reason code %d", (int)e);
    if (e != NC_ART_OK) {
        FUZZ_CHECK(T, err[0] != '\0', "refusal %s without a detail", nc_article_reason(e));
        FUZZ_CHECK(T, !strpbrk(err, "\r\n") || !nc_fuzz_enabled("article-error-one-line"),
                   "refusal %s: the detail spans lines: \"%s\"", nc_article_reason(e), err);
        FUZZ_CHECK(T,
                   !nc_article_json(a) && !nc_article_id(a) && !nc_article_title(a, NULL) &&
                       !nc_article_body(a, NULL),
                   "a refused article keeps fields");
        /* Refused the same way when the object is reused. */
        enum nc_article_error e2 = nc_article_parse(reused, msg, size, 0, err, sizeof(err));
        FUZZ_CHECK(T, e2 == e, "reparse gave %s, first parse %s", nc_article_reason(e2),
                   nc_article_reason(e));
        nc_article_free(a);
        return 0;
    }
    check_parsed(a, msg, size);

    nc_result r;
    nc_fuzz_classify_check(T, model, ws, a, &r);

    /* The same message through the reused article object: same fields and
     * scores as a fresh one. */
    enum nc_article_error e2 = nc_article_parse(reused, msg, size, 0, err, sizeof(err));
    FUZZ_CHECK(T, e2 == NC_ART_OK, "reparse refused (%s) what a fresh parse accepted", err);
    size_t t1, t2, b1, b2;
    const char *ti1 = nc_article_title(a, &t1), *ti2 = nc_article_title(reused, &t2);
    const char *bo1 = nc_article_body(a, &b1), *bo2 = nc_article_body(reused, &b2);
    FUZZ_CHECK(T, same_field(ti1, t1, ti2, t2) && same_field(bo1, b1, bo2, b2),
               "reparse gave other title/body");
    nc_result r2;
    char cerr[256];
    FUZZ_CHECK(T, nc_model_classify(model, ws, reused, &r2, cerr, sizeof(cerr)) == 0,
               "classify failed: %s", cerr);
    FUZZ_CHECK(T, memcmp(&r, &r2, sizeof(r)) == 0, "reused article classified differently");
    nc_article_free(a);
    return 0;
}
