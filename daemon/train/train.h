/*
 * train.h - labeled articles -> model directory (manifest.h).
 *
 * Reads labeled JSONL (articles with a "labels" array) through the same
 * article parser and featurizer as serving, counts document frequencies
 * (over the labeled articles and any unlabeled --idf-data articles), and
 * trains one binary linear C-SVC per label (libsvm svm_train, classes
 * weighted to balance them). C is chosen per label by k-fold
 * cross-validation over a small grid; the out-of-fold scores are taken
 * through the serving scoring path (linear.h: the document and each
 * passage), and each label's combiner (combine.h: a logistic regression over
 * the document and passage scores, or Platt's sigmoid of their maximum) and
 * an F1-maximising probability threshold are fitted on them. With 3 folds or
 * more, nested cross-validation measures the whole procedure (C, combiner and
 * threshold chosen inside each training fold) for both combiners on the same
 * folds; the figures go into the manifest. libsvm is not thread-safe, so the
 * SVMs are trained in forked worker processes that write their scores into
 * shared memory. Output is deterministic: same data and options give a
 * byte-identical model (the creation time comes from SOURCE_DATE_EPOCH when
 * set).
 */
#ifndef NC_TRAIN_H
#define NC_TRAIN_H

#include <stdio.h>

#include "core/combine.h"
#include "core/featurize.h"

#define NC_TRAIN_MAX_C 8
#define NC_TRAIN_MAX_FILES 64

struct nc_train_opts {
    const char *const *data; /* labeled JSONL files */
    size_t ndata;
    const char *const *idf_data; /* unlabeled JSONL files (gzip or plain) for df and min_df */
    size_t nidf;
    const char *out_dir;
    const char *name;     /* model name; default "default" */
    const char *language; /* default "en" */
    struct nc_feature_settings features;
    int folds;             /* default 5; 0 or 1: no cross-validation (C = c_grid[0], max rule) */
    double c_grid[NC_TRAIN_MAX_C];
    size_t nc;             /* 0: default grid */
    enum nc_combine_rule combine; /* default NC_COMBINE_LEARNED */
    int nested;            /* nested cross-validation figures (needs folds >= 3); default 1 */
    int jobs;              /* worker processes; 0: number of CPUs */
    double eps;            /* libsvm stopping tolerance; 0: 0.001 */
    size_t limit;          /* use only the first N articles (tests); 0: all */
    double threshold_margin; /* keep a tuned threshold only if it beats 0.5 by this
                                much F1 in nested cross-validation; default 0.02 */
    int full_sv;           /* write libsvm's support vectors instead of the folded w */
    FILE *log;             /* progress, or NULL */
};

void nc_train_opts_default(struct nc_train_opts *o);

/* Trains and writes o->out_dir (created if missing). Returns 0 or -1. */
int nc_train(const struct nc_train_opts *o, char *err, size_t errlen);

#endif
