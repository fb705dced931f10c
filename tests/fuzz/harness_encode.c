/*
 * harness_encode.c - fuzz target "encode": the output record encoder.
 *
 * The result is built from the input bytes rather than computed, so the
 * encoder sees every double (NaN, infinities, subnormals, -0) and every
 * on/off pattern; the article comes from the rest of the input. Layout
 * (missing bytes read as zero):
 *
 *   byte 0      flags: 0x01 skipped (language), 0x06 article mode
 *               (0 none, 1 all, 2 list, 3 empty list), 0x08 input metadata,
 *               0x10 NULL options
 *   per label   1 byte on (low bit), 8 bytes decision, 8 bytes probability
 *               (raw IEEE-754 bits, little-endian), for the 4 labels of the
 *               shipped model
 *   if 0x08     4 bytes partition, 8 offset, 8 timestamp (any int64),
 *               8 classified_at (milliseconds, taken modulo the end of
 *               year 9999), 1 byte topic length (mod 64),
 *               then that many topic bytes (mapped onto Kafka's topic
 *               alphabet [A-Za-z0-9._-])
 *   the rest    the message, through nc_article_parse(); if refused, a fixed
 *               article stands in
 *
 * The record must parse back with jansson and match encode.h's schema
 * (nc_fuzz_check_encode); a result with a NaN or infinite score may be
 * refused with a reason, but never encoded with the label missing (check
 * "encode-nonfinite").
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"

#define T "encode"

static nc_model *model;
static nc_article *fallback;

int fuzz_encode_init(void)
{
    if (model)
        return 0;
    char dir[4096], err[512];
    snprintf(dir, sizeof(dir), "%s/models/default", nc_fuzz_source_dir());
    if (nc_model_load(dir, &model, err, sizeof(err)) != 0) {
        fprintf(stderr, "fuzz " T ": %s\n", err);
        return -1;
    }
    static const char text[] = "{\"id\": 7, \"title\": \"Fallback\", \"score\": 0.5}";
    if (!(fallback = nc_article_new()) ||
        nc_article_parse(fallback, text, strlen(text), 0, err, sizeof(err)) != NC_ART_OK) {
        fprintf(stderr, "fuzz " T ": fallback article: %s\n", err);
        return -1;
    }
    return 0;
}

struct reader {
    const uint8_t *p;
    size_t n;
};

static uint64_t take(struct reader *r, size_t bytes)
{
    uint64_t v = 0;
    for (size_t i = 0; i < bytes; i++) {
        uint64_t b = 0;
        if (r->n) {
            b = *r->p++;
            r->n--;
        }
        v |= b << (8 * i);
    }
    return v;
}

static double take_double(struct reader *r)
{
    uint64_t bits = take(r, 8);
    double d;
    memcpy(&d, &bits, sizeof(d));
    return d;
}

int fuzz_encode(const uint8_t *data, size_t size)
{
    if (fuzz_encode_init() != 0)
        nc_fuzz_fail(T, "set-up failed");
    struct reader rd = {data, size};
    unsigned flags = (unsigned)take(&rd, 1);

    nc_result r;
    memset(&r, 0, sizeof(r)); /* as nc_model_classify leaves it */
    r.nlabels = nc_model_nlabels(model);
    for (size_t k = 0; k < r.nlabels; k++) {
        r.on[k] = (unsigned char)(take(&rd, 1) & 1);
        r.decision[k] = take_double(&rd);
        r.prob[k] = take_double(&rd);
    }
    if (flags & 0x01) { /* a skipped result has nothing else */
        memset(&r, 0, sizeof(r));
        r.nlabels = nc_model_nlabels(model);
        r.skipped = NC_SKIP_LANGUAGE;
    }

    static const char alphabet[] =
        "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-";
    char topic[64];
    struct nc_input_meta in = {0};
    if (flags & 0x08) {
        in.partition = (int32_t)(uint32_t)take(&rd, 4);
        in.offset = (int64_t)take(&rd, 8);
        in.timestamp_ms = (int64_t)take(&rd, 8);
        /* The wall clock: 1970 to 9999 (RFC 3339 has four-digit years). */
        in.classified_at_ms = (int64_t)(take(&rd, 8) % 253402300800000u);
        size_t tl = (size_t)take(&rd, 1) % sizeof(topic);
        for (size_t i = 0; i < tl; i++)
            topic[i] = alphabet[take(&rd, 1) % (sizeof(alphabet) - 1)];
        topic[tl] = '\0';
        in.topic = tl ? topic : NULL;
    }

    static const char *const fields[] = {"id", "body", "title", "score", "missing", "url"};
    struct nc_encode_opts opts = {NC_ARTICLE_NONE, NULL, 0, (flags & 0x08) ? &in : NULL};
    switch ((flags >> 1) & 3) {
    case 1:
        opts.article_mode = NC_ARTICLE_ALL;
        break;
    case 2:
        opts.article_mode = NC_ARTICLE_LIST;
        opts.fields = fields;
        opts.nfields = sizeof(fields) / sizeof(fields[0]);
        break;
    case 3:
        opts.article_mode = NC_ARTICLE_LIST;
        break;
    }

    nc_article *a = nc_article_new();
    FUZZ_CHECK(T, a, "out of memory");
    char err[256];
    const nc_article *use = a;
    if (nc_article_parse(a, (const char *)rd.p, rd.n, 0, err, sizeof(err)) != NC_ART_OK)
        use = fallback;
    nc_fuzz_check_encode(T, model, use, &r, (flags & 0x10) ? NULL : &opts);
    nc_article_free(a);
    return 0;
}
