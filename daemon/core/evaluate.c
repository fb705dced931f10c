/* evaluate.c - see evaluate.h. */
#include "core/evaluate.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>

static double ratio(size_t a, size_t b)
{
    return b ? (double)a / (double)b : 0.0;
}

double nc_f1(size_t tp, size_t fp, size_t fn)
{
    return tp ? 2.0 * (double)tp / (double)(2 * tp + fp + fn) : 0.0;
}

int nc_eval_compute(struct nc_eval *ev, size_t nlabels, size_t ndocs, const unsigned char *truth,
                    const unsigned char *pred)
{
    memset(ev, 0, sizeof(*ev));
    ev->label = calloc(nlabels ? nlabels : 1, sizeof(*ev->label));
    if (!ev->label)
        return -1;
    ev->nlabels = nlabels;
    ev->ndocs = ndocs;
    size_t TP = 0, FP = 0, FN = 0;
    for (size_t d = 0; d < ndocs; d++) {
        int same = 1;
        for (size_t k = 0; k < nlabels; k++) {
            int t = truth[d * nlabels + k] != 0, p = pred[d * nlabels + k] != 0;
            struct nc_label_stats *s = &ev->label[k];
            s->support += (size_t)t;
            if (t && p)
                s->tp++;
            else if (p)
                s->fp++;
            else if (t)
                s->fn++;
            if (t != p)
                same = 0;
        }
        ev->exact += (size_t)same;
    }
    double macro = 0;
    for (size_t k = 0; k < nlabels; k++) {
        struct nc_label_stats *s = &ev->label[k];
        s->precision = ratio(s->tp, s->tp + s->fp);
        s->recall = ratio(s->tp, s->tp + s->fn);
        s->f1 = nc_f1(s->tp, s->fp, s->fn);
        macro += s->f1;
        TP += s->tp;
        FP += s->fp;
        FN += s->fn;
    }
    ev->macro_f1 = nlabels ? macro / (double)nlabels : 0.0;
    ev->micro_f1 = nc_f1(TP, FP, FN);
    ev->exact_match = ratio(ev->exact, ndocs);
    return 0;
}

void nc_eval_release(struct nc_eval *ev)
{
    free(ev->label);
    memset(ev, 0, sizeof(*ev));
}

void nc_eval_print_table(const struct nc_eval *ev, const char *const *names, FILE *out)
{
    fprintf(out, "%-20s %9s %9s %9s %9s\n", "label", "precision", "recall", "f1", "support");
    for (size_t k = 0; k < ev->nlabels; k++) {
        const struct nc_label_stats *s = &ev->label[k];
        fprintf(out, "%-20s %9.4f %9.4f %9.4f %9zu\n", names[k], s->precision, s->recall, s->f1,
                s->support);
    }
    fprintf(out, "%-20s %29.4f\n", "micro-F1", ev->micro_f1);
    fprintf(out, "%-20s %29.4f\n", "macro-F1", ev->macro_f1);
    fprintf(out, "%-20s %29.4f %9zu\n", "exact-match", ev->exact_match, ev->ndocs);
}

void nc_eval_print_json(const struct nc_eval *ev, const char *const *names, FILE *out)
{
    json_t *root = json_object();
    json_t *labels = json_object();
    for (size_t k = 0; k < ev->nlabels; k++) {
        const struct nc_label_stats *s = &ev->label[k];
        json_object_set_new(labels, names[k],
                            json_pack("{s:f,s:f,s:f,s:I,s:I,s:I,s:I}", "precision", s->precision,
                                      "recall", s->recall, "f1", s->f1, "support",
                                      (json_int_t)s->support, "tp", (json_int_t)s->tp, "fp",
                                      (json_int_t)s->fp, "fn", (json_int_t)s->fn));
    }
    json_object_set_new(root, "labels", labels);
    json_object_set_new(root, "micro_f1", json_real(ev->micro_f1));
    json_object_set_new(root, "macro_f1", json_real(ev->macro_f1));
    json_object_set_new(root, "exact_match", json_real(ev->exact_match));
    json_object_set_new(root, "documents", json_integer((json_int_t)ev->ndocs));
    char *s = json_dumps(root, JSON_COMPACT | JSON_PRESERVE_ORDER);
    if (s) {
        fprintf(out, "%s\n", s);
        free(s);
    }
    json_decref(root);
}
