/*
 * linear.h - collapsed one-vs-rest linear SVMs and the scoring path.
 *
 * A linear libsvm model is sum_i coef_i <sv_i, x> - rho, which collapses to
 * <w, x> + b. nc_linear holds w for every label interleaved by feature
 * (w[idx * nlabels + label]) so one article costs one pass over its
 * non-zeros. nc_linear_score() is THE scoring path: training's
 * cross-validation and serving both call it, so their scores agree. It
 * scores the whole document and every passage of a long body; what a label
 * makes of those scores is the combiner's business (combine.h).
 */
#ifndef NC_LINEAR_H
#define NC_LINEAR_H

#include <stddef.h>
#include <stdint.h>

#include "core/featurize.h"

struct svm_model;

#define NC_LINEAR_MAX_LABELS 64

/* One label's decision values over an article. */
struct nc_label_score {
    double doc;         /* the whole document */
    double pmax, p2nd;  /* the best and second-best passage (with 1 and 2+ passages) */
    uint32_t npassages; /* passages scored: those with at least one kept feature */
    uint32_t best;      /* 1-based index of the best passage among all passages; 0: none */
};

/* Every label's scores of one article. */
struct nc_scores {
    size_t nlabels;
    struct nc_label_score label[NC_LINEAR_MAX_LABELS];
};

/* The maximum over the document and its passages (the max rule's decision). */
double nc_label_score_max(const struct nc_label_score *s);

typedef struct nc_linear {
    size_t nlabels;
    uint32_t dim;
    double *w; /* dim * nlabels */
    double *b; /* nlabels */
    /* Scoring table (nc_linear_pack), in the manner of strided weights: one
     * row per hashed bucket holding its idf then w of every label side by
     * side (nlabels + 1 doubles, 40 bytes with 4 labels: one cache line or
     * less per feature). Buckets dropped by min_df (idf 0, three quarters of
     * them with the shipped model) all share row 0, a row of zeros, so the
     * table is row_of (bucket -> row) plus the distinct rows. */
    uint32_t *row_of; /* dim, or NULL */
    double *rows;     /* nrows * (nlabels + 1); row 0 is all zero */
    uint32_t nrows;
    uint32_t word_dim; /* features below this index form the word block */
} nc_linear;

int nc_linear_init(nc_linear *l, size_t nlabels, uint32_t dim);
void nc_linear_release(nc_linear *l);

/*
 * Collapses a two-class linear-kernel libsvm model into label column `label`.
 * `positive` is the class value meaning "has the label"; libsvm orders classes
 * by first appearance in the training data, so the sign is fixed here.
 */
int nc_linear_set_from_svm(nc_linear *l, size_t label, const struct svm_model *m, int positive,
                           char *err, size_t errlen);

/* Builds the scoring table from w and the featurizer's idf. Returns 0 or -1. */
int nc_linear_pack(nc_linear *l, const nc_featurizer *f);

/* Decision values of one vector for every label (no passages). */
void nc_linear_dot(const nc_linear *l, const struct nc_svec *x, double *dec);

/*
 * Scores an article: per label, the decision of the whole-document vector
 * and the best two of its passage vectors (featurize.h). `v` is caller
 * scratch. With a scoring table (nc_linear_pack) tf-idf weighting,
 * normalisation and the dot products are fused into one pass over the
 * distinct features; the values are those of nc_features_vector() +
 * nc_linear_dot(). A passage without any kept feature is not scored.
 */
int nc_linear_score(const nc_linear *l, const nc_featurizer *f, nc_fscratch *s, struct nc_svec *v,
                    const char *title, size_t tlen, const char *body, size_t blen,
                    struct nc_scores *out);

#endif
