/*
 * evaluate.h - multi-label quality figures: per-label precision, recall,
 * F1 and support; micro and macro F1; exact-match ratio.
 */
#ifndef NC_EVALUATE_H
#define NC_EVALUATE_H

#include <stdio.h>
#include <stddef.h>

struct nc_label_stats {
    size_t tp, fp, fn, support;
    double precision, recall, f1;
};

struct nc_eval {
    size_t nlabels, ndocs, exact;
    struct nc_label_stats *label; /* nlabels */
    double micro_f1, macro_f1, exact_match;
};

/* F1 from counts: 2tp / (2tp + fp + fn), 0 when tp is 0. */
double nc_f1(size_t tp, size_t fp, size_t fn);

/* truth/pred: ndocs * nlabels flags, row-major. Returns 0 or -1 (memory). */
int nc_eval_compute(struct nc_eval *ev, size_t nlabels, size_t ndocs, const unsigned char *truth,
                    const unsigned char *pred);
void nc_eval_release(struct nc_eval *ev);

void nc_eval_print_table(const struct nc_eval *ev, const char *const *names, FILE *out);
/* One JSON object (compact, one line, with trailing newline). */
void nc_eval_print_json(const struct nc_eval *ev, const char *const *names, FILE *out);

#endif
