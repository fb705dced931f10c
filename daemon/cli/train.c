/*
 * train.c - `newsclf train`: options -> struct nc_train_opts (train/train.h),
 * the training run, and with --dev an evaluation of the new model.
 */
#include <errno.h>
#include <getopt.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "base/clock.h"
#include "cli/cli.h"
#include "train/train.h"

struct train_args {
    struct nc_train_opts t;
    const char *data[NC_TRAIN_MAX_FILES], *idf[NC_TRAIN_MAX_FILES];
    const char *dev;
    int quiet;
};

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

/* --passages WORDS,STRIDE,MIN_WORDS */
static int parse_passages(const char *arg, struct nc_feature_settings *fs)
{
    unsigned long v[3];
    const char *q = arg;
    char *end;
    for (int k = 0; k < 3; k++) {
        errno = 0;
        v[k] = strtoul(q, &end, 10);
        if (errno || end == q || v[k] > 100000 || *end != (k < 2 ? ',' : '\0')) {
            fprintf(stderr, "newsclf train: --passages takes WORDS,STRIDE,MIN_WORDS\n");
            return -1;
        }
        q = end + 1;
    }
    fs->passage_words = (unsigned)v[0];
    fs->passage_stride = (unsigned)v[1];
    fs->passage_min_words = (unsigned)v[2];
    return 0;
}

/* --C 0.5,1,2 */
static int parse_c_grid(const char *arg, struct nc_train_opts *t)
{
    const char *s = arg;
    char *end;
    t->nc = 0;
    while (*s && t->nc < NC_TRAIN_MAX_C) {
        t->c_grid[t->nc++] = strtod(s, &end);
        if (end == s || (*end && *end != ',') || !(t->c_grid[t->nc - 1] > 0)) {
            fprintf(stderr, "newsclf train: --C takes positive numbers separated by commas\n");
            return -1;
        }
        s = *end ? end + 1 : end;
    }
    return 0;
}

/*
 * Every option of `newsclf train`. Those that store their argument (or a
 * fixed value) into one field say where, and for whole numbers their range;
 * train_option() handles the others (OPT_ARG, OPT_FLAG).
 */
enum opt_kind {
    OPT_ARG,
    OPT_FLAG,
    OPT_STR,
    OPT_INT,
    OPT_UNSIGNED,
    OPT_SIZE,
    OPT_DOUBLE,
    OPT_SET_INT,
    OPT_SET_UNSIGNED
};

struct opt_spec {
    const char *name;
    int key;
    enum opt_kind kind;
    size_t offset; /* into struct train_args */
    long lo, hi;   /* OPT_INT, OPT_UNSIGNED: the range; OPT_SET_*: lo is the value */
};

#define AT(field) offsetof(struct train_args, field)
static const struct opt_spec specs[] = {
    {"data", 'd', OPT_ARG, 0, 0, 0},
    {"idf-data", 'I', OPT_ARG, 0, 0, 0},
    {"C", 'C', OPT_ARG, 0, 0, 0},
    {"combine", 'R', OPT_ARG, 0, 0, 0},
    {"char-ngrams", 'c', OPT_ARG, 0, 0, 0},
    {"no-char-ngrams", 'N', OPT_FLAG, 0, 0, 0},
    {"passages", 'p', OPT_ARG, 0, 0, 0},
    {"threshold-margin", 'T', OPT_ARG, 0, 0, 0},
    {"help", 'h', OPT_FLAG, 0, 0, 0},
    {"dev", 'D', OPT_STR, AT(dev), 0, 0},
    {"out", 'o', OPT_STR, AT(t.out_dir), 0, 0},
    {"name", 'n', OPT_STR, AT(t.name), 0, 0},
    {"folds", 'k', OPT_INT, AT(t.folds), 0, 20},
    {"jobs", 'j', OPT_INT, AT(t.jobs), 0, 256},
    {"word-ngrams", 'W', OPT_UNSIGNED, AT(t.features.word_ngram_max), 1, 2},
    {"word-bits", 'b', OPT_UNSIGNED, AT(t.features.word_bits), 10, 24},
    {"char-bits", 'B', OPT_UNSIGNED, AT(t.features.char_bits), 10, 24},
    {"min-df", 'M', OPT_UNSIGNED, AT(t.features.min_df), 1, 1000000},
    {"limit", 'l', OPT_SIZE, AT(t.limit), 0, 0},
    {"eps", 'e', OPT_DOUBLE, AT(t.eps), 0, 0},
    {"title-weight", 't', OPT_DOUBLE, AT(t.features.title_weight), 0, 0},
    {"no-nested", 'S', OPT_SET_INT, AT(t.nested), 0, 0},
    {"full-sv", 'F', OPT_SET_INT, AT(t.full_sv), 1, 0},
    {"quiet", 'q', OPT_SET_INT, AT(quiet), 1, 0},
    {"no-passages", 'P', OPT_SET_UNSIGNED, AT(t.features.passage_words), 0, 0},
};
#define NSPECS (sizeof(specs) / sizeof(specs[0]))

