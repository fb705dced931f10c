/* train.c - nc_train(): the stages of trainer.h in order, and the progress log. */
#include "train/train.h"

#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>

#include "base/clock.h"
#include "core/evaluate.h"
#include "core/manifest.h"
#include "train/trainer.h"

void nc_train_opts_default(struct nc_train_opts *o)
{
    memset(o, 0, sizeof(*o));
    o->name = "default";
    o->language = "en";
    nc_feature_settings_default(&o->features);
    o->folds = 5;
    o->combine = NC_COMBINE_LEARNED;
    o->nested = 1;
    o->threshold_margin = 0.02;
    o->c_grid[0] = 0.5;
    o->c_grid[1] = 1.0;
    o->c_grid[2] = 2.0;
    o->nc = 3;
}

void nc_trainer_log(const struct trainer *t, const char *fmt, ...)
{
    if (!t->o->log)
        return;
    va_list ap;
    va_start(ap, fmt);
    fprintf(t->o->log, "[%7.1fs] ", nc_now() - t->t0);
    vfprintf(t->o->log, fmt, ap);
    fputc('\n', t->o->log);
    fflush(t->o->log);
    va_end(ap);
}

static int check_opts(const struct nc_train_opts *o, char *err, size_t errlen)
{
    if (o->nc == 0 || o->nc > NC_TRAIN_MAX_C || o->ndata == 0 || !o->out_dir ||
        !nc_valid_name(o->name)) {
        snprintf(err, errlen,
                 "bad training options (need data, an output directory, a valid name and 1..%d "
                 "C values)",
                 NC_TRAIN_MAX_C);
        return -1;
    }
    for (size_t c = 0; c < o->nc; c++)
        if (!(o->c_grid[c] > 0)) {
            snprintf(err, errlen, "C values must be positive");
            return -1;
        }
    if (o->combine != NC_COMBINE_MAX && o->combine != NC_COMBINE_LEARNED) {
        snprintf(err, errlen, "unknown combiner");
        return -1;
    }
    if (mkdir(o->out_dir, 0755) != 0 && errno != EEXIST) {
        snprintf(err, errlen, "%s: %s", o->out_dir, strerror(errno));
        return -1;
    }
    return 0;
}

static void log_choice(const struct trainer *t, size_t k, const struct label_result *r)
{
    nc_trainer_log(t,
                   "cv %-12s %s, best C=%g  F1 %.4f (P %.4f R %.4f) at threshold %.2f (F1 at "
                   "0.5: %.4f, with a cross-validated tuned threshold: %.4f)",
                   t->cp.labels[k], nc_combine_rule_name(r->comb.rule), t->o->c_grid[r->c], r->f1,
                   r->precision, r->recall, r->threshold, r->f1_half, r->f1_tuned_cv);
}

static void log_nested(const struct trainer *t, const struct nested_result *nr)
{
    nc_trainer_log(t,
                   "nested cross-validation (%d folds; C, combiner and threshold chosen inside "
                   "each training fold):",
                   t->o->folds);
    nc_trainer_log(t, "  %-14s %-24s %-24s", "label", "learned F1 (P / R)", "max F1 (P / R)");
    double macro[2] = {0, 0};
    for (size_t k = 0; k < t->cp.nlabels; k++) {
        char col[2][64];
        for (int rule = 0; rule < 2; rule++) {
            const struct nested_counts *c = &nr->rule[rule][k];
            double f1 = nc_f1(c->tp, c->fp, c->fn);
            snprintf(col[rule], sizeof(col[rule]), "%.4f (%.3f / %.3f)", f1,
                     c->tp + c->fp ? (double)c->tp / (double)(c->tp + c->fp) : 0.0,
                     c->tp + c->fn ? (double)c->tp / (double)(c->tp + c->fn) : 0.0);
            macro[rule] += f1 / (double)t->cp.nlabels;
        }
        nc_trainer_log(t, "  %-14s %-24s %-24s", t->cp.labels[k], col[NC_COMBINE_LEARNED],
                       col[NC_COMBINE_MAX]);
    }
    nc_trainer_log(t, "  %-14s %-24.4f %-24.4f", "macro-F1", macro[NC_COMBINE_LEARNED],
                   macro[NC_COMBINE_MAX]);
}

/* C, combiner and threshold per label (fixed ones without cross-validation). */
static int choose_all(struct trainer *t, struct label_result *res, struct nested_result *nr,
                      char *err, size_t errlen)
{
    if (t->o->folds <= 1) {
        for (size_t k = 0; k < t->cp.nlabels; k++) {
            res[k].c = 0;
            res[k].comb.rule = NC_COMBINE_MAX;
            res[k].comb.platt.A = -2.0; /* a fixed sigmoid: decision 0 -> 0.5 */
            res[k].comb.platt.B = 0.0;
            res[k].threshold = 0.5;
        }
        return 0;
    }
    if (nc_run_cv(t, err, errlen) != 0)
        return -1;
    for (size_t k = 0; k < t->cp.nlabels; k++) {
        if (nc_choose(t, k, t->o->combine, &res[k]) != 0)
            goto oom;
        log_choice(t, k, &res[k]);
    }
    if (nc_nested(t, nr) != 0)
        goto oom;
    if (nr->done)
        log_nested(t, nr);
    return 0;
oom:
    snprintf(err, errlen, "out of memory while calibrating");
    return -1;
}

int nc_train(const struct nc_train_opts *o, char *err, size_t errlen)
{
    struct trainer t;
    memset(&t, 0, sizeof(t));
    t.o = o;
    t.t0 = nc_now();
    struct label_result res[NC_LINEAR_MAX_LABELS];
    struct nested_result nr;
    int rc = -1;
    memset(res, 0, sizeof(res));
    memset(&nr, 0, sizeof(nr));
    if (check_opts(o, err, errlen) != 0)
        return -1;
    if (nc_corpus_read(&t, err, errlen) != 0)
        goto out;
    nc_trainer_log(&t, "read %zu labeled articles, %zu labels, data %s", t.cp.n, t.cp.nlabels,
                   t.cp.data_hash);
    if (!(t.feat = nc_featurizer_new(&o->features, err, errlen)))
        goto out;
    if (nc_build_vectors(&t, err, errlen) != 0 || nc_build_gram(&t, err, errlen) != 0)
        goto out;
    if (choose_all(&t, res, &nr, err, errlen) != 0 || nc_run_final(&t, res, err, errlen) != 0 ||
        nc_write_model(&t, res, &nr, err, errlen) != 0)
        goto out;
    nc_trainer_log(&t, "model written to %s", o->out_dir);
    rc = 0;
out:
    if (t.oof)
        munmap(t.oof, t.oof_bytes);
    if (t.inner)
        munmap(t.inner, t.inner_bytes);
    free(t.pool);
    free(t.gram);
    free(t.x);
    nc_featurizer_free(t.feat);
    nc_corpus_release(&t.cp);
    return rc;
}
