/*
 * eval.c - `newsclf eval`: classifies labeled articles and prints per-label
 * precision, recall, F1 and support, micro and macro F1 and the exact-match
 * ratio (core/evaluate.h), as a table or one JSON object. `newsclf train
 * --dev` prints the same table for the model it has just written.
 */
#include <getopt.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "core/article.h"
#include "core/evaluate.h"

struct eval_ctx {
    struct nc_cli_model cm;
    unsigned char *truth, *pred;
    size_t n, cap;
};

/* Room for one more article's flags. */
static int grow(struct eval_ctx *c, size_t L)
{
    if (c->n < c->cap)
        return 0;
    size_t cap = c->cap ? c->cap * 2 : 1024;
    unsigned char *t = realloc(c->truth, cap * L), *p;
    if (!t)
        return -1;
    c->truth = t;
    if (!(p = realloc(c->pred, cap * L)))
        return -1;
    c->pred = p;
    c->cap = cap;
    return 0;
}

static int eval_one(void *vctx, const char *rec, size_t len, const char *src, size_t line)
{
    struct eval_ctx *c = vctx;
    char err[512];
    size_t L = nc_model_nlabels(c->cm.m);
    enum nc_article_error ae = nc_article_parse(c->cm.a, rec, len, (size_t)16 << 20, err, sizeof(err));
    json_t *labels = ae == NC_ART_OK && nc_article_json(c->cm.a)
                         ? json_object_get(nc_article_json(c->cm.a), "labels")
                         : NULL;
    if (!json_is_array(labels)) {
        fprintf(stderr, "newsclf eval: %s:%zu: not a labeled article (%s)\n", src, line,
                ae == NC_ART_OK ? "no \"labels\" array" : err);
        return -1;
    }
    if (grow(c, L) != 0)
        return -1;
    unsigned char *truth = c->truth + c->n * L, *pred = c->pred + c->n * L;
    memset(truth, 0, L);
    for (size_t i = 0; i < json_array_size(labels); i++) {
        json_t *l = json_array_get(labels, i);
        int k = json_is_string(l) ? nc_model_label_index(c->cm.m, json_string_value(l)) : -1;
        if (k >= 0)
            truth[k] = 1;
    }
    nc_result r;
    if (nc_model_classify(c->cm.m, c->cm.ws, c->cm.a, &r, err, sizeof(err)) != 0) {
        fprintf(stderr, "newsclf eval: %s\n", err);
        return -1;
    }
    memcpy(pred, r.on, L);
    c->n++;
    return 0;
}

int nc_cli_eval_model(nc_model *m, const char *data, int json, FILE *out)
{
    struct eval_ctx c;
    memset(&c, 0, sizeof(c));
    char *files[1] = {(char *)data};
    int rc = NC_EXIT_RUNTIME;
    if (nc_cli_model_open(&c.cm, NULL, m) != 0)
        return rc;
    if (nc_cli_each_record(files, 1, 0, eval_one, &c) == 0) {
        struct nc_eval ev;
        size_t L = nc_model_nlabels(m);
        const char *names[NC_MAX_LABELS];
        for (size_t k = 0; k < L; k++)
            names[k] = nc_model_label(m, k);
        if (nc_eval_compute(&ev, L, c.n, c.truth, c.pred) == 0) {
            if (json)
                nc_eval_print_json(&ev, names, out);
            else
                nc_eval_print_table(&ev, names, out);
            nc_eval_release(&ev);
            rc = 0;
        }
    }
    free(c.truth);
    free(c.pred);
    nc_cli_model_close(&c.cm);
    return rc;
}

int nc_cli_eval(int argc, char **argv)
{
    static const struct option opts[] = {
        {"model", required_argument, 0, 'm'}, {"data", required_argument, 0, 'd'},
        {"json", no_argument, 0, 'j'}, {"help", no_argument, 0, 'h'}, {0, 0, 0, 0}};
    const char *model = nc_cli_default_model(), *data = NULL;
    int json = 0, o;
    while ((o = getopt_long(argc, argv, "m:d:jh", opts, NULL)) != -1) {
        if (o == 'm') {
            model = optarg;
        } else if (o == 'd') {
            data = optarg;
        } else if (o == 'j') {
            json = 1;
        } else if (o == 'h') {
            printf("usage: newsclf eval [--model DIR] --data FILE.jsonl [--json]\n"
                   "\n"
                   "Classifies the labeled articles of FILE and prints per-label precision,\n"
                   "recall, F1 and support, micro and macro F1 and the exact-match ratio, as a\n"
                   "table or, with --json, as one JSON object.\n");
            return 0;
        } else {
            return NC_EXIT_USAGE;
        }
    }
    if (!data || optind != argc) {
        fprintf(stderr, "newsclf eval: --data is required\n");
        return NC_EXIT_USAGE;
    }
    nc_model *m = nc_cli_load_model(model);
    if (!m)
        return NC_EXIT_RUNTIME;
    int rc = nc_cli_eval_model(m, data, json, stdout);
    nc_model_free(m);
    return rc;
}
