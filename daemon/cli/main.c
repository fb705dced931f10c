/*
 * main.c - the `newsclf` command: classify, train, eval, explain.
 *
 * Exit codes: 0 ok, 1 runtime error, 2 usage error. Per-article errors in
 * `classify` are reported as error records on stdout (like newsclfd's
 * dead-letter topic) and do not change the exit code.
 */
#include <errno.h>
#include <getopt.h>
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/article.h"
#include "cli/kafka.h"
#include "core/encode.h"
#include "core/evaluate.h"
#include "core/featurize.h"
#include "core/linear.h"
#include "core/model.h"
#include "train/train.h"
#include "base/util.h"
#include "base/clock.h"

#define DEFAULT_MODEL "/var/lib/newsclf/models/current"
#define EXIT_RUNTIME 1
#define EXIT_USAGE 2

static const char *default_model(void)
{
    const char *e = getenv("NEWSCLF_MODEL");
    return e && *e ? e : DEFAULT_MODEL;
}

static void usage_main(FILE *out)
{
    fprintf(out,
            "usage: newsclf <command> [options]\n"
            "\n"
            "commands:\n"
            "  classify   label articles (JSON lines or plain text) with a model\n"
            "  train      train a model directory from labeled JSON lines\n"
            "  eval       precision, recall and F1 of a model on labeled JSON lines\n"
            "  explain    the features that pushed each label's score up or down\n"
            "  subscribe  follow labeled topics and print articles as they arrive\n"
            "  reclassify re-label a range of the input topics with the current model\n"
            "\n"
            "Run 'newsclf <command> --help' for the options of a command.\n");
}

static nc_model *load_model(const char *dir)
{
    char err[512];
    nc_model *m;
    if (nc_model_load(dir, &m, err, sizeof(err)) != 0) {
        fprintf(stderr, "newsclf: %s\n", err);
        return NULL;
    }
    return m;
}

/* Calls fn for each line (or each whole file) of the inputs ("-" = stdin). */
typedef int (*record_fn)(void *ctx, const char *rec, size_t len, const char *src, size_t line);

static int for_each_record(char **files, int nfiles, int whole, record_fn fn, void *ctx)
{
    static char *stdin_only[] = {"-"};
    if (nfiles == 0) {
        files = stdin_only;
        nfiles = 1;
    }
    for (int i = 0; i < nfiles; i++) {
        FILE *fp = strcmp(files[i], "-") == 0 ? stdin : fopen(files[i], "rb");
        if (!fp) {
            fprintf(stderr, "newsclf: %s: %s\n", files[i], strerror(errno));
            return -1;
        }
        char *buf = NULL;
        size_t cap = 0;
        int rc = 0;
        if (whole) {
            size_t len = 0;
            for (;;) {
                if (len + 65536 > cap) {
                    char *p = realloc(buf, cap = (cap ? cap * 2 : 65536) + 65536);
                    if (!p) {
                        rc = -1;
                        break;
                    }
                    buf = p;
                }
                size_t got = fread(buf + len, 1, cap - len, fp);
                len += got;
                if (got == 0)
                    break;
            }
            if (rc == 0)
                rc = fn(ctx, buf ? buf : "", len, files[i], 1);
        } else {
            ssize_t n;
            size_t line = 0;
            while ((n = getline(&buf, &cap, fp)) >= 0) {
                line++;
                size_t len = (size_t)n;
                while (len > 0 && (buf[len - 1] == '\n' || buf[len - 1] == '\r'))
                    len--;
                if (len == 0)
                    continue;
                if ((rc = fn(ctx, buf, len, files[i], line)) != 0)
                    break;
            }
        }
        if (ferror(fp)) {
            fprintf(stderr, "newsclf: %s: read error\n", files[i]);
            rc = -1;
        }
        free(buf);
        if (fp != stdin)
            fclose(fp);
        if (rc != 0)
            return rc;
    }
    return 0;
}

/* ---- classify ---- */

struct classify_ctx {
    nc_model *m;
    nc_workspace *ws;
    nc_article *a;
    int text;
    size_t max_bytes;
    struct nc_encode_opts eo;
    size_t ok, bad;
};

