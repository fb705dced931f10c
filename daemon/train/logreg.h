/*
 * logreg.h - a small logistic regression (at most NC_LOGREG_MAX_DIM inputs)
 * fitted by Newton's method (iteratively reweighted least squares); the
 * learned combiner of document and passage scores (core/combine.h) is one.
 *
 * Minimises  sum_i [log(1 + exp(z_i)) - t_i z_i] + ridge/2 * |w|^2  with
 * z_i = bias + w . x_i; the bias is not penalised. As in Platt's method
 * (core/platt.h) the targets are smoothed: t_i = (N+ + 1) / (N+ + 2) for a
 * positive and 1 / (N- + 2) for a negative, so the optimum is finite even
 * when the classes are separable or one of them is empty; the ridge keeps it
 * unique when an input is constant or two inputs are collinear.
 * Deterministic: a fixed start (w = 0, bias = the smoothed prior's
 * log-odds), sums in input order, a Cholesky solve of the Hessian and a
 * backtracking line search.
 */
#ifndef NC_LOGREG_H
#define NC_LOGREG_H

#include <stddef.h>

#define NC_LOGREG_MAX_DIM 8

/*
 * x: n rows of d inputs (row-major); truth: n flags. Writes d weights to w
 * and the bias. Returns the number of Newton iterations taken, or -1 for
 * bad arguments (d = 0 or above NC_LOGREG_MAX_DIM) or no memory.
 */
int nc_logreg_fit(const double *x, const unsigned char *truth, size_t n, size_t d, double ridge,
                  double *w, double *bias);

#endif