static int takes_arg(enum opt_kind k)
{
    return k != OPT_FLAG && k != OPT_SET_INT && k != OPT_SET_UNSIGNED;
}

/* getopt_long's tables, from specs. */
static void getopt_tables(struct option *longopts, char *shortopts)
{
    size_t q = 0;
    for (size_t i = 0; i < NSPECS; i++) {
        int arg = takes_arg(specs[i].kind);
        longopts[i] = (struct option){specs[i].name, arg ? required_argument : no_argument, 0,
                                      specs[i].key};
        shortopts[q++] = (char)specs[i].key;
        if (arg)
            shortopts[q++] = ':';
    }
    longopts[NSPECS] = (struct option){0, 0, 0, 0};
    shortopts[q] = '\0';
}

/* Stores one table option. Returns 1 when o is in the table, 0 when not, -1 on a usage error. */
static int table_option(int o, char *arg, struct train_args *a)
{
    const struct opt_spec *sp = NULL;
    for (size_t i = 0; i < NSPECS && !sp; i++)
        if (specs[i].key == o && specs[i].kind >= OPT_STR)
            sp = &specs[i];
    if (!sp)
        return 0;
    void *field = (char *)a + sp->offset;
    long num = sp->lo;
    if ((sp->kind == OPT_INT || sp->kind == OPT_UNSIGNED) &&
        nc_cli_parse_num(sp->name, arg, sp->lo, sp->hi, &num) != 0)
        return -1;
    if (sp->kind == OPT_STR)
        *(const char **)field = arg;
    else if (sp->kind == OPT_INT || sp->kind == OPT_SET_INT)
        *(int *)field = (int)num;
    else if (sp->kind == OPT_UNSIGNED || sp->kind == OPT_SET_UNSIGNED)
        *(unsigned *)field = (unsigned)num;
    else if (sp->kind == OPT_SIZE)
        *(size_t *)field = (size_t)strtoull(arg, NULL, 10);
    else
        *(double *)field = strtod(arg, NULL);
    return 1;
}

/* Adds a file to a list of at most NC_TRAIN_MAX_FILES. */
static int add_file(const char **list, size_t *n, const char *opt, const char *file)
{
    if (*n == NC_TRAIN_MAX_FILES) {
        fprintf(stderr, "newsclf train: more than %d %s files\n", NC_TRAIN_MAX_FILES, opt);
        return -1;
    }
    list[(*n)++] = file;
    return 0;
}

/* One option. Returns 1 when handled, 0 when unknown, -1 on a usage error. */
static int train_option(int o, char *arg, struct train_args *a)
{
    struct nc_train_opts *t = &a->t;
    char *end = NULL;
    int rule;
    switch (o) {
    case 'd':
        return add_file(a->data, &t->ndata, "--data", arg) == 0 ? 1 : -1;
    case 'I':
        return add_file(a->idf, &t->nidf, "--idf-data", arg) == 0 ? 1 : -1;
    case 'C':
        return parse_c_grid(arg, t) == 0 ? 1 : -1;
    case 'p':
        return parse_passages(arg, &t->features) == 0 ? 1 : -1;
    case 'R':
        if ((rule = nc_combine_rule_parse(arg)) < 0) {
            fprintf(stderr, "newsclf train: --combine must be max or learned\n");
            return -1;
        }
        t->combine = (enum nc_combine_rule)rule;
        return 1;
    case 'c':
        if (parse_range(arg, &t->features.char_min, &t->features.char_max) != 0) {
            fprintf(stderr, "newsclf train: --char-ngrams takes MIN-MAX, e.g. 3-5\n");
            return -1;
        }
        return 1;
    case 'N':
        t->features.char_min = t->features.char_max = 0;
        return 1;
    case 'T':
        t->threshold_margin = strtod(arg, &end);
        if (*end || t->threshold_margin < 0 || t->threshold_margin > 1) {
            fprintf(stderr, "newsclf train: --threshold-margin must be in [0, 1]\n");
            return -1;
        }
        return 1;
    default:
        return table_option(o, arg, a);
    }
}

