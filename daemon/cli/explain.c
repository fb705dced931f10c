/*
 * explain.c - `newsclf explain`: for every label, its probability and how
 * it came about: the combiner's inputs (the document's decision, the best
 * passage's and which passage that is, ...) with their weights, and the
 * features that pushed the decision of the part that mattered most (the
 * whole document or the best passage) up or down, as text or JSON.
 */
#include <getopt.h>
#include <jansson.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "core/article.h"
#include "core/combine.h"
#include "core/featurize.h"
#include "core/linear.h"

struct contrib {
    uint32_t idx;
    double c;
};

struct explain_ctx {
    struct nc_cli_model cm;
    int top;
    int json;
    struct nc_svec v;
    struct contrib *cs;
    size_t (*ranges)[2]; /* [0]: the document, [p]: passage p (1-based) */
    size_t np;
};

static int by_contrib_desc(const void *a, const void *b)
{
    double x = ((const struct contrib *)a)->c, y = ((const struct contrib *)b)->c;
    return x < y ? 1 : x > y ? -1 : 0;
}

/* Names of the occurrences in [from, to) that fell into bucket idx. */
static void bucket_names(const nc_fscratch *s, size_t from, size_t to, uint32_t idx, char *out,
                         size_t outlen)
{
    size_t n;
    const struct nc_occ *occ = nc_fscratch_occ(s, &n);
    size_t used = 0;
    out[0] = '\0';
    for (size_t i = from; i < to && used + 4 < outlen; i++) {
        if (occ[i].idx != idx)
            continue;
        const char *name = nc_fscratch_name(s, i);
        if (strstr(out, name))
            continue;
        int w = snprintf(out + used, outlen - used, "%s%s", used ? " | " : "", name);
        if (w < 0)
            break;
        used += (size_t)w < outlen - used ? (size_t)w : outlen - used - 1;
    }
}

/*
 * The part whose features are shown (0: the document, p: passage p): under
 * the max rule the part that gave the maximum; under the learned rule the
 * best passage when the passage inputs add more to the logit than the
 * document's decision does.
 */
static size_t part_of(const struct nc_combine *comb, const struct nc_label_score *ls)
{
    if (ls->npassages == 0)
        return 0;
    if (comb->rule == NC_COMBINE_MAX)
        return ls->pmax > ls->doc ? ls->best : 0;
    double x[NC_COMBINE_NIN];
    nc_combine_inputs(ls, x);
    return comb->w[1] * x[1] + comb->w[2] * x[2] > comb->w[0] * x[0] ? ls->best : 0;
}

/* The combiner's inputs, weights and contributions (text and JSON). */
static json_t *show_combiner(const struct explain_ctx *c, const struct nc_combine *comb,
                             const struct nc_label_score *ls)
{
    if (comb->rule == NC_COMBINE_MAX) {
        if (!c->json)
            printf("    combiner: max over the document (%+.3f) and %u passages, Platt A=%.3f "
                   "B=%.3f\n",
                   ls->doc, ls->npassages, comb->platt.A, comb->platt.B);
        return json_pack("{s:s,s:f,s:i,s:{s:f,s:f}}", "rule", "max", "document", ls->doc,
                         "passages", (int)ls->npassages, "platt", "A", comb->platt.A, "B",
                         comb->platt.B);
    }
    double x[NC_COMBINE_NIN], z = comb->bias;
    nc_combine_inputs(ls, x);
    json_t *in = json_object();
    if (!c->json)
        printf("    combiner: %-18s %8s   %8s   %8s\n", "input", "value", "weight", "term");
    for (size_t i = 0; i < NC_COMBINE_NIN; i++) {
        z += comb->w[i] * x[i];
        json_object_set_new(in, nc_combine_input_names[i],
                            json_pack("{s:f,s:f}", "value", x[i], "weight", comb->w[i]));
        if (c->json)
            continue;
        printf("              %-18s %+8.3f x %+8.3f = %+8.3f", nc_combine_input_names[i], x[i],
               comb->w[i], comb->w[i] * x[i]);
        if (i == 1 && ls->npassages)
            printf("  (passage %u of %zu)", ls->best, c->np);
        putchar('\n');
    }
    if (!c->json)
        printf("              %-18s %8s   %8s   %+8.3f -> logit %+.3f\n", "bias", "", "",
               comb->bias, z);
    return json_pack("{s:s,s:o,s:f,s:f,s:i,s:o}", "rule", "learned", "inputs", in, "bias",
                     comb->bias, "logit", z, "passages", (int)ls->npassages, "best_passage",
                     ls->npassages ? json_integer(ls->best) : json_null());
}

