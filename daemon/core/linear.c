/* linear.c - see linear.h. */
#include "core/linear.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <svm.h>

int nc_linear_init(nc_linear *l, size_t nlabels, uint32_t dim)
{
    memset(l, 0, sizeof(*l));
    if (nlabels == 0 || nlabels > NC_LINEAR_MAX_LABELS)
        return -1;
    l->w = calloc((size_t)dim * nlabels, sizeof(*l->w));
    l->b = calloc(nlabels ? nlabels : 1, sizeof(*l->b));
    if (!l->w || !l->b) {
        nc_linear_release(l);
        return -1;
    }
    l->nlabels = nlabels;
    l->dim = dim;
    return 0;
}

void nc_linear_release(nc_linear *l)
{
    free(l->w);
    free(l->b);
    free(l->rows);
    free(l->row_of);
    memset(l, 0, sizeof(*l));
}

int nc_linear_set_from_svm(nc_linear *l, size_t label, const struct svm_model *m, int positive,
                           char *err, size_t errlen)
{
    if (m->nr_class != 2 && m->nr_class != 1) {
        snprintf(err, errlen, "libsvm model has %d classes, expected 2", m->nr_class);
        return -1;
    }
    if (m->param.kernel_type != LINEAR || m->param.svm_type != C_SVC) {
        snprintf(err, errlen, "libsvm model is not a linear-kernel C-SVC");
        return -1;
    }
    /* decision > 0 means model->label[0]; flip when that is the negative class. */
    double sign = (m->label && m->label[0] == positive) ? 1.0 : -1.0;
    size_t L = l->nlabels;
    for (uint32_t i = 0; i < l->dim; i++)
        l->w[(size_t)i * L + label] = 0.0;
    for (int i = 0; i < m->l; i++) {
        double c = m->sv_coef[0][i] * sign;
        for (const struct svm_node *n = m->SV[i]; n->index != -1; n++) {
            if (n->index < 1 || (uint32_t)n->index > l->dim) {
                snprintf(err, errlen, "support vector index %d outside 1..%u", n->index, l->dim);
                return -1;
            }
            l->w[(size_t)(n->index - 1) * L + label] += c * n->value;
        }
    }
    l->b[label] = m->rho ? -m->rho[0] * sign : 0.0;
    /* Sane weights are far below this; larger ones would overflow a score. */
    const double limit = 1e6;
    for (uint32_t i = 0; i < l->dim; i++) {
        double w = l->w[(size_t)i * L + label];
        if (!(fabs(w) <= limit)) {
            snprintf(err, errlen, "weight of feature %u is %g (not finite or beyond %g)", i + 1,
                     w, limit);
            return -1;
        }
    }
    if (!(fabs(l->b[label]) <= limit)) {
        snprintf(err, errlen, "bias %g is not finite or beyond %g", l->b[label], limit);
        return -1;
    }
    return 0;
}

int nc_linear_pack(nc_linear *l, const nc_featurizer *f)
{
    size_t L = l->nlabels, stride = L + 1;
    if (nc_featurizer_dim(f) != l->dim)
        return -1;
    uint32_t *row_of = calloc(l->dim, sizeof(*row_of)), nrows = 1;
    if (!row_of)
        return -1;
    for (uint32_t i = 0; i < l->dim; i++)
        if (nc_featurizer_idf(f, i) != 0.0)
            row_of[i] = nrows++;
    double *rows = calloc((size_t)nrows * stride, sizeof(*rows));
    if (!rows) {
        free(row_of);
        return -1;
    }
    for (uint32_t i = 0; i < l->dim; i++) {
        if (row_of[i] == 0)
            continue;
        double *r = rows + (size_t)row_of[i] * stride;
        r[0] = nc_featurizer_idf(f, i);
        memcpy(r + 1, l->w + (size_t)i * L, L * sizeof(double));
    }
    free(l->rows);
    free(l->row_of);
    l->rows = rows;
    l->row_of = row_of;
    l->nrows = nrows;
    l->word_dim = nc_featurizer_word_dim(f);
    return 0;
}