static int classify_one(void *vctx, const char *rec, size_t len, const char *src, size_t line)
{
    struct classify_ctx *c = vctx;
    char err[512];
    nc_result r;
    enum nc_article_error ae = nc_article_parse(c->a, rec, len, c->max_bytes, err, sizeof(err));
    if (ae != NC_ART_OK) {
        c->bad++;
        if (c->text) {
            printf("%s:%zu\terror\t%s: %s\n", src, line, nc_article_reason(ae), err);
        } else {
            json_t *o = json_pack("{s:i,s:n,s:s,s:s,s:s,s:i}", "schema_version", NC_SCHEMA_VERSION,
                                  "id", "error", nc_article_reason(ae), "detail", err, "source",
                                  src, "line", (int)line);
            char *s = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER);
            if (s)
                puts(s);
            free(s);
            json_decref(o);
        }
        return 0;
    }
    if (nc_model_classify(c->m, c->ws, c->a, &r, err, sizeof(err)) != 0) {
        fprintf(stderr, "newsclf: %s:%zu: %s\n", src, line, err);
        return -1;
    }
    c->ok++;
    if (c->text) {
        char labels[1024];
        nc_encode_labels_csv(c->m, &r, labels, sizeof(labels));
        const char *id = nc_article_id(c->a);
        printf("%s\t%s", id ? id : "-", r.skipped ? "(skipped: language)" : labels[0] ? labels : "-");
        for (size_t k = 0; k < r.nlabels && !r.skipped; k++)
            printf("\t%s=%.3f", nc_model_label(c->m, k), r.prob[k]);
        putchar('\n');
        return 0;
    }
    size_t outlen;
    char *out = nc_encode_result(c->m, c->a, &r, &c->eo, &outlen, err, sizeof(err));
    if (!out) {
        fprintf(stderr, "newsclf: %s\n", err);
        return -1;
    }
    fwrite(out, 1, outlen, stdout);
    putchar('\n');
    free(out);
    return 0;
}

static int cmd_classify(int argc, char **argv)
{
    static const struct option opts[] = {{"model", required_argument, 0, 'm'},
                                         {"format", required_argument, 0, 'f'},
                                         {"whole", no_argument, 0, 'w'},
                                         {"article", no_argument, 0, 'a'},
                                         {"max-bytes", required_argument, 0, 'x'},
                                         {"help", no_argument, 0, 'h'},
                                         {0, 0, 0, 0}};
    const char *model = default_model();
    struct classify_ctx c;
    memset(&c, 0, sizeof(c));
    int whole = 0, o;
    while ((o = getopt_long(argc, argv, "m:f:wax:h", opts, NULL)) != -1) {
        switch (o) {
        case 'm':
            model = optarg;
            break;
        case 'f':
            if (strcmp(optarg, "jsonl") == 0)
                c.text = 0;
            else if (strcmp(optarg, "text") == 0)
                c.text = 1;
            else {
                fprintf(stderr, "newsclf classify: --format must be jsonl or text\n");
                return EXIT_USAGE;
            }
            break;
        case 'w':
            whole = 1;
            break;
        case 'a':
            c.eo.article_mode = NC_ARTICLE_ALL;
            break;
        case 'x':
            c.max_bytes = (size_t)strtoull(optarg, NULL, 10);
            break;
        case 'h':
            printf("usage: newsclf classify [--model DIR] [--format jsonl|text] [--whole] "
                   "[--article] [--max-bytes N] [FILE...]\n"
                   "\n"
                   "Reads articles, one per line (a JSON object or plain text), or one per file\n"
                   "with --whole, from the FILEs or standard input, and prints one result per\n"
                   "article: a JSON line (id, labels, scores, decision, model) or, with\n"
                   "--format text, a tab-separated line. --article adds the input article.\n"
                   "Articles that cannot be read give an error record with a reason code\n"
                   "(invalid_json, not_an_object, invalid_utf8, empty, too_large, bad_field).\n"
                   "The model defaults to $NEWSCLF_MODEL, else %s.\n",
                   DEFAULT_MODEL);
            return 0;
        default:
            return EXIT_USAGE;
        }
    }
    if (!(c.m = load_model(model)))
        return EXIT_RUNTIME;
    c.ws = nc_workspace_new(c.m);
    c.a = nc_article_new();
    int rc = EXIT_RUNTIME;
    if (c.ws && c.a &&
        for_each_record(argv + optind, argc - optind, whole, classify_one, &c) == 0)
        rc = 0;
    if (fflush(stdout) != 0)
        rc = EXIT_RUNTIME;
    if (c.bad)
        fprintf(stderr, "newsclf: %zu articles classified, %zu rejected\n", c.ok, c.bad);
    nc_article_free(c.a);
    nc_workspace_free(c.ws);
    nc_model_free(c.m);
    return rc;
}