/* The top features of one part for label k, into up and down. */
static int show_features(struct explain_ctx *c, size_t k, size_t part, json_t *up, json_t *down)
{
    const nc_featurizer *f = nc_model_featurizer(c->cm.m);
    const nc_linear *lin = nc_model_linear(c->cm.m);
    nc_fscratch *s = nc_workspace_fscratch(c->cm.ws);
    size_t from = c->ranges[part][0], to = c->ranges[part][1];
    if (nc_features_vector(f, s, from, to, &c->v) != 0)
        return -1;
    free(c->cs);
    if (!(c->cs = malloc((c->v.n + 1) * sizeof(*c->cs))))
        return -1;
    for (size_t i = 0; i < c->v.n; i++) {
        c->cs[i].idx = c->v.idx[i];
        c->cs[i].c = c->v.val[i] * lin->w[(size_t)c->v.idx[i] * lin->nlabels + k];
    }
    qsort(c->cs, c->v.n, sizeof(*c->cs), by_contrib_desc);
    for (int dir = 0; dir < 2; dir++) {
        int shown = 0;
        for (size_t q = 0; q < c->v.n && shown < c->top; q++) {
            const struct contrib *ci = &c->cs[dir == 0 ? q : c->v.n - 1 - q];
            if ((dir == 0 && ci->c <= 0) || (dir == 1 && ci->c >= 0))
                break;
            char names[512];
            bucket_names(s, from, to, ci->idx, names, sizeof(names));
            json_array_append_new(dir == 0 ? up : down, json_pack("{s:s,s:f}", "feature", names,
                                                                  "contribution", ci->c));
            if (!c->json)
                printf("    %s %+.4f  %s\n", dir == 0 ? "up  " : "down", ci->c, names);
            shown++;
        }
    }
    return 0;
}

static json_t *explain_label(struct explain_ctx *c, const nc_result *r, size_t k)
{
    const struct nc_combine *comb = nc_model_combiner(c->cm.m, k);
    const struct nc_label_score *ls = &nc_workspace_scores(c->cm.ws)->label[k];
    const nc_linear *lin = nc_model_linear(c->cm.m);
    size_t part = part_of(comb, ls);
    const char *name = nc_model_label(c->cm.m, k);
    json_t *lo = json_pack("{s:s,s:b,s:f,s:f,s:f,s:f}", "label", name, "on", r->on[k],
                           "probability", r->prob[k], "threshold", nc_model_threshold(c->cm.m, k),
                           "decision", r->decision[k], "bias", lin->b[k]);
    json_object_set_new(lo, "from", part == 0 ? json_string("document")
                                              : json_sprintf("passage %zu of %zu", part, c->np));
    if (!c->json)
        printf("%-12s %s  p=%.3f (threshold %.2f)  decision=%+.3f  features from %s%s\n", name,
               r->on[k] ? "YES" : "no ", r->prob[k], nc_model_threshold(c->cm.m, k), r->decision[k],
               part == 0 ? "the whole document" : "passage",
               part == 0 ? "" : json_string_value(json_object_get(lo, "from")) + 7);
    json_object_set_new(lo, "combiner", show_combiner(c, comb, ls));
    json_t *up = json_array(), *down = json_array();
    json_object_set_new(lo, "up", up);
    json_object_set_new(lo, "down", down);
    if (show_features(c, k, part, up, down) != 0) {
        json_decref(lo);
        return NULL;
    }
    return lo;
}

