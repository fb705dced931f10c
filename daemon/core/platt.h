/*
 * platt.h - probability calibration and threshold choice for one label.
 *
 * nc_platt_fit() fits P(label | f) = 1 / (1 + exp(A f + B)) to decision
 * values f with Platt's method as improved by Lin, Lin and Weng (the same
 * algorithm libsvm uses internally for -b 1). nc_best_threshold() picks the
 * probability threshold that maximises F1 on the same out-of-fold scores.
 */
#ifndef NC_PLATT_H
#define NC_PLATT_H

#include <stddef.h>

struct nc_platt {
    double A, B;
};

void nc_platt_fit(const double *dec, const unsigned char *truth, size_t n, struct nc_platt *out);
double nc_platt_prob(const struct nc_platt *p, double dec);

/*
 * Best F1 threshold on a grid 0.05, 0.06, ..., 0.95 (ties go to the value
 * closest to 0.5). *f1 receives the F1 reached, *f1_at_half the F1 at 0.5.
 */
double nc_best_threshold(const double *prob, const unsigned char *truth, size_t n, double *f1,
                         double *f1_at_half);

#endif
