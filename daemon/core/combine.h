/*
 * combine.h - one label's probability from its SVM scores over an article.
 *
 * A label's linear SVM scores the whole document and every passage of a long
 * body (linear.h, struct nc_label_score). A combiner turns those scores into
 * the label's probability:
 *
 *   max      Platt's sigmoid of the maximum over the document and its
 *            passages (every model of format version 1; `newsclf train
 *            --combine max`; training without cross-validation)
 *   learned  a logistic regression over NC_COMBINE_NIN inputs (the names in
 *            nc_combine_input_names): the document's decision, the best
 *            passage's, the mean of the two best passages', log(1 + number
 *            of passages) and whether there are passages at all. The
 *            passage inputs are 0 for an article without passages. Fitted by
 *            the trainer on out-of-fold scores (train/logreg.h).
 *
 * Serving cost: the dot products of linear.h plus a few multiplications.
 * The manifest's form of a combiner is read and written here, so the loader
 * (model.c) and the trainer agree on it.
 */
#ifndef NC_COMBINE_H
#define NC_COMBINE_H

#include <jansson.h>
#include <stddef.h>

#include "core/linear.h"
#include "core/platt.h"

#define NC_COMBINE_NIN 5

enum nc_combine_rule { NC_COMBINE_MAX = 0, NC_COMBINE_LEARNED = 1 };

struct nc_combine {
    enum nc_combine_rule rule;
    struct nc_platt platt;      /* max */
    double w[NC_COMBINE_NIN];   /* learned: weights of the inputs */
    double bias;                /* learned */
};

extern const char *const nc_combine_input_names[NC_COMBINE_NIN];

/* "max" or "learned"; parses them back (-1: neither). */
const char *nc_combine_rule_name(enum nc_combine_rule r);
int nc_combine_rule_parse(const char *s);

/* The learned combiner's inputs for one label's scores. */
void nc_combine_inputs(const struct nc_label_score *s, double x[NC_COMBINE_NIN]);

/* The probability of the label. */
double nc_combine_prob(const struct nc_combine *c, const struct nc_label_score *s);

/* 1 / (1 + exp(-z)) without overflow. */
double nc_logistic(double z);

/*
 * The manifest keys of one label's combiner, added to its object `label`:
 * "rule", and "platt" {A, B} (max) or "combiner" {inputs, weights, bias}
 * (learned). Returns 0 or -1 (out of memory).
 */
int nc_combine_to_json(const struct nc_combine *c, json_t *label);

/*
 * Reads one label's combiner from its manifest object. Format version 1 has
 * no "rule" and means max with "platt". Returns 0, or -1 with a one-line
 * reason naming labels[k] in err.
 */
int nc_combine_from_json(json_t *label, int format_version, size_t k, struct nc_combine *c,
                         char *err, size_t errlen);

#endif