/* ---- train ---- */

static int parse_range(const char *s, unsigned *a, unsigned *b)
{
    char *end;
    unsigned long x = strtoul(s, &end, 10), y = x;
    if (*end == '-')
        y = strtoul(end + 1, &end, 10);
    if (*end != '\0' || x == 0 || y < x || y > 8)
        return -1;
    *a = (unsigned)x;
    *b = (unsigned)y;
    return 0;
}

static int cmd_eval_model(nc_model *m, const char *data, int json, FILE *out);

/* A whole number in [lo, hi] from an option argument, else a usage error. */
static int parse_num(const char *opt, const char *s, long lo, long hi, long *out)
{
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (errno != 0 || end == s || *end != '\0' || v < lo || v > hi) {
        fprintf(stderr, "newsclf: %s takes a whole number from %ld to %ld, not \"%s\"\n", opt, lo,
                hi, s);
        return -1;
    }
    *out = v;
    return 0;
}

static int cmd_train(int argc, char **argv)
{
    static const struct option opts[] = {{"data", required_argument, 0, 'd'},
                                         {"dev", required_argument, 0, 'D'},
                                         {"out", required_argument, 0, 'o'},
                                         {"name", required_argument, 0, 'n'},
                                         {"folds", required_argument, 0, 'k'},
                                         {"C", required_argument, 0, 'C'},
                                         {"jobs", required_argument, 0, 'j'},
                                         {"char-ngrams", required_argument, 0, 'c'},
                                         {"no-char-ngrams", no_argument, 0, 'N'},
                                         {"word-ngrams", required_argument, 0, 'W'},
                                         {"word-bits", required_argument, 0, 'b'},
                                         {"char-bits", required_argument, 0, 'B'},
                                         {"title-weight", required_argument, 0, 't'},
                                         {"passages", required_argument, 0, 'p'},
                                         {"no-passages", no_argument, 0, 'P'},
                                         {"limit", required_argument, 0, 'l'},
                                         {"eps", required_argument, 0, 'e'},
                                         {"min-df", required_argument, 0, 'M'},
                                         {"full-sv", no_argument, 0, 'F'},
                                         {"threshold-margin", required_argument, 0, 'T'},
                                         {"quiet", no_argument, 0, 'q'},
                                         {"help", no_argument, 0, 'h'},
                                         {0, 0, 0, 0}};
    struct nc_train_opts t;
    nc_train_opts_default(&t);
    const char *data[64];
    size_t ndata = 0;
    const char *dev = NULL;
    int quiet = 0, o;
    long num;
    while ((o = getopt_long(argc, argv, "d:D:o:n:k:C:j:c:NW:b:B:t:p:Pl:e:M:FT:qh", opts, NULL)) != -1) {
        char *end = NULL;
        switch (o) {
        case 'd':
            if (ndata == 64) {
                fprintf(stderr, "newsclf train: too many --data files\n");
                return EXIT_USAGE;
            }
            data[ndata++] = optarg;
            break;
        case 'D':
            dev = optarg;
            break;
        case 'o':
            t.out_dir = optarg;
            break;
        case 'n':
            t.name = optarg;
            break;
        case 'k':
            t.folds = (int)strtol(optarg, &end, 10);
            if (*end || t.folds < 0 || t.folds > 20) {
                fprintf(stderr, "newsclf train: --folds must be 0..20\n");
                return EXIT_USAGE;
            }
            break;
        case 'C': {
            t.nc = 0;
            char *s = optarg;
            while (*s && t.nc < NC_TRAIN_MAX_C) {
                t.c_grid[t.nc++] = strtod(s, &end);
                if (end == s || (*end && *end != ',') || !(t.c_grid[t.nc - 1] > 0)) {
                    fprintf(stderr, "newsclf train: --C takes positive numbers separated by commas\n");
                    return EXIT_USAGE;
                }
                s = *end ? end + 1 : end;
            }
            break;
        }
        case 'j':
            if (parse_num("--jobs", optarg, 0, 256, &num) != 0)
                return EXIT_USAGE;
            t.jobs = (int)num;
            break;
        case 'c':
            if (parse_range(optarg, &t.features.char_min, &t.features.char_max) != 0) {
                fprintf(stderr, "newsclf train: --char-ngrams takes MIN-MAX, e.g. 3-5\n");
                return EXIT_USAGE;
            }
            break;
        case 'N':
            t.features.char_min = t.features.char_max = 0;
            break;
        case 'W':
            if (parse_num("--word-ngrams", optarg, 1, 2, &num) != 0)
                return EXIT_USAGE;
            t.features.word_ngram_max = (unsigned)num;
            break;
        case 'b':
            if (parse_num("--word-bits", optarg, 10, 24, &num) != 0)
                return EXIT_USAGE;
            t.features.word_bits = (unsigned)num;
            break;
        case 'B':
            if (parse_num("--char-bits", optarg, 10, 24, &num) != 0)
                return EXIT_USAGE;
            t.features.char_bits = (unsigned)num;
            break;
        case 't':
            t.features.title_weight = strtod(optarg, NULL);
            break;
        case 'p': {
            unsigned long v[3];
            char *q = optarg;
            int k;
            for (k = 0; k < 3; k++) {
                errno = 0;
                v[k] = strtoul(q, &end, 10);
                if (errno || end == q || v[k] > 100000 || *end != (k < 2 ? ',' : '\0'))
                    break;
                q = end + 1;
            }
            if (k < 3) {
                fprintf(stderr, "newsclf train: --passages takes WORDS,STRIDE,MIN_WORDS\n");
                return EXIT_USAGE;
            }
            t.features.passage_words = (unsigned)v[0];
            t.features.passage_stride = (unsigned)v[1];
            t.features.passage_min_words = (unsigned)v[2];
            break;
        }
        case 'P':
            t.features.passage_words = 0;
            break;
        case 'l':
            t.limit = (size_t)strtoull(optarg, NULL, 10);
            break;
        case 'e':
            t.eps = strtod(optarg, NULL);
            break;
        case 'M':
            if (parse_num("--min-df", optarg, 1, 1000000, &num) != 0)
                return EXIT_USAGE;
            t.features.min_df = (unsigned)num;
            break;
        case 'F':
            t.full_sv = 1;
            break;
        case 'T':
            t.threshold_margin = strtod(optarg, &end);
            if (*end || t.threshold_margin < 0 || t.threshold_margin > 1) {
                fprintf(stderr, "newsclf train: --threshold-margin must be in [0, 1]\n");
                return EXIT_USAGE;
            }
            break;
        case 'q':
            quiet = 1;
            break;
        case 'h':
            printf("usage: newsclf train --data FILE.jsonl [--data ...] --out DIR [--dev FILE.jsonl]\n"
                   "       [--name NAME] [--folds K] [--C 0.5,1,2] [--jobs N]\n"
                   "       [--char-ngrams MIN-MAX | --no-char-ngrams] [--word-ngrams 1|2]\n"
                   "       [--word-bits B] [--char-bits B] [--title-weight W]\n"
                   "       [--passages WORDS,STRIDE,MIN_WORDS | --no-passages] [--min-df N]\n"
                   "       [--full-sv] [--threshold-margin F] [--limit N] [--quiet]\n"
                   "\n"
                   "Trains one linear SVM per label found in the \"labels\" arrays of the data,\n"
                   "chooses C per label by K-fold cross-validation (default 5 folds, C grid\n"
                   "0.5,1,2), calibrates probabilities and thresholds on the out-of-fold scores\n"
                   "(a tuned threshold replaces 0.5 only when it wins by --threshold-margin F1,\n"
                   "default 0.02, in nested cross-validation) and writes the model directory\n"
                   "DIR. With --dev, the new model is evaluated on that file afterwards. Same data and options give a byte-identical model\n"
                   "when SOURCE_DATE_EPOCH is set (it fixes the creation time). Each label's\n"
                   "libsvm file holds the folded weight vector as one support vector unless\n"
                   "--full-sv asks for libsvm's own support vectors.\n");
            return 0;
        default:
            return EXIT_USAGE;
        }
    }
    if (ndata == 0 || !t.out_dir || optind != argc) {
        fprintf(stderr, "newsclf train: --data and --out are required (see --help)\n");
        return EXIT_USAGE;
    }
    t.data = data;
    t.ndata = ndata;
    t.log = quiet ? NULL : stderr;
    char err[1024];
    double t0 = nc_now();
    if (nc_train(&t, err, sizeof(err)) != 0) {
        fprintf(stderr, "newsclf train: %s\n", err);
        return EXIT_RUNTIME;
    }
    if (!quiet)
        fprintf(stderr, "newsclf train: done in %.1f s\n", nc_now() - t0);
    if (dev) {
        nc_model *m = load_model(t.out_dir);
        if (!m)
            return EXIT_RUNTIME;
        printf("evaluation on %s:\n", dev);
        int rc = cmd_eval_model(m, dev, 0, stdout);
        nc_model_free(m);
        return rc;
    }
    return 0;
}

