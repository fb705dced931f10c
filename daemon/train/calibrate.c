/*
 * calibrate.c - from out-of-fold scores to what a label ships with: its C,
 * its combiner (core/combine.h) and its probability threshold; and the
 * nested cross-validated figures of that whole procedure.
 *
 * For one (label, C), the combiner is fitted on the out-of-fold scores of
 * every document: Platt's sigmoid on the maximum over document and passages
 * (max), or the logistic regression of train/logreg.h on the combiner's
 * inputs (learned). A threshold tuned on the same probabilities it is judged
 * on looks better than it is, so tuning is itself cross-validated: for each
 * fold, the F1-best threshold of the other folds is applied to that fold.
 * The tuned threshold is kept only when that honest F1 beats the plain 0.5
 * by at least o->threshold_margin (on the shipped corpus, smaller gains did
 * not carry over to the dev set). The C with the best F1 wins.
 *
 * Nested cross-validation repeats exactly that inside the training folds of
 * each outer fold g (from the fold-pair models' scores, t->inner), then
 * applies the chosen C, combiner and threshold to fold g's out-of-fold
 * scores (t->oof): every figure comes from documents that took no part in
 * any choice.
 */
#include <stdlib.h>
#include <string.h>

#include "core/evaluate.h"
#include "core/platt.h"
#include "train/logreg.h"
#include "train/trainer.h"

/* The learned combiner's ridge: negligible against thousands of documents,
 * decisive only when an input is constant or the classes are separable. */
#define COMBINER_RIDGE 1.0

/* One (label, C)'s scores over a set of documents, with work space (one block). */
struct cal_set {
    size_t n;
    int folds;
    double margin;
    void *block;
    double *prob, *sub_p, *x;
    struct nc_label_score *sc;
    unsigned *fold;
    unsigned char *truth, *sub_t;
};

static int cal_alloc(struct cal_set *s, size_t cap, const struct nc_train_opts *o)
{
    memset(s, 0, sizeof(*s));
    cap = cap ? cap : 1;
    s->folds = o->folds;
    s->margin = o->threshold_margin;
    /* Largest alignment first: doubles, the scores, unsigned, bytes. */
    size_t doubles = cap * (2 + NC_COMBINE_NIN), scores = cap * sizeof(*s->sc);
    s->block = malloc(doubles * sizeof(double) + scores + cap * sizeof(unsigned) + 2 * cap);
    if (!s->block)
        return -1;
    s->prob = s->block;
    s->sub_p = s->prob + cap;
    s->x = s->sub_p + cap;
    s->sc = (struct nc_label_score *)(s->x + cap * NC_COMBINE_NIN);
    s->fold = (unsigned *)(s->sc + cap);
    s->truth = (unsigned char *)(s->fold + cap);
    s->sub_t = s->truth + cap;
    return 0;
}

/* Fits the combiner on the set and writes every document's probability. */
static int fit_combiner(struct cal_set *s, enum nc_combine_rule rule, struct nc_combine *comb)
{
    memset(comb, 0, sizeof(*comb));
    comb->rule = rule;
    if (rule == NC_COMBINE_MAX) {
        for (size_t i = 0; i < s->n; i++)
            s->x[i] = nc_label_score_max(&s->sc[i]);
        nc_platt_fit(s->x, s->truth, s->n, &comb->platt);
    } else {
        for (size_t i = 0; i < s->n; i++)
            nc_combine_inputs(&s->sc[i], s->x + i * NC_COMBINE_NIN);
        if (nc_logreg_fit(s->x, s->truth, s->n, NC_COMBINE_NIN, COMBINER_RIDGE, comb->w,
                          &comb->bias) < 0)
            return -1;
    }
    for (size_t i = 0; i < s->n; i++)
        s->prob[i] = nc_combine_prob(comb, &s->sc[i]);
    return 0;
}

static void count(int on, int truth, size_t *tp, size_t *fp, size_t *fn)
{
    *tp += (size_t)(on && truth);
    *fp += (size_t)(on && !truth);
    *fn += (size_t)(!on && truth);
}