static void usage(void)
{
    printf(
        "usage: newsclf train --data FILE.jsonl [--data ...] --out DIR [--dev FILE.jsonl]\n"
        "       [--name NAME] [--folds K] [--C 0.5,1,2] [--combine learned|max] [--no-nested]\n"
        "       [--idf-data FILE [--idf-data ...]] [--jobs N]\n"
        "       [--char-ngrams MIN-MAX | --no-char-ngrams] [--word-ngrams 1|2]\n"
        "       [--word-bits B] [--char-bits B] [--title-weight W]\n"
        "       [--passages WORDS,STRIDE,MIN_WORDS | --no-passages] [--min-df N]\n"
        "       [--full-sv] [--threshold-margin F] [--limit N] [--quiet]\n"
        "\n"
        "Trains one linear SVM per label found in the \"labels\" arrays of the data,\n"
        "chooses C per label by K-fold cross-validation (default 5 folds, C grid\n"
        "0.5,1,2), fits each label's combiner of its document and passage scores on\n"
        "the out-of-fold scores (--combine learned, the default: a logistic regression;\n"
        "max: Platt's sigmoid of the maximum), chooses its probability threshold (a\n"
        "tuned threshold replaces 0.5 only when it wins by --threshold-margin F1,\n"
        "default 0.02, in nested cross-validation) and writes the model directory DIR.\n"
        "With 3 folds or more, nested cross-validation (C, combiner and threshold chosen\n"
        "inside each training fold) measures both combiners on the same folds; the\n"
        "figures are logged and stored in the manifest (--no-nested skips them).\n"
        "--idf-data adds unlabeled articles (JSON lines or plain text, gzip accepted)\n"
        "to the document frequencies behind idf and --min-df. Files may be gzipped.\n"
        "With --dev, the new model is evaluated on that file afterwards. Same data\n"
        "and options give a byte-identical model when SOURCE_DATE_EPOCH is set (it\n"
        "fixes the creation time). Each label's libsvm file holds the folded weight\n"
        "vector as one support vector unless --full-sv asks for libsvm's own.\n");
}

static int run(struct train_args *a)
{
    a->t.data = a->data;
    a->t.idf_data = a->idf;
    a->t.log = a->quiet ? NULL : stderr;
    char err[1024];
    double t0 = nc_now();
    if (nc_train(&a->t, err, sizeof(err)) != 0) {
        fprintf(stderr, "newsclf train: %s\n", err);
        return NC_EXIT_RUNTIME;
    }
    if (!a->quiet)
        fprintf(stderr, "newsclf train: done in %.1f s\n", nc_now() - t0);
    if (!a->dev)
        return 0;
    nc_model *m = nc_cli_load_model(a->t.out_dir);
    if (!m)
        return NC_EXIT_RUNTIME;
    printf("evaluation on %s:\n", a->dev);
    int rc = nc_cli_eval_model(m, a->dev, 0, stdout);
    nc_model_free(m);
    return rc;
}

int nc_cli_train(int argc, char **argv)
{
    struct option opts[NSPECS + 1];
    char shortopts[2 * NSPECS + 1];
    getopt_tables(opts, shortopts);
    struct train_args a;
    memset(&a, 0, sizeof(a));
    nc_train_opts_default(&a.t);
    int o;
    while ((o = getopt_long(argc, argv, shortopts, opts, NULL)) != -1) {
        if (o == 'h') {
            usage();
            return 0;
        }
        if (train_option(o, optarg, &a) != 1)
            return NC_EXIT_USAGE;
    }
    if (a.t.ndata == 0 || !a.t.out_dir || optind != argc) {
        fprintf(stderr, "newsclf train: --data and --out are required\n");
        return NC_EXIT_USAGE;
    }
    return run(&a);
}
