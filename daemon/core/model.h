/*
 * model.h - a loaded model directory: labels, thresholds, feature settings,
 * IDF table, one collapsed linear SVM (w, b) per label and each label's
 * combiner of document and passage scores (combine.h).
 *
 * Loading validates everything (manifest, checksums, the libsvm files through
 * our strict reader before libsvm's own loader sees them) and refuses a
 * missing, truncated, inconsistent or newer-format model with a one-line
 * reason. Each linear libsvm model is collapsed into one weight vector so a
 * prediction costs O(non-zeros of the article).
 *
 * A loaded model is immutable and may be shared by threads; each thread
 * classifies with its own nc_workspace.
 */
#ifndef NC_MODEL_H
#define NC_MODEL_H

#include <stddef.h>
#include <stdint.h>

#include "core/article.h"

#define NC_MAX_LABELS 64
#define NC_LABEL_MAX 64 /* bytes, including the terminating NUL */

typedef struct nc_model nc_model;
typedef struct nc_workspace nc_workspace;

enum nc_skip { NC_SKIP_NONE = 0, NC_SKIP_LANGUAGE };

typedef struct nc_result {
    size_t nlabels;
    enum nc_skip skipped;         /* NC_SKIP_LANGUAGE: no scores, no labels */
    double decision[NC_MAX_LABELS]; /* raw SVM decision value (max over document and passages) */
    double prob[NC_MAX_LABELS];     /* the combiner's probability (combine.h) */
    unsigned char on[NC_MAX_LABELS];/* prob >= threshold */
} nc_result;

int nc_model_load(const char *dir, nc_model **out, char *err, size_t errlen);
void nc_model_free(nc_model *m);

const char *nc_model_name(const nc_model *m);
const char *nc_model_version(const nc_model *m);
const char *nc_model_dir(const nc_model *m);
size_t nc_model_nlabels(const nc_model *m);
const char *nc_model_label(const nc_model *m, size_t i);
/* Index of a label, or -1. */
int nc_model_label_index(const nc_model *m, const char *label);
double nc_model_threshold(const nc_model *m, size_t i);
/* Overrides one label's probability threshold (0 < p < 1). */
int nc_model_set_threshold(nc_model *m, const char *label, double p, char *err, size_t errlen);

/* Per-thread scratch memory sized for a model's feature space. */
nc_workspace *nc_workspace_new(const nc_model *m);
void nc_workspace_free(nc_workspace *ws);

/* Classifies one parsed article. Returns 0, or -1 with err on failure. */
int nc_model_classify(const nc_model *m, nc_workspace *ws, const nc_article *a, nc_result *r,
                      char *err, size_t errlen);

/* Internals for `newsclf explain`, tests and benchmarks. */
struct nc_featurizer;
struct nc_linear;
struct nc_fscratch;
struct nc_combine;
struct nc_scores;
const struct nc_featurizer *nc_model_featurizer(const nc_model *m);
const struct nc_linear *nc_model_linear(const nc_model *m);
struct nc_fscratch *nc_workspace_fscratch(nc_workspace *ws);
/* Label i's combiner of document and passage scores. */
const struct nc_combine *nc_model_combiner(const nc_model *m, size_t i);
/* The per-label document and passage scores of ws's last classification. */
const struct nc_scores *nc_workspace_scores(const nc_workspace *ws);

#endif