/* ---- eval ---- */

struct eval_ctx {
    nc_model *m;
    nc_workspace *ws;
    nc_article *a;
    unsigned char *truth, *pred;
    size_t n, cap;
    int failed;
};

static int eval_one(void *vctx, const char *rec, size_t len, const char *src, size_t line)
{
    struct eval_ctx *c = vctx;
    char err[512];
    size_t L = nc_model_nlabels(c->m);
    enum nc_article_error ae = nc_article_parse(c->a, rec, len, (size_t)16 << 20, err, sizeof(err));
    json_t *labels = ae == NC_ART_OK && nc_article_json(c->a)
                         ? json_object_get(nc_article_json(c->a), "labels")
                         : NULL;
    if (!json_is_array(labels)) {
        fprintf(stderr, "newsclf eval: %s:%zu: not a labeled article (%s)\n", src, line,
                ae == NC_ART_OK ? "no \"labels\" array" : err);
        return -1;
    }
    if (c->n == c->cap) {
        size_t cap = c->cap ? c->cap * 2 : 1024;
        unsigned char *t = realloc(c->truth, cap * L), *p;
        if (!t)
            return -1;
        c->truth = t;
        p = realloc(c->pred, cap * L);
        if (!p)
            return -1;
        c->pred = p;
        c->cap = cap;
    }
    unsigned char *truth = c->truth + c->n * L, *pred = c->pred + c->n * L;
    memset(truth, 0, L);
    for (size_t i = 0; i < json_array_size(labels); i++) {
        json_t *l = json_array_get(labels, i);
        int k = json_is_string(l) ? nc_model_label_index(c->m, json_string_value(l)) : -1;
        if (k >= 0)
            truth[k] = 1;
    }
    nc_result r;
    if (nc_model_classify(c->m, c->ws, c->a, &r, err, sizeof(err)) != 0) {
        fprintf(stderr, "newsclf eval: %s\n", err);
        return -1;
    }
    memcpy(pred, r.on, L);
    c->n++;
    return 0;
}

