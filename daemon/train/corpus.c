/*
 * corpus.c - the training data: labeled JSONL files -> documents (title,
 * body, label bits, cross-validation fold), label names in sorted order, and
 * a checksum of the data; and the unlabeled --idf-data files, read line by
 * line for the document frequencies. Every file may be gzip-compressed
 * (zlib reads plain files as they are). Errors name file:line.
 */
#include <errno.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#define XXH_INLINE_ALL
#include <xxhash.h>

#include "core/article.h"
#include "core/manifest.h"
#include "train/trainer.h"

#define MAX_LINE_BYTES (16u << 20)
#define MAX_FILE_BYTES ((size_t)4 << 30)

/* Reads a whole file, decompressing gzip. NUL-terminated. */
static int read_text(const char *path, char **data, size_t *len, char *err, size_t errlen)
{
    errno = 0;
    gzFile gz = gzopen(path, "rb");
    size_t cap = 1 << 20, n = 0;
    char *buf = NULL;
    if (!gz) {
        snprintf(err, errlen, "%s: %s", path, errno ? strerror(errno) : "cannot open");
        return -1;
    }
    for (;;) {
        if (cap - n < 2 && cap >= MAX_FILE_BYTES) {
            snprintf(err, errlen, "%s: larger than %zu bytes", path, MAX_FILE_BYTES);
            goto fail;
        }
        if (!buf || cap - n < 2) {
            char *p = realloc(buf, buf ? (cap *= 2) : cap);
            if (!p) {
                snprintf(err, errlen, "%s: out of memory", path);
                goto fail;
            }
            buf = p;
        }
        unsigned want = cap - n - 1 > (1u << 30) ? (1u << 30) : (unsigned)(cap - n - 1);
        int got = gzread(gz, buf + n, want);
        if (got < 0) {
            int zerr;
            const char *msg = gzerror(gz, &zerr);
            snprintf(err, errlen, "%s: %s", path,
                     zerr == Z_ERRNO ? strerror(errno) : msg ? msg : "read error");
            goto fail;
        }
        if (got == 0)
            break;
        n += (size_t)got;
    }
    gzclose(gz);
    buf[n] = '\0';
    *data = buf;
    *len = n;
    return 0;
fail:
    gzclose(gz);
    free(buf);
    return -1;
}

/* Calls fn for each non-empty line of one file; hs (may be NULL) hashes its contents. */
static int each_line(const char *path, XXH3_state_t *hs, nc_line_fn fn, void *ctx, char *err,
                     size_t errlen)
{
    char *data;
    size_t len;
    if (read_text(path, &data, &len, err, errlen) != 0)
        return -1;
    if (hs)
        XXH3_64bits_update(hs, data, len);
    size_t line = 0;
    int rc = 0;
    for (char *p = data; p < data + len && rc == 0;) {
        char *nl = memchr(p, '\n', (size_t)(data + len - p));
        size_t ll = nl ? (size_t)(nl - p) : (size_t)(data + len - p);
        line++;
        char *cur = p;
        p = nl ? nl + 1 : data + len;
        if (ll == 0 || (ll == 1 && cur[0] == '\r'))
            continue;
        rc = fn(ctx, cur, ll, path, line, err, errlen);
    }
    free(data);
    return rc < 0 ? -1 : 0;
}

int nc_idf_data_each(const struct nc_train_opts *o, nc_line_fn fn, void *ctx, char *err,
                     size_t errlen)
{
    for (size_t f = 0; f < o->nidf; f++)
        if (each_line(o->idf_data[f], NULL, fn, ctx, err, errlen) != 0)
            return -1;
    return 0;
}

static char *dup_n(const char *s, size_t n)
{
    char *p = malloc(n + 1);
    if (p) {
        if (n)
            memcpy(p, s, n);
        p[n] = '\0';
    }
    return p;
}

static int label_id(struct corpus *c, const char *name)
{
    for (size_t k = 0; k < c->nlabels; k++)
        if (strcmp(c->labels[k], name) == 0)
            return (int)k;
    if (c->nlabels == NC_LINEAR_MAX_LABELS)
        return -2;
    if (!(c->labels[c->nlabels] = strdup(name)))
        return -3;
    return (int)c->nlabels++;
}

struct reader {
    struct trainer *t;
    nc_article *a;
};

