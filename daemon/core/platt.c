/* platt.c - see platt.h. */
#include "core/platt.h"

#include <math.h>
#include <stdlib.h>

#include "core/evaluate.h"

static double fval_of(const double *dec, const double *t, size_t n, double A, double B)
{
    double f = 0;
    for (size_t i = 0; i < n; i++) {
        double fApB = dec[i] * A + B;
        if (fApB >= 0)
            f += t[i] * fApB + log1p(exp(-fApB));
        else
            f += (t[i] - 1) * fApB + log1p(exp(fApB));
    }
    return f;
}

void nc_platt_fit(const double *dec, const unsigned char *truth, size_t n, struct nc_platt *out)
{
    double prior1 = 0, prior0 = 0;
    for (size_t i = 0; i < n; i++)
        truth[i] ? prior1++ : prior0++;
    const int max_iter = 100;
    const double min_step = 1e-10, sigma = 1e-12, eps = 1e-5;
    double hi = (prior1 + 1.0) / (prior1 + 2.0), lo = 1.0 / (prior0 + 2.0);
    double *t = malloc((n ? n : 1) * sizeof(*t));
    double A = 0.0, B = log((prior0 + 1.0) / (prior1 + 1.0));
    if (!t) {
        out->A = -1.0;
        out->B = 0.0;
        return;
    }
    for (size_t i = 0; i < n; i++)
        t[i] = truth[i] ? hi : lo;
    double fval = fval_of(dec, t, n, A, B);
    for (int it = 0; it < max_iter; it++) {
        double h11 = sigma, h22 = sigma, h21 = 0, g1 = 0, g2 = 0;
        for (size_t i = 0; i < n; i++) {
            double fApB = dec[i] * A + B, p, q;
            if (fApB >= 0) {
                p = exp(-fApB) / (1.0 + exp(-fApB));
                q = 1.0 / (1.0 + exp(-fApB));
            } else {
                p = 1.0 / (1.0 + exp(fApB));
                q = exp(fApB) / (1.0 + exp(fApB));
            }
            double d2 = p * q;
            h11 += dec[i] * dec[i] * d2;
            h22 += d2;
            h21 += dec[i] * d2;
            double d1 = t[i] - p;
            g1 += dec[i] * d1;
            g2 += d1;
        }
        if (fabs(g1) < eps && fabs(g2) < eps)
            break;
        double det = h11 * h22 - h21 * h21;
        double dA = -(h22 * g1 - h21 * g2) / det;
        double dB = -(-h21 * g1 + h11 * g2) / det;
        double gd = g1 * dA + g2 * dB;
        double step = 1;
        while (step >= min_step) {
            double nA = A + step * dA, nB = B + step * dB;
            double nf = fval_of(dec, t, n, nA, nB);
            if (nf < fval + 0.0001 * step * gd) {
                A = nA;
                B = nB;
                fval = nf;
                break;
            }
            step /= 2.0;
        }
        if (step < min_step)
            break;
    }
    free(t);
    out->A = A;
    out->B = B;
}

double nc_platt_prob(const struct nc_platt *p, double dec)
{
    double fApB = dec * p->A + p->B;
    if (fApB >= 0)
        return exp(-fApB) / (1.0 + exp(-fApB));
    return 1.0 / (1.0 + exp(fApB));
}

static double f1_at(const double *prob, const unsigned char *truth, size_t n, double th)
{
    size_t tp = 0, fp = 0, fn = 0;
    for (size_t i = 0; i < n; i++) {
        int on = prob[i] >= th;
        if (on && truth[i])
            tp++;
        else if (on)
            fp++;
        else if (truth[i])
            fn++;
    }
    return nc_f1(tp, fp, fn);
}

double nc_best_threshold(const double *prob, const unsigned char *truth, size_t n, double *f1,
                         double *f1_at_half)
{
    double best = 0.5, bestf = f1_at(prob, truth, n, 0.5);
    *f1_at_half = bestf;
    for (int k = 5; k <= 95; k++) {
        double th = k / 100.0;
        double f = f1_at(prob, truth, n, th);
        if (f > bestf + 1e-12 || (fabs(f - bestf) <= 1e-12 && fabs(th - 0.5) < fabs(best - 0.5))) {
            best = th;
            bestf = f;
        }
    }
    *f1 = bestf;
    return best;
}
