/*
 * vectors.c - the training documents as numbers: document frequencies (over
 * the labeled articles and the unlabeled --idf-data articles), which fix the
 * featurizer's idf and min_df; one index-sorted feature vector per document
 * in libsvm's form; and the linear kernel matrix of those vectors.
 */
#include <stdlib.h>
#include <string.h>
#include <svm.h>

#include "core/article.h"
#include "train/trainer.h"

#define MAX_LINE_BYTES (16u << 20)

struct df_count {
    const nc_featurizer *feat;
    nc_fscratch *s;
    struct nc_svec v;
    uint32_t *df;
    nc_article *a;
    size_t ndocs;
    size_t labeled_nnz; /* distinct features of the labeled articles: bounds their vectors */
};

/* Adds one article's distinct features to the document frequencies. */
static int count_text(struct df_count *dc, const char *title, size_t tlen, const char *body,
                      size_t blen)
{
    size_t nocc;
    if (nc_features_extract(dc->feat, dc->s, title, tlen, body, blen) != 0)
        return -1;
    nc_fscratch_occ(dc->s, &nocc);
    if (nc_features_bag(dc->feat, dc->s, 0, nocc, &dc->v) != 0)
        return -1;
    for (size_t j = 0; j < dc->v.n; j++)
        dc->df[dc->v.idx[j]]++;
    dc->ndocs++;
    return 0;
}

/* One line of an --idf-data file: an article (JSON or plain text), labels ignored. */
static int count_line(void *ctx, const char *line, size_t len, const char *file, size_t lineno,
                      char *err, size_t errlen)
{
    struct df_count *dc = ctx;
    char e[300];
    enum nc_article_error ae = nc_article_parse(dc->a, line, len, MAX_LINE_BYTES, e, sizeof(e));
    if (ae != NC_ART_OK) {
        snprintf(err, errlen, "%s:%zu: %s: %s", file, lineno, nc_article_reason(ae), e);
        return -1;
    }
    size_t tlen, blen;
    const char *title = nc_article_title(dc->a, &tlen), *body = nc_article_body(dc->a, &blen);
    if (count_text(dc, title ? title : "", tlen, body ? body : "", blen) != 0) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    return 0;
}

static int count_df(struct trainer *t, struct df_count *dc, char *err, size_t errlen)
{
    for (size_t i = 0; i < t->cp.n; i++) {
        const struct doc *d = &t->cp.docs[i];
        if (count_text(dc, d->title, d->tlen, d->body, d->blen) != 0) {
            snprintf(err, errlen, "out of memory");
            return -1;
        }
        dc->labeled_nnz += dc->v.n;
    }
    if (t->o->nidf && !(dc->a = nc_article_new())) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    if (nc_idf_data_each(t->o, count_line, dc, err, errlen) != 0)
        return -1;
    t->idf_docs = dc->ndocs - t->cp.n;
    if (dc->ndocs > UINT32_MAX) {
        snprintf(err, errlen, "more than %u articles for the document frequencies", UINT32_MAX);
        return -1;
    }
    if (nc_featurizer_set_df(t->feat, dc->df, (uint32_t)dc->ndocs) != 0) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    return 0;
}

/* Document frequencies, then one index-sorted svm_node vector per document. */
int nc_build_vectors(struct trainer *t, char *err, size_t errlen)
{
    struct corpus *c = &t->cp;
    uint32_t dim = nc_featurizer_dim(t->feat);
    struct df_count dc = {.feat = t->feat, .s = nc_fscratch_new(t->feat)};
    struct nc_svec v = {0};
    size_t total = 0;
    int rc = -1;
    dc.df = calloc(dim, sizeof(*dc.df));
    if (!dc.df || !dc.s) {
        snprintf(err, errlen, "out of memory");
        goto out;
    }
    if (count_df(t, &dc, err, errlen) != 0)
        goto out;
    t->pool = malloc((dc.labeled_nnz + c->n) * sizeof(*t->pool));
    t->x = malloc((c->n ? c->n : 1) * sizeof(struct svm_node *));
    if (!t->pool || !t->x)
        goto oom;
    struct svm_node *p = t->pool;
    for (size_t i = 0; i < c->n; i++) {
        struct doc *d = &c->docs[i];
        size_t nocc;
        if (nc_features_extract(t->feat, dc.s, d->title, d->tlen, d->body, d->blen) != 0)
            goto oom;
        nc_fscratch_occ(dc.s, &nocc);
        if (nc_features_vector(t->feat, dc.s, 0, nocc, &v) != 0)
            goto oom;
        nc_svec_sort(&v);
        t->x[i] = p;
        for (size_t j = 0; j < v.n; j++, p++) {
            p->index = (int)v.idx[j] + 1;
            p->value = v.val[j];
        }
        p->index = -1;
        p->value = 0;
        p++;
        total += v.n;
    }
    nc_trainer_log(t, "featurized %zu articles: %zu non-zeros (%.0f per article), dimension %u",
                   c->n, total, (double)total / (double)c->n, dim);
    if (t->idf_docs)
        nc_trainer_log(t, "document frequencies and min_df over them and %zu unlabeled articles",
                       t->idf_docs);
    rc = 0;
    goto out;
oom:
    snprintf(err, errlen, "out of memory while building feature vectors");
out:
    free(dc.df);
    nc_fscratch_free(dc.s);
    nc_article_free(dc.a);
    nc_svec_release(&dc.v);
    nc_svec_release(&v);
    return rc;
}