/* One labeled line -> a document. Returns 0, 1 (limit reached: stop) or -1. */
static int add_doc(void *vctx, const char *line, size_t ll, const char *file, size_t lineno,
                   char *err, size_t errlen)
{
    struct reader *rd = vctx;
    struct corpus *c = &rd->t->cp;
    const struct nc_train_opts *o = rd->t->o;
    char e[300];
    if (o->limit && c->n >= o->limit)
        return 1;
    enum nc_article_error ae = nc_article_parse(rd->a, line, ll, MAX_LINE_BYTES, e, sizeof(e));
    if (ae != NC_ART_OK || !nc_article_json(rd->a)) {
        snprintf(err, errlen, "%s:%zu: %s: %s", file, lineno,
                 ae == NC_ART_OK ? "not_an_object" : nc_article_reason(ae),
                 ae == NC_ART_OK ? "labeled articles must be JSON objects" : e);
        return -1;
    }
    json_t *labels = json_object_get(nc_article_json(rd->a), "labels");
    if (!json_is_array(labels)) {
        snprintf(err, errlen, "%s:%zu: \"labels\" must be an array of label names", file, lineno);
        return -1;
    }
    if (c->n == c->cap) {
        size_t cap = c->cap ? c->cap * 2 : 1024;
        struct doc *d = realloc(c->docs, cap * sizeof(*d));
        if (!d)
            goto oom;
        c->docs = d;
        c->cap = cap;
    }
    struct doc *d = &c->docs[c->n];
    memset(d, 0, sizeof(*d));
    const char *s = nc_article_title(rd->a, &d->tlen);
    d->title = dup_n(s ? s : "", d->tlen);
    s = nc_article_body(rd->a, &d->blen);
    d->body = dup_n(s ? s : "", d->blen);
    c->n++;
    if (!d->title || !d->body)
        goto oom;
    const char *id = nc_article_id(rd->a);
    uint64_t h = id ? XXH3_64bits(id, strlen(id)) : XXH3_64bits(line, ll);
    d->fold = o->folds > 1 ? (unsigned)(h % (uint64_t)o->folds) : 0;
    for (size_t i = 0; i < json_array_size(labels); i++) {
        json_t *l = json_array_get(labels, i);
        if (!json_is_string(l) || !nc_valid_label(json_string_value(l))) {
            snprintf(err, errlen,
                     "%s:%zu: labels[%zu] must be a name of 1..63 characters [a-z0-9._-]", file,
                     lineno, i);
            return -1;
        }
        int k = label_id(c, json_string_value(l));
        if (k < 0) {
            snprintf(err, errlen, "%s:%zu: more than %d distinct labels", file, lineno,
                     NC_LINEAR_MAX_LABELS);
            return -1;
        }
        d->labels |= 1ULL << k;
    }
    return 0;
oom:
    snprintf(err, errlen, "out of memory");
    return -1;
}

/* Sorts the label names (their order must not depend on the data's) and remaps the bits. */
static void sort_labels(struct corpus *c)
{
    size_t order[NC_LINEAR_MAX_LABELS];
    for (size_t k = 0; k < c->nlabels; k++)
        order[k] = k;
    for (size_t i = 1; i < c->nlabels; i++)
        for (size_t j = i; j > 0 && strcmp(c->labels[order[j - 1]], c->labels[order[j]]) > 0; j--) {
            size_t tmp = order[j];
            order[j] = order[j - 1];
            order[j - 1] = tmp;
        }
    char *sorted[NC_LINEAR_MAX_LABELS] = {0};
    size_t newpos[NC_LINEAR_MAX_LABELS] = {0};
    for (size_t k = 0; k < c->nlabels; k++) {
        sorted[k] = c->labels[order[k]];
        newpos[order[k]] = k;
    }
    memcpy(c->labels, sorted, c->nlabels * sizeof(char *));
    for (size_t i = 0; i < c->n; i++) {
        uint64_t nb = 0;
        for (size_t k = 0; k < c->nlabels; k++)
            if (c->docs[i].labels >> k & 1)
                nb |= 1ULL << newpos[k];
        c->docs[i].labels = nb;
    }
}

/* Hashes the --idf-data files into hs (they change the model too). */
static int hash_idf_line(void *ctx, const char *line, size_t len, const char *file, size_t lineno,
                         char *err, size_t errlen)
{
    (void)file;
    (void)lineno;
    (void)err;
    (void)errlen;
    XXH3_64bits_update(ctx, line, len);
    XXH3_64bits_update(ctx, "\n", 1);
    return 0;
}

int nc_corpus_read(struct trainer *t, char *err, size_t errlen)
{
    struct corpus *c = &t->cp;
    struct reader rd = {t, nc_article_new()};
    XXH3_state_t *hs = XXH3_createState();
    int rc = -1;
    if (!rd.a || !hs) {
        snprintf(err, errlen, "out of memory");
        goto out;
    }
    XXH3_64bits_reset(hs);
    for (size_t f = 0; f < t->o->ndata; f++)
        if (each_line(t->o->data[f], hs, add_doc, &rd, err, errlen) != 0)
            goto out;
    if (nc_idf_data_each(t->o, hash_idf_line, hs, err, errlen) != 0)
        goto out;
    if (c->n == 0 || c->nlabels == 0) {
        snprintf(err, errlen, "no labeled articles in the training data");
        goto out;
    }
    sort_labels(c);
    for (size_t k = 0; k < c->nlabels; k++) {
        size_t pos = 0;
        for (size_t i = 0; i < c->n; i++)
            pos += c->docs[i].labels >> k & 1;
        if (pos == 0 || pos == c->n) {
            snprintf(err, errlen, "label \"%s\" needs both positive and negative articles",
                     c->labels[k]);
            goto out;
        }
    }
    snprintf(c->data_hash, sizeof(c->data_hash), "%016llx",
             (unsigned long long)XXH3_64bits_digest(hs));
    rc = 0;
out:
    if (hs)
        XXH3_freeState(hs);
    nc_article_free(rd.a);
    return rc;
}

void nc_corpus_release(struct corpus *c)
{
    for (size_t i = 0; i < c->n; i++) {
        free(c->docs[i].title);
        free(c->docs[i].body);
    }
    free(c->docs);
    for (size_t k = 0; k < c->nlabels; k++)
        free(c->labels[k]);
    memset(c, 0, sizeof(*c));
}