static int explain_one(void *vctx, const char *rec, size_t len, const char *src, size_t line)
{
    struct explain_ctx *c = vctx;
    (void)line;
    char err[512];
    nc_result r;
    enum nc_article_error ae = nc_article_parse(c->cm.a, rec, len, 0, err, sizeof(err));
    if (ae != NC_ART_OK) {
        fprintf(stderr, "newsclf explain: %s: %s: %s\n", src, nc_article_reason(ae), err);
        return -1;
    }
    if (nc_model_classify(c->cm.m, c->cm.ws, c->cm.a, &r, err, sizeof(err)) != 0) {
        fprintf(stderr, "newsclf explain: %s\n", err);
        return -1;
    }
    if (r.skipped) {
        printf("skipped: the article's language is not one of the model's\n");
        return 0;
    }
    /* Extract again with feature names, and the parts: document and passages. */
    const nc_featurizer *f = nc_model_featurizer(c->cm.m);
    nc_fscratch *s = nc_workspace_fscratch(c->cm.ws);
    size_t tlen, blen, nocc;
    const char *title = nc_article_title(c->cm.a, &tlen), *body = nc_article_body(c->cm.a, &blen);
    int rc = -1;
    json_t *labels = json_array();
    nc_fscratch_trace(s, 1);
    if (nc_features_extract(f, s, title, tlen, body, blen) != 0)
        goto out;
    nc_fscratch_occ(s, &nocc);
    c->np = nc_features_passages(f, s, NULL, 0);
    free(c->ranges);
    if (!(c->ranges = malloc((c->np + 1) * sizeof(*c->ranges))))
        goto out;
    c->ranges[0][0] = 0;
    c->ranges[0][1] = nocc;
    nc_features_passages(f, s, c->ranges + 1, c->np);
    for (size_t k = 0; k < r.nlabels; k++) {
        json_t *lo = explain_label(c, &r, k);
        if (!lo)
            goto out;
        json_array_append_new(labels, lo);
    }
    if (c->json) {
        const char *id = nc_article_id(c->cm.a);
        json_t *root = json_pack("{s:o,s:O}", "id", id ? json_string(id) : json_null(), "labels",
                                 labels);
        char *out = json_dumps(root, JSON_COMPACT | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(6));
        if (out)
            puts(out);
        free(out);
        json_decref(root);
    }
    rc = 0;
out:
    nc_fscratch_trace(s, 0);
    json_decref(labels);
    return rc;
}

static void usage(void)
{
    printf("usage: newsclf explain [--model DIR] [--top N] [--json] [--lines] [FILE]\n"
           "\n"
           "Reads one article (the whole FILE or standard input: a JSON object or plain\n"
           "text; with --lines, one article per line) and shows, for every label, its\n"
           "probability, the inputs of the label's combiner (the whole document's SVM\n"
           "decision, the best passage's and which passage that is, the mean of the two\n"
           "best, the number of passages) with their weights, and the N features that\n"
           "pushed the score up or down most, taken from the part of the article that\n"
           "mattered most (the whole document or the best passage of a long body).\n");
}

int nc_cli_explain(int argc, char **argv)
{
    static const struct option opts[] = {
        {"model", required_argument, 0, 'm'}, {"top", required_argument, 0, 't'},
        {"lines", no_argument, 0, 'l'}, {"json", no_argument, 0, 'j'},
        {"help", no_argument, 0, 'h'},  {0, 0, 0, 0}};
    struct explain_ctx c;
    memset(&c, 0, sizeof(c));
    c.top = 8;
    const char *model = nc_cli_default_model();
    int lines = 0, o;
    long num;
    while ((o = getopt_long(argc, argv, "m:t:ljh", opts, NULL)) != -1) {
        if (o == 'm') {
            model = optarg;
        } else if (o == 't') {
            if (nc_cli_parse_num("--top", optarg, 1, 100000, &num) != 0)
                return NC_EXIT_USAGE;
            c.top = (int)num;
        } else if (o == 'l' || o == 'j') {
            *(o == 'l' ? &lines : &c.json) = 1;
        } else if (o == 'h') {
            usage();
            return 0;
        } else {
            return NC_EXIT_USAGE;
        }
    }
    if (argc - optind > 1) {
        fprintf(stderr, "newsclf explain: one FILE at most\n");
        return NC_EXIT_USAGE;
    }
    if (nc_cli_model_open(&c.cm, model, NULL) != 0)
        return NC_EXIT_RUNTIME;
    int rc = nc_cli_each_record(argv + optind, argc - optind, !lines, explain_one, &c) == 0
                 ? 0
                 : NC_EXIT_RUNTIME;
    free(c.cs);
    free(c.ranges);
    nc_svec_release(&c.v);
    nc_cli_model_close(&c.cm);
    return rc;
}