/* Postings of the feature vectors: for feature f, documents pdoc[start[f] .. start[f+1]). */
struct postings {
    uint32_t *start, *pdoc;
    double *pval;
    size_t total;
};

static int build_postings(const struct trainer *t, struct postings *ps)
{
    size_t n = t->cp.n;
    uint32_t dim = nc_featurizer_dim(t->feat);
    memset(ps, 0, sizeof(*ps));
    if (!(ps->start = calloc((size_t)dim + 1, sizeof(*ps->start))))
        return -1;
    for (size_t i = 0; i < n; i++)
        for (const struct svm_node *x = t->x[i]; x->index != -1; x++) {
            ps->start[x->index - 1]++;
            ps->total++;
        }
    uint32_t acc = 0;
    for (uint32_t f = 0; f <= dim; f++) {
        uint32_t c = f < dim ? ps->start[f] : 0;
        ps->start[f] = acc;
        acc += c;
    }
    ps->pdoc = malloc((ps->total ? ps->total : 1) * sizeof(*ps->pdoc));
    ps->pval = malloc((ps->total ? ps->total : 1) * sizeof(*ps->pval));
    uint32_t *fill = malloc((dim ? (size_t)dim : 1) * sizeof(*fill));
    if (!ps->pdoc || !ps->pval || !fill) {
        free(fill);
        return -1;
    }
    memcpy(fill, ps->start, (size_t)dim * sizeof(*fill));
    for (size_t i = 0; i < n; i++)
        for (const struct svm_node *x = t->x[i]; x->index != -1; x++) {
            uint32_t q = fill[x->index - 1]++;
            ps->pdoc[q] = (uint32_t)i;
            ps->pval[q] = x->value;
        }
    free(fill);
    return 0;
}

/*
 * The linear kernel matrix K[i][j] = <x_i, x_j>, computed once through an
 * inverted index (cost: sum over features of df^2, a few seconds here,
 * instead of libsvm's n^2 sparse dot products per model and fold). It is
 * handed to libsvm as a precomputed kernel, which is the same optimisation
 * problem as kernel_type linear; the saved model files are linear-kernel
 * models over the feature vectors (workers.c).
 */
int nc_build_gram(struct trainer *t, char *err, size_t errlen)
{
    size_t n = t->cp.n;
    struct postings ps;
    double *row = NULL;
    int rc = -1;
    if (build_postings(t, &ps) != 0)
        goto oom;
    row = calloc(n ? n : 1, sizeof(*row));
    t->gram = malloc((n ? n : 1) * (n + 2) * sizeof(*t->gram));
    if (!row || !t->gram)
        goto oom;
    for (size_t i = 0; i < n; i++) {
        struct svm_node *gi = t->gram + i * (n + 2);
        gi[0].index = 0;
        gi[0].value = (double)(i + 1);
        gi[n + 1].index = -1;
        gi[n + 1].value = 0;
        for (const struct svm_node *x = t->x[i]; x->index != -1; x++) {
            uint32_t f = (uint32_t)x->index - 1;
            double xv = x->value;
            for (uint32_t q = ps.start[f]; q < ps.start[f + 1] && ps.pdoc[q] <= i; q++)
                row[ps.pdoc[q]] += xv * ps.pval[q];
        }
        for (size_t j = 0; j <= i; j++) {
            gi[j + 1].index = (int)(j + 1);
            gi[j + 1].value = row[j];
            struct svm_node *gj = t->gram + j * (n + 2);
            gj[i + 1].index = (int)(i + 1);
            gj[i + 1].value = row[j];
            row[j] = 0;
        }
    }
    nc_trainer_log(t, "linear kernel matrix %zu x %zu computed from %zu postings", n, n, ps.total);
    rc = 0;
    goto out;
oom:
    snprintf(err, errlen, "out of memory while computing the kernel matrix (%zu articles)", n);
out:
    free(ps.start);
    free(ps.pdoc);
    free(ps.pval);
    free(row);
    return rc;
}