static int cmd_eval_model(nc_model *m, const char *data, int json, FILE *out)
{
    struct eval_ctx c;
    memset(&c, 0, sizeof(c));
    c.m = m;
    c.ws = nc_workspace_new(m);
    c.a = nc_article_new();
    char *files[1] = {(char *)data};
    int rc = EXIT_RUNTIME;
    if (c.ws && c.a && for_each_record(files, 1, 0, eval_one, &c) == 0) {
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
    nc_article_free(c.a);
    nc_workspace_free(c.ws);
    return rc;
}

static int cmd_eval(int argc, char **argv)
{
    static const struct option opts[] = {{"model", required_argument, 0, 'm'},
                                         {"data", required_argument, 0, 'd'},
                                         {"json", no_argument, 0, 'j'},
                                         {"help", no_argument, 0, 'h'},
                                         {0, 0, 0, 0}};
    const char *model = default_model(), *data = NULL;
    int json = 0, o;
    while ((o = getopt_long(argc, argv, "m:d:jh", opts, NULL)) != -1) {
        switch (o) {
        case 'm':
            model = optarg;
            break;
        case 'd':
            data = optarg;
            break;
        case 'j':
            json = 1;
            break;
        case 'h':
            printf("usage: newsclf eval [--model DIR] --data FILE.jsonl [--json]\n"
                   "\n"
                   "Classifies the labeled articles of FILE and prints per-label precision,\n"
                   "recall, F1 and support, micro and macro F1 and the exact-match ratio, as a\n"
                   "table or, with --json, as one JSON object.\n");
            return 0;
        default:
            return EXIT_USAGE;
        }
    }
    if (!data || optind != argc) {
        fprintf(stderr, "newsclf eval: --data is required (see --help)\n");
        return EXIT_USAGE;
    }
    nc_model *m = load_model(model);
    if (!m)
        return EXIT_RUNTIME;
    int rc = cmd_eval_model(m, data, json, stdout);
    nc_model_free(m);
    return rc;
}

/* ---- explain ---- */

struct contrib {
    uint32_t idx;
    double c;
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

struct explain_ctx {
    nc_model *m;
    nc_workspace *ws;
    nc_article *a;
    int top;
    int json;
};

static int explain_one(void *vctx, const char *rec, size_t len, const char *src, size_t line)
{
    struct explain_ctx *c = vctx;
    (void)line;
    char err[512];
    nc_result r;
    enum nc_article_error ae = nc_article_parse(c->a, rec, len, 0, err, sizeof(err));
    if (ae != NC_ART_OK) {
        fprintf(stderr, "newsclf explain: %s: %s: %s\n", src, nc_article_reason(ae), err);
        return -1;
    }
    if (nc_model_classify(c->m, c->ws, c->a, &r, err, sizeof(err)) != 0) {
        fprintf(stderr, "newsclf explain: %s\n", err);
        return -1;
    }
    if (r.skipped) {
        printf("skipped: the article's language is not one of the model's\n");
        return 0;
    }
    const nc_featurizer *f = nc_model_featurizer(c->m);
    const nc_linear *lin = nc_model_linear(c->m);
    nc_fscratch *s = nc_workspace_fscratch(c->ws);
    size_t tlen, blen;
    const char *title = nc_article_title(c->a, &tlen), *body = nc_article_body(c->a, &blen);
    nc_fscratch_trace(s, 1);
    int rc = -1;
    struct nc_svec v = {0};
    struct contrib *cs = NULL;
    json_t *root = json_object(), *jl = json_array();
    if (nc_features_extract(f, s, title, tlen, body, blen) != 0)
        goto out;
    size_t nocc;
    nc_fscratch_occ(s, &nocc);
    size_t np = nc_features_passages(f, s, NULL, 0);
    size_t (*ranges)[2] = malloc((np + 1) * sizeof(*ranges));
    if (!ranges)
        goto out;
    ranges[0][0] = 0;
    ranges[0][1] = nocc;
    nc_features_passages(f, s, ranges + 1, np);
    for (size_t k = 0; k < r.nlabels; k++) {
        /* The vector that gave the label's score: the document or a passage. */
        size_t best = 0;
        double bestd = -INFINITY;
        for (size_t p = 0; p <= np; p++) {
            double d[NC_LINEAR_MAX_LABELS];
            if (nc_features_vector(f, s, ranges[p][0], ranges[p][1], &v) != 0)
                goto out_ranges;
            if (p > 0 && v.n == 0)
                continue;
            nc_linear_dot(lin, &v, d);
            if (d[k] > bestd) {
                bestd = d[k];
                best = p;
            }
        }
        if (nc_features_vector(f, s, ranges[best][0], ranges[best][1], &v) != 0)
            goto out_ranges;
        free(cs);
        cs = malloc((v.n + 1) * sizeof(*cs));
        if (!cs)
            goto out_ranges;
        for (size_t i = 0; i < v.n; i++) {
            cs[i].idx = v.idx[i];
            cs[i].c = v.val[i] * lin->w[(size_t)v.idx[i] * lin->nlabels + k];
        }
        qsort(cs, v.n, sizeof(*cs), by_contrib_desc);
        const char *name = nc_model_label(c->m, k);
        json_t *lo = json_pack("{s:s,s:b,s:f,s:f,s:f,s:f}", "label", name, "on", r.on[k],
                               "probability", r.prob[k], "threshold", nc_model_threshold(c->m, k),
                               "decision", r.decision[k], "bias", lin->b[k]);
        json_object_set_new(lo, "from", best == 0 ? json_string("document")
                                                  : json_sprintf("passage %zu of %zu", best, np));
        json_t *up = json_array(), *down = json_array();
        if (!c->json)
            printf("%-12s %s  p=%.3f (threshold %.2f)  decision=%+.3f  from %s%s\n", name,
                   r.on[k] ? "YES" : "no ", r.prob[k], nc_model_threshold(c->m, k), r.decision[k],
                   best == 0 ? "the whole document" : "passage",
                   best == 0 ? "" : json_string_value(json_object_get(lo, "from")) + 7);
        for (int dir = 0; dir < 2; dir++) {
            int shown = 0;
            for (size_t q = 0; q < v.n && shown < c->top; q++) {
                size_t i = dir == 0 ? q : v.n - 1 - q;
                if ((dir == 0 && cs[i].c <= 0) || (dir == 1 && cs[i].c >= 0))
                    break;
                char names[512];
                bucket_names(s, ranges[best][0], ranges[best][1], cs[i].idx, names, sizeof(names));
                json_array_append_new(dir == 0 ? up : down,
                                      json_pack("{s:s,s:f}", "feature", names, "contribution",
                                                cs[i].c));
                if (!c->json)
                    printf("    %s %+.4f  %s\n", dir == 0 ? "up  " : "down", cs[i].c, names);
                shown++;
            }
        }
        json_object_set_new(lo, "up", up);
        json_object_set_new(lo, "down", down);
        json_array_append_new(jl, lo);
    }
    if (c->json) {
        const char *id = nc_article_id(c->a);
        json_object_set_new(root, "id", id ? json_string(id) : json_null());
        json_object_set(root, "labels", jl);
        char *out = json_dumps(root, JSON_COMPACT | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(6));
        if (out)
            puts(out);
        free(out);
    }
    rc = 0;
out_ranges:
    free(ranges);
out:
    nc_fscratch_trace(s, 0);
    free(cs);
    nc_svec_release(&v);
    json_decref(jl);
    json_decref(root);
    return rc;
}

static int cmd_explain(int argc, char **argv)
{
    static const struct option opts[] = {{"model", required_argument, 0, 'm'},
                                         {"top", required_argument, 0, 't'},
                                         {"lines", no_argument, 0, 'l'},
                                         {"json", no_argument, 0, 'j'},
                                         {"help", no_argument, 0, 'h'},
                                         {0, 0, 0, 0}};
    struct explain_ctx c;
    memset(&c, 0, sizeof(c));
    c.top = 8;
    const char *model = default_model();
    int lines = 0, o;
    while ((o = getopt_long(argc, argv, "m:t:ljh", opts, NULL)) != -1) {
        switch (o) {
        case 'm':
            model = optarg;
            break;
        case 't': {
            long num;
            if (parse_num("--top", optarg, 1, 100000, &num) != 0)
                return EXIT_USAGE;
            c.top = (int)num;
            break;
        }
        case 'l':
            lines = 1;
            break;
        case 'j':
            c.json = 1;
            break;
        case 'h':
            printf("usage: newsclf explain [--model DIR] [--top N] [--json] [--lines] [FILE]\n"
                   "\n"
                   "Reads one article (the whole FILE or standard input: a JSON object or plain\n"
                   "text; with --lines, one article per line) and shows, for every label, its\n"
                   "probability and the N features that pushed the score up or down most, taken\n"
                   "from the part of the article that decided the score (the whole document or\n"
                   "one passage of a long body).\n");
            return 0;
        default:
            return EXIT_USAGE;
        }
    }
    if (argc - optind > 1) {
        fprintf(stderr, "newsclf explain: one FILE at most (see --help)\n");
        return EXIT_USAGE;
    }
    if (!(c.m = load_model(model)))
        return EXIT_RUNTIME;
    c.ws = nc_workspace_new(c.m);
    c.a = nc_article_new();
    int rc = EXIT_RUNTIME;
    if (c.ws && c.a && for_each_record(argv + optind, argc - optind, !lines, explain_one, &c) == 0)
        rc = 0;
    nc_article_free(c.a);
    nc_workspace_free(c.ws);
    nc_model_free(c.m);
    return rc;
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        usage_main(stderr);
        return EXIT_USAGE;
    }
    const char *cmd = argv[1];
    if (strcmp(cmd, "--help") == 0 || strcmp(cmd, "-h") == 0 || strcmp(cmd, "help") == 0) {
        usage_main(stdout);
        return 0;
    }
    if (strcmp(cmd, "--version") == 0) {
        printf("newsclf %s\n", NEWSCLF_VERSION);
        return 0;
    }
    struct {
        const char *name;
        int (*fn)(int, char **);
    } cmds[] = {{"classify", cmd_classify},
                {"train", cmd_train},
                {"eval", cmd_eval},
                {"explain", cmd_explain},
                {"subscribe", nc_cli_subscribe},
                {"reclassify", nc_cli_reclassify}};
    for (size_t i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++)
        if (strcmp(cmd, cmds[i].name) == 0)
            return cmds[i].fn(argc - 1, argv + 1);
    fprintf(stderr, "newsclf: unknown command \"%s\"\n", cmd);
    usage_main(stderr);
    return EXIT_USAGE;
}
