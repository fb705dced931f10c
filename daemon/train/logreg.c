/* logreg.c - see logreg.h. */
#include "train/logreg.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define P (NC_LOGREG_MAX_DIM + 1) /* parameters: bias, then the weights */

struct problem {
    const double *x;
    const double *t; /* smoothed targets */
    size_t n, d;
    double ridge;
};

/* log(1 + exp(z)) without overflow. */
static double softplus(double z)
{
    return z > 0 ? z + log1p(exp(-z)) : log1p(exp(z));
}

static double zval(const struct problem *pb, const double *th, size_t i)
{
    const double *xi = pb->x + i * pb->d;
    double z = th[0];
    for (size_t j = 0; j < pb->d; j++)
        z += th[j + 1] * xi[j];
    return z;
}

static double objective(const struct problem *pb, const double *th)
{
    double f = 0;
    for (size_t i = 0; i < pb->n; i++) {
        double z = zval(pb, th, i);
        f += softplus(z) - pb->t[i] * z;
    }
    for (size_t j = 1; j <= pb->d; j++)
        f += 0.5 * pb->ridge * th[j] * th[j];
    return f;
}

/* Gradient g and Hessian h (m x m, m = d + 1) at th. */
static void derivatives(const struct problem *pb, const double *th, double *g, double *h)
{
    size_t m = pb->d + 1;
    double xt[P];
    memset(g, 0, m * sizeof(*g));
    memset(h, 0, m * m * sizeof(*h));
    xt[0] = 1.0;
    for (size_t i = 0; i < pb->n; i++) {
        memcpy(xt + 1, pb->x + i * pb->d, pb->d * sizeof(double));
        double z = zval(pb, th, i);
        double p = z >= 0 ? 1.0 / (1.0 + exp(-z)) : exp(z) / (1.0 + exp(z));
        double r = p - pb->t[i], s = p * (1.0 - p);
        for (size_t a = 0; a < m; a++) {
            g[a] += r * xt[a];
            for (size_t b = 0; b <= a; b++)
                h[a * m + b] += s * xt[a] * xt[b];
        }
    }
    for (size_t a = 0; a < m; a++)
        for (size_t b = a + 1; b < m; b++)
            h[a * m + b] = h[b * m + a];
    /* The ridge on the weights; a trace of it on the bias keeps h positive definite. */
    h[0] += 1e-9;
    for (size_t j = 1; j < m; j++) {
        g[j] += pb->ridge * th[j];
        h[j * m + j] += pb->ridge;
    }
}

/* Solves h s = -g by Cholesky (h is overwritten). Returns -1 when h is not positive definite. */
static int newton_step(double *h, const double *g, size_t m, double *s)
{
    for (size_t j = 0; j < m; j++) {
        double dsum = h[j * m + j];
        for (size_t k = 0; k < j; k++)
            dsum -= h[j * m + k] * h[j * m + k];
        if (!(dsum > 0))
            return -1;
        double ljj = sqrt(dsum);
        h[j * m + j] = ljj;
        for (size_t i = j + 1; i < m; i++) {
            double v = h[i * m + j];
            for (size_t k = 0; k < j; k++)
                v -= h[i * m + k] * h[j * m + k];
            h[i * m + j] = v / ljj;
        }
    }
    for (size_t i = 0; i < m; i++) { /* L y = -g */
        double v = -g[i];
        for (size_t k = 0; k < i; k++)
            v -= h[i * m + k] * s[k];
        s[i] = v / h[i * m + i];
    }
    for (size_t i = m; i-- > 0;) { /* L^T s = y */
        double v = s[i];
        for (size_t k = i + 1; k < m; k++)
            v -= h[k * m + i] * s[k];
        s[i] = v / h[i * m + i];
    }
    return 0;
}

int nc_logreg_fit(const double *x, const unsigned char *truth, size_t n, size_t d, double ridge,
                  double *w, double *bias)
{
    if (d == 0 || d > NC_LOGREG_MAX_DIM)
        return -1;
    double *t = malloc((n ? n : 1) * sizeof(*t));
    if (!t)
        return -1;
    double pos = 0;
    for (size_t i = 0; i < n; i++)
        pos += truth[i] != 0;
    double hi = (pos + 1.0) / (pos + 2.0), lo = 1.0 / ((double)n - pos + 2.0);
    for (size_t i = 0; i < n; i++)
        t[i] = truth[i] ? hi : lo;
    struct problem pb = {x, t, n, d, ridge};
    size_t m = d + 1;
    double th[P] = {0}, g[P], h[P * P], s[P];
    th[0] = log((pos + 1.0) / ((double)n - pos + 1.0));
    double f = objective(&pb, th);
    int it;
    for (it = 0; it < 100; it++) {
        derivatives(&pb, th, g, h);
        double gmax = 0;
        for (size_t a = 0; a < m; a++)
            gmax = fmax(gmax, fabs(g[a]));
        if (gmax < 1e-9 * (double)(n + 1))
            break;
        if (newton_step(h, g, m, s) != 0)
            for (size_t a = 0; a < m; a++) /* cannot happen with the ridge; be safe */
                s[a] = -g[a] / (double)(n + 1);
        double gs = 0;
        for (size_t a = 0; a < m; a++)
            gs += g[a] * s[a];
        /* Backtracking: halve the step until the objective decreases enough (at most 34 times). */
        double step = 1.0, nt[P];
        int halvings = 0, ok = 0;
        for (; halvings < 34 && !ok; halvings++) {
            for (size_t a = 0; a < m; a++)
                nt[a] = th[a] + step * s[a];
            ok = objective(&pb, nt) <= f + 1e-4 * step * gs;
            step = ok ? step : step / 2;
        }
        if (!ok)
            break;
        memcpy(th, nt, m * sizeof(double));
        f = objective(&pb, th);
    }
    free(t);
    *bias = th[0];
    memcpy(w, th + 1, d * sizeof(double));
    return it;
}