/*
 * Scoring through the table (nc_linear_pack), fused. The featurizer numbers
 * the article's distinct features once (nc_features_slots, a direct-indexed
 * table); each slot's row is then copied once, prefetched a few slots ahead,
 * into a small per-article array, so the whole document and every passage
 * are a pass over their occurrences plus one row of that array per distinct
 * feature: passages never touch the big table again. Within a range,
 * features are visited in order of first occurrence in the range and tf is
 * accumulated in float, as nc_features_bag() does; the decision values agree
 * with nc_features_vector() + nc_linear_dot() to 1e-9
 * (tests/core/test_parity.c). Scratch, all in v: val holds tf (n) then the
 * rows (n * (nlabels + 1)), idx holds the touched slots (n) then each slot's
 * block (n).
 */
struct slot_scratch {
    const uint32_t *slot_of;
    size_t n;
    double *tf;        /* n, zero between ranges */
    const double *row; /* n rows of nlabels + 1 */
    uint32_t *touched; /* n */
    const uint32_t *blk; /* n: 1 for a character n-gram */
};

static int slots_load(const nc_linear *l, const nc_featurizer *f, nc_fscratch *s,
                      struct nc_svec *v, struct slot_scratch *x)
{
    const uint32_t *feat;
    size_t stride = l->nlabels + 1;
    if (nc_features_slots(f, s, &feat, &x->slot_of, &x->n) != 0)
        return -1;
    size_t n = x->n;
    /* At least one entry, so that the buffers exist even for an article
     * without features (NULL + 0 is undefined behaviour). */
    size_t need = n * (stride + 1) > 2 * n ? n * (stride + 1) : 2 * n;
    if (nc_svec_reserve(v, need ? need : 1) != 0)
        return -1;
    enum { AHEAD = 8 };
    for (size_t j = 0; j < n && j < AHEAD; j++)
        __builtin_prefetch(l->rows + (size_t)l->row_of[feat[j]] * stride);
    double *row = v->val + n;
    uint32_t *blk = v->idx + n;
    for (size_t j = 0; j < n; j++) {
        if (j + AHEAD < n)
            __builtin_prefetch(l->rows + (size_t)l->row_of[feat[j + AHEAD]] * stride);
        const double *src = l->rows + (size_t)l->row_of[feat[j]] * stride;
        if (stride == 5) /* 4 labels: a fixed-size copy the compiler inlines */
            memcpy(row + j * 5, src, 5 * sizeof(double));
        else
            memcpy(row + j * stride, src, stride * sizeof(double));
        blk[j] = feat[j] >= l->word_dim;
    }
    x->tf = v->val;
    x->row = row;
    x->touched = v->idx;
    x->blk = blk;
    if (n)
        memset(x->tf, 0, n * sizeof(double));
    return 0;
}

/* Decision values of occurrences [from, to); 1 when a feature was kept, 0 when
 * none was (dec is then the bias alone). */
static int slots_score(const nc_linear *l, const nc_fscratch *s, const struct slot_scratch *x,
                       size_t from, size_t to, double *dec)
{
    size_t nocc, L = l->nlabels, stride = L + 1, nt = 0;
    const struct nc_occ *occ = nc_fscratch_occ(s, &nocc);
    if (to > nocc)
        to = nocc;
    for (size_t i = from; i < to; i++) {
        uint32_t j = x->slot_of[i];
        if (x->tf[j] == 0.0)
            x->touched[nt++] = j;
        x->tf[j] = (double)((float)x->tf[j] + occ[i].w);
    }
    double dot[2][NC_LINEAR_MAX_LABELS], n2[2] = {0, 0};
    memset(dot, 0, sizeof(dot[0]) * 2);
    size_t kept = 0;
    for (size_t t = 0; t < nt; t++) {
        uint32_t j = x->touched[t];
        double tf = x->tf[j];
        x->tf[j] = 0.0;
        const double *r = x->row + (size_t)j * stride;
        if (r[0] == 0.0)
            continue;
        double v = nc_sublinear_tf(tf) * r[0];
        uint32_t blk = x->blk[j];
        n2[blk] += v * v;
        for (size_t k = 0; k < L; k++)
            dot[blk][k] += v * r[1 + k];
        kept++;
    }
    double inv0 = n2[0] > 0 ? 1.0 / sqrt(n2[0]) : 0.0, inv1 = n2[1] > 0 ? 1.0 / sqrt(n2[1]) : 0.0;
    for (size_t k = 0; k < L; k++)
        dec[k] = l->b[k] + dot[0][k] * inv0 + dot[1][k] * inv1;
    return kept ? 1 : 0;
}