/* The combiner and threshold of one (label, C) on a set, with their F1. */
static int calibrate(struct cal_set *s, enum nc_combine_rule rule, struct label_result *r)
{
    size_t n = s->n, tp = 0, fp = 0, fn = 0;
    if (fit_combiner(s, rule, &r->comb) != 0)
        return -1;
    double tuned_f1;
    double tuned = nc_best_threshold(s->prob, s->truth, n, &tuned_f1, &r->f1_half);
    for (unsigned f = 0; f < (unsigned)s->folds; f++) {
        size_t m = 0;
        for (size_t i = 0; i < n; i++)
            if (s->fold[i] != f) {
                s->sub_p[m] = s->prob[i];
                s->sub_t[m++] = s->truth[i];
            }
        if (m == n)
            continue; /* fold f is not in this set */
        double f1o, f1h;
        double th = nc_best_threshold(s->sub_p, s->sub_t, m, &f1o, &f1h);
        for (size_t i = 0; i < n; i++)
            if (s->fold[i] == f)
                count(s->prob[i] >= th, s->truth[i], &tp, &fp, &fn);
    }
    r->f1_tuned_cv = nc_f1(tp, fp, fn);
    r->threshold = r->f1_tuned_cv >= r->f1_half + s->margin ? tuned : 0.5;
    tp = fp = fn = 0;
    for (size_t i = 0; i < n; i++)
        count(s->prob[i] >= r->threshold, s->truth[i], &tp, &fp, &fn);
    r->f1 = nc_f1(tp, fp, fn);
    r->precision = tp + fp ? (double)tp / (double)(tp + fp) : 0;
    r->recall = tp + fn ? (double)tp / (double)(tp + fn) : 0;
    return 0;
}

/*
 * Gathers (label, C)'s scores of the documents outside fold `outer` (-1:
 * all) into s: the cross-validation scores, or with outer >= 0 the
 * fold-pair scores inside outer's training folds.
 */
static void gather(const struct trainer *t, size_t label, size_t c, long outer, struct cal_set *s)
{
    size_t n = t->cp.n, base = (label * t->o->nc + c) * n;
    s->n = 0;
    for (size_t i = 0; i < n; i++) {
        const struct doc *d = &t->cp.docs[i];
        if ((long)d->fold == outer)
            continue;
        s->sc[s->n] = outer < 0 ? t->oof[base + i]
                                : t->inner[(base + i) * (size_t)t->o->folds + (size_t)outer];
        s->truth[s->n] = (unsigned char)(d->labels >> label & 1);
        s->fold[s->n] = d->fold;
        s->n++;
    }
}

/* The best C for a label on the documents outside fold `outer` (-1: all). */
static int choose_in(const struct trainer *t, size_t label, enum nc_combine_rule rule, long outer,
                     struct cal_set *s, struct label_result *best)
{
    memset(best, 0, sizeof(*best));
    best->f1 = -1;
    double grid[NC_TRAIN_MAX_C] = {0};
    for (size_t c = 0; c < t->o->nc; c++) {
        struct label_result r;
        memset(&r, 0, sizeof(r));
        gather(t, label, c, outer, s);
        if (calibrate(s, rule, &r) != 0)
            return -1;
        r.c = c;
        grid[c] = r.f1;
        if (r.f1 > best->f1 + 1e-9)
            *best = r;
    }
    memcpy(best->grid_f1, grid, sizeof(grid));
    return 0;
}

int nc_choose(const struct trainer *t, size_t label, enum nc_combine_rule rule,
              struct label_result *r)
{
    struct cal_set s;
    if (cal_alloc(&s, t->cp.n, t->o) != 0)
        return -1;
    int rc = choose_in(t, label, rule, -1, &s, r);
    free(s.block);
    return rc;
}

int nc_nested(const struct trainer *t, struct nested_result *nr)
{
    size_t n = t->cp.n, nc = t->o->nc;
    memset(nr, 0, sizeof(*nr));
    if (!t->inner)
        return 0;
    struct cal_set s;
    if (cal_alloc(&s, n, t->o) != 0)
        return -1;
    int rc = 0;
    for (size_t k = 0; k < t->cp.nlabels && rc == 0; k++)
        for (int rule = 0; rule < 2 && rc == 0; rule++)
            for (long g = 0; g < (long)t->o->folds && rc == 0; g++) {
                struct label_result r;
                rc = choose_in(t, k, (enum nc_combine_rule)rule, g, &s, &r);
                struct nested_counts *ct = &nr->rule[rule][k];
                for (size_t i = 0; i < n && rc == 0; i++) {
                    const struct doc *d = &t->cp.docs[i];
                    if ((long)d->fold != g)
                        continue;
                    double p = nc_combine_prob(&r.comb, &t->oof[(k * nc + r.c) * n + i]);
                    count(p >= r.threshold, (int)(d->labels >> k & 1), &ct->tp, &ct->fp,
                          &ct->fn);
                }
            }
    free(s.block);
    nr->done = rc == 0;
    return rc;
}
