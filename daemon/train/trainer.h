/*
 * trainer.h - the trainer's state shared by the files of train/ (not a
 * public interface: nc_train() in train.h is).
 *
 * The stages, in nc_train() order:
 *   corpus.c     labeled JSONL -> documents with label bits and a fold;
 *                unlabeled --idf-data files are read line by line
 *   vectors.c    document frequencies, one feature vector per document,
 *                the linear kernel matrix
 *   workers.c    SVM trainings in forked workers: cross-validation folds,
 *                fold pairs (nested cross-validation) and the final models
 *   calibrate.c  per label: C, combiner and threshold from out-of-fold
 *                scores; the nested cross-validated figures
 *   write.c      df.tsv and manifest.json
 */
#ifndef NC_TRAINER_H
#define NC_TRAINER_H

#include <stddef.h>
#include <stdint.h>

#include "core/combine.h"
#include "core/featurize.h"
#include "core/linear.h"
#include "train/train.h"

struct svm_node;

struct doc {
    char *title, *body;
    size_t tlen, blen;
    uint64_t labels; /* bit k: has label k */
    unsigned fold;
};

struct corpus {
    struct doc *docs;
    size_t n, cap;
    char *labels[NC_LINEAR_MAX_LABELS];
    size_t nlabels;
    char data_hash[17];
};

struct trainer {
    const struct nc_train_opts *o;
    struct corpus cp;
    size_t idf_docs; /* unlabeled articles counted into df */
    nc_featurizer *feat;
    struct svm_node **x; /* per document, index-sorted, terminated by -1 */
    struct svm_node *pool;
    struct svm_node *gram; /* n rows of n + 2 nodes: 0:id, 1..n: <x_i, x_j>, -1 */
    /* Shared with the workers (MAP_SHARED), NULL without cross-validation:
     * oof[(label * nc + c) * n + i]: document i scored by the model of
     *   (label, C) trained without its fold;
     * inner[((label * nc + c) * n + i) * folds + g]: document i scored by
     *   the model trained without its fold and fold g (g != its fold): the
     *   out-of-fold scores inside the training folds of outer fold g. */
    struct nc_label_score *oof, *inner;
    size_t oof_bytes, inner_bytes;
    double t0;
};

/* What was chosen for one label, with its cross-validated figures. */
struct label_result {
    size_t c;
    struct nc_combine comb;
    double threshold, f1, f1_half, f1_tuned_cv, precision, recall;
    double grid_f1[NC_TRAIN_MAX_C];
};

/* Nested cross-validated counts of one label under one combiner. */
struct nested_counts {
    size_t tp, fp, fn;
};

struct nested_result {
    int done;
    struct nested_counts rule[2][NC_LINEAR_MAX_LABELS]; /* [enum nc_combine_rule][label] */
};

void nc_trainer_log(const struct trainer *t, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* corpus.c */
int nc_corpus_read(struct trainer *t, char *err, size_t errlen);
void nc_corpus_release(struct corpus *c);
/* Calls fn for each non-empty line of the --idf-data files (gzip or plain). */
typedef int (*nc_line_fn)(void *ctx, const char *line, size_t len, const char *file, size_t lineno,
                          char *err, size_t errlen);
int nc_idf_data_each(const struct nc_train_opts *o, nc_line_fn fn, void *ctx, char *err,
                     size_t errlen);

/* vectors.c */
int nc_build_vectors(struct trainer *t, char *err, size_t errlen);
int nc_build_gram(struct trainer *t, char *err, size_t errlen);

/* workers.c: cross-validation (oof, and inner when o->nested), then the final models. */
int nc_run_cv(struct trainer *t, char *err, size_t errlen);
int nc_run_final(struct trainer *t, const struct label_result *res, char *err, size_t errlen);

/* calibrate.c */
int nc_choose(const struct trainer *t, size_t label, enum nc_combine_rule rule,
              struct label_result *r);
int nc_nested(const struct trainer *t, struct nested_result *nr);

/* write.c */
int nc_write_model(const struct trainer *t, const struct label_result *res,
                   const struct nested_result *nr, char *err, size_t errlen);

#endif
