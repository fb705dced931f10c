/*
 * train.h - labeled articles -> model directory (manifest.h).
 *
 * Reads labeled JSONL (articles with a "labels" array) through the same
 * article parser and featurizer as serving, counts document frequencies,
 * and trains one binary linear C-SVC per label (libsvm svm_train, classes
 * weighted to balance them). C is chosen per label by k-fold
 * cross-validation over a small grid; the out-of-fold scores are taken
 * through the serving scoring path (linear.h, passages included), and a
 * Platt sigmoid and an F1-maximising probability threshold are fitted on
 * them. libsvm is not thread-safe, so the work runs in forked worker
 * processes that write results into shared memory. Output is deterministic:
 * same data and options give a byte-identical model (the creation time comes
 * from SOURCE_DATE_EPOCH when set).
 */
#ifndef NC_TRAIN_H
#define NC_TRAIN_H

#include <stdio.h>

#include "core/featurize.h"

#define NC_TRAIN_MAX_C 8

struct nc_train_opts {
    const char *const *data; /* labeled JSONL files */
    size_t ndata;
    const char *out_dir;
    const char *name;     /* model name; default "default" */
    const char *language; /* default "en" */
    struct nc_feature_settings features;
    int folds;             /* default 5; 0 or 1: no cross-validation (C = c_grid[0]) */
    double c_grid[NC_TRAIN_MAX_C];
    size_t nc;             /* 0: default grid */
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