void nc_linear_dot(const nc_linear *l, const struct nc_svec *x, double *dec)
{
    size_t L = l->nlabels;
    for (size_t k = 0; k < L; k++)
        dec[k] = l->b[k];
    for (size_t i = 0; i < x->n; i++) {
        const double *w = l->w + (size_t)x->idx[i] * L;
        double v = x->val[i];
        for (size_t k = 0; k < L; k++)
            dec[k] += w[k] * v;
    }
}

double nc_label_score_max(const struct nc_label_score *s)
{
    return s->npassages && s->pmax > s->doc ? s->pmax : s->doc;
}

/* Folds passage p's decisions into the best two of each label. */
static void note_passage(struct nc_scores *out, const double *pdec, size_t p)
{
    for (size_t k = 0; k < out->nlabels; k++) {
        struct nc_label_score *ls = &out->label[k];
        if (ls->npassages++ == 0 || pdec[k] > ls->pmax) {
            ls->p2nd = ls->pmax;
            ls->pmax = pdec[k];
            ls->best = (uint32_t)p + 1;
        } else if (ls->npassages == 2 || pdec[k] > ls->p2nd) {
            ls->p2nd = pdec[k];
        }
    }
}

int nc_linear_score(const nc_linear *l, const nc_featurizer *f, nc_fscratch *s, struct nc_svec *v,
                    const char *title, size_t tlen, const char *body, size_t blen,
                    struct nc_scores *out)
{
    size_t L = l->nlabels;
    double dec[NC_LINEAR_MAX_LABELS];
    out->nlabels = L;
    memset(out->label, 0, L * sizeof(out->label[0]));
    if (nc_features_extract(f, s, title, tlen, body, blen) != 0)
        return -1;
    size_t nocc;
    nc_fscratch_occ(s, &nocc);
    struct slot_scratch x;
    if (l->rows) {
        if (slots_load(l, f, s, v, &x) != 0)
            return -1;
        slots_score(l, s, &x, 0, nocc, dec);
    } else {
        if (nc_features_vector(f, s, 0, nocc, v) != 0)
            return -1;
        nc_linear_dot(l, v, dec);
    }
    for (size_t k = 0; k < L; k++)
        out->label[k].doc = dec[k];
    enum { MAXP = 64 };
    size_t stack[MAXP][2];
    size_t np = nc_features_passages(f, s, NULL, 0);
    if (np == 0)
        return 0;
    size_t (*ranges)[2] = np <= MAXP ? stack : malloc(np * sizeof(*ranges));
    if (!ranges)
        return -1;
    nc_features_passages(f, s, ranges, np);
    int rc = 0;
    for (size_t p = 0; p < np; p++) {
        if (l->rows) {
            if (slots_score(l, s, &x, ranges[p][0], ranges[p][1], dec) == 0)
                continue;
        } else {
            if (nc_features_vector(f, s, ranges[p][0], ranges[p][1], v) != 0) {
                rc = -1;
                break;
            }
            if (v->n == 0)
                continue;
            nc_linear_dot(l, v, dec);
        }
        note_passage(out, dec, p);
    }
    if (ranges != stack)
        free(ranges);
    return rc;
}
