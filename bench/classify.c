/*
 * bench/classify.c - single-thread classification throughput of newsclf_core.
 *
 * Loads a model, reads a JSON-lines file into memory, then classifies every
 * line (nc_article_parse + nc_model_classify, the daemon's per-message work)
 * for --rounds rounds on one thread and reports articles/s and MB/s
 * (1 MB = 10^6 bytes of input lines, newlines included) as min/median/max
 * over the rounds, the model load time, peak RSS (getrusage ru_maxrss) and
 * the in-process wall time from main() to the end, model load included.
 *
 * --stages adds --rounds rounds of each shorter prefix of the work (parse
 * only; parse + feature extraction) and reports the fastest round of each
 * prefix, the full classify included, so the cost of each stage can be read
 * off by difference, and how many articles simdjson read without jansson.
 *
 * --fasttext-text / --fasttext-train write the same articles as fastText
 * input lines to stdout (see bench/README.md) and exit: the fastText
 * comparison in bench/classify.sh reads the articles through this same parser.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

#include "core/article.h"
#include "core/featurize.h"
#include "core/model.h"
#include "base/util.h"
#include "base/clock.h"

#define EXIT_RUNTIME 1
#define EXIT_USAGE 2
#define MAX_ROUNDS 1000
#define MAX_INPUT_BYTES ((size_t)4 << 30)
/* Per-line limit: a bench input line bigger than this is a broken file. */
#define MAX_LINE_BYTES ((size_t)16 << 20)

struct line {
    size_t off, len;
};

struct input {
    char *data;
    size_t len;
    struct line *line;
    size_t nlines;
    size_t bytes; /* bytes of the non-blank lines, each with its newline */
};

struct opts {
    const char *model;
    const char *file;
    unsigned rounds;
    int kv;
    int stages;
    int fasttext; /* 0 no, 1 text only, 2 with labels */
};

/* Peak resident set size so far, in MiB (ru_maxrss is KiB on Linux). */
static double peak_rss_mib(void)
{
    struct rusage ru;
    if (getrusage(RUSAGE_SELF, &ru) != 0)
        return -1;
    return (double)ru.ru_maxrss / 1024.0;
}

static double cpu_seconds(void)
{
    struct rusage ru;
    if (getrusage(RUSAGE_SELF, &ru) != 0)
        return -1;
    return (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec * 1e-6 +
           (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec * 1e-6;
}

static int is_blank(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (s[i] != ' ' && s[i] != '\t' && s[i] != '\r')
            return 0;
    return 1;
}

static void input_release(struct input *in)
{
    free(in->data);
    free(in->line);
    memset(in, 0, sizeof(*in));
}

/* Reads the whole file and indexes its non-blank lines. */
static int input_read(const char *path, struct input *in, char *err, size_t errlen)
{
    memset(in, 0, sizeof(*in));
    FILE *fp = fopen(path, "rb");
    size_t cap = 0, capl = 0;
    if (!fp) {
        snprintf(err, errlen, "%s: %s", path, strerror(errno));
        return -1;
    }
    for (;;) {
        if (in->len == cap) {
            size_t ncap = cap ? cap * 2 : (size_t)1 << 20;
            char *p;
            if (ncap > MAX_INPUT_BYTES || !(p = realloc(in->data, ncap))) {
                snprintf(err, errlen, "%s: too big to hold in memory", path);
                goto fail;
            }
            in->data = p;
            cap = ncap;
        }
        size_t n = fread(in->data + in->len, 1, cap - in->len, fp);
        in->len += n;
        if (n == 0)
            break;
    }
    if (ferror(fp)) {
        snprintf(err, errlen, "%s: read error", path);
        goto fail;
    }
    fclose(fp);
    fp = NULL;
    for (size_t off = 0; off < in->len;) {
        const char *nl = memchr(in->data + off, '\n', in->len - off);
        size_t len = nl ? (size_t)(nl - (in->data + off)) : in->len - off;
        size_t with_nl = len + (nl ? 1 : 0);
        if (len > MAX_LINE_BYTES) {
            snprintf(err, errlen, "%s: line %zu is longer than %zu bytes", path, in->nlines + 1,
                     MAX_LINE_BYTES);
            goto fail;
        }
        if (!is_blank(in->data + off, len)) {
            if (in->nlines == capl) {
                size_t ncap = capl ? capl * 2 : 4096;
                struct line *p = realloc(in->line, ncap * sizeof(*p));
                if (!p) {
                    snprintf(err, errlen, "out of memory");
                    goto fail;
                }
                in->line = p;
                capl = ncap;
            }
            in->line[in->nlines].off = off;
            in->line[in->nlines].len = len;
            in->nlines++;
            in->bytes += with_nl;
        }
        off += with_nl;
    }
    if (in->nlines == 0) {
        snprintf(err, errlen, "%s: no articles", path);
        goto fail;
    }
    return 0;
fail:
    if (fp)
        fclose(fp);
    input_release(in);
    return -1;
}

/* How far one round goes into the per-article work. */
enum stage { STAGE_PARSE, STAGE_EXTRACT, STAGE_CLASSIFY };

struct counts {
    size_t failed;            /* articles nc_article_parse refused */
    size_t fast;              /* articles simdjson decided without jansson */
    size_t skipped;           /* articles of a language the model does not know */
    size_t on[NC_MAX_LABELS]; /* articles that got each label */
    size_t occurrences;       /* STAGE_EXTRACT: feature occurrences */
    size_t passages;          /* STAGE_EXTRACT: body passages scored besides the article */
};

/* One pass over all articles; returns its wall time, or -1 on error. */
static double run_round(const nc_model *m, nc_workspace *ws, nc_article *a, const struct input *in,
                        enum stage stage, struct counts *c)
{
    char err[256];
    nc_result r;
    const struct nc_featurizer *f = nc_model_featurizer(m);
    struct nc_fscratch *fs = nc_workspace_fscratch(ws);
    size_t L = nc_model_nlabels(m);
    memset(c, 0, sizeof(*c));
    double t0 = nc_now();
    for (size_t i = 0; i < in->nlines; i++) {
        const struct line *ln = &in->line[i];
        enum nc_article_error e = nc_article_parse(a, in->data + ln->off, ln->len, 0, err,
                                                   sizeof(err));
        c->fast += (size_t)nc_article_fast(a);
        if (e != NC_ART_OK) {
            c->failed++;
            continue;
        }
        if (stage == STAGE_EXTRACT) {
            size_t tlen, blen, nocc;
            const char *title = nc_article_title(a, &tlen), *body = nc_article_body(a, &blen);
            if (nc_features_extract(f, fs, title, tlen, body, blen) != 0) {
                fprintf(stderr, "bench/classify: out of memory\n");
                return -1;
            }
            nc_fscratch_occ(fs, &nocc);
            c->occurrences += nocc;
            c->passages += nc_features_passages(f, fs, NULL, 0);
        } else if (stage == STAGE_CLASSIFY) {
            if (nc_model_classify(m, ws, a, &r, err, sizeof(err)) != 0) {
                fprintf(stderr, "bench/classify: article %zu: %s\n", i + 1, err);
                return -1;
            }
            if (r.skipped)
                c->skipped++;
            for (size_t k = 0; k < L; k++)
                c->on[k] += r.on[k];
        }
    }
    return nc_now() - t0;
}

static int cmp_double(const void *pa, const void *pb)
{
    double a = *(const double *)pa, b = *(const double *)pb;
    return (a > b) - (a < b);
}

/*
 * fastText input derived from the same articles: title + " " + body,
 * ASCII lower-cased, with every byte fastText treats as whitespace (and NUL,
 * which only title/body may contain) turned into a space so each article is
 * one line. with_labels prefixes __label__X for each entry of "labels", or
 * __label__none when there is none.
 */
static void put_text(const char *s, size_t n, FILE *out)
{
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c >= 'A' && c <= 'Z')
            c = (unsigned char)(c + 32);
        else if (c == '\n' || c == '\r' || c == '\t' || c == '\v' || c == '\f' || c == '\0')
            c = ' ';
        putc(c, out);
    }
}

static int emit_fasttext(const struct input *in, int with_labels, FILE *out)
{
    nc_article *a = nc_article_new();
    char err[256];
    size_t failed = 0;
    if (!a) {
        fprintf(stderr, "bench/classify: out of memory\n");
        return EXIT_RUNTIME;
    }
    for (size_t i = 0; i < in->nlines; i++) {
        const struct line *ln = &in->line[i];
        if (nc_article_parse(a, in->data + ln->off, ln->len, 0, err, sizeof(err)) != NC_ART_OK) {
            failed++;
            continue;
        }
        if (with_labels) {
            json_t *root = nc_article_json(a);
            json_t *labels = root ? json_object_get(root, "labels") : NULL;
            size_t nl = 0;
            for (size_t k = 0; k < json_array_size(labels); k++) {
                json_t *l = json_array_get(labels, k);
                if (json_is_string(l) && json_string_length(l) > 0 &&
                    strcspn(json_string_value(l), " \t\r\n") == json_string_length(l)) {
                    fprintf(out, "__label__%s ", json_string_value(l));
                    nl++;
                }
            }
            if (nl == 0)
                fputs("__label__none ", out);
        }
        size_t tlen, blen;
        const char *title = nc_article_title(a, &tlen), *body = nc_article_body(a, &blen);
        put_text(title ? title : "", tlen, out);
        putc(' ', out);
        put_text(body ? body : "", blen, out);
        putc('\n', out);
    }
    nc_article_free(a);
    if (fflush(out) != 0 || ferror(out)) {
        fprintf(stderr, "bench/classify: write error: %s\n", strerror(errno));
        return EXIT_RUNTIME;
    }
    if (failed)
        fprintf(stderr, "bench/classify: %zu of %zu lines are not valid articles (left out)\n",
                failed, in->nlines);
    return 0;
}

static void usage(FILE *out)
{
    fprintf(out, "usage: bench/classify [--model DIR] [--rounds N] [--stages] [--kv] FILE.jsonl\n"
                 "       bench/classify --fasttext-text|--fasttext-train FILE.jsonl\n"
                 "\n"
                 "Classifies every line of FILE (parse + featurize + predict) on one thread,\n"
                 "N rounds (default 5), and reports articles/s and MB/s (10^6 bytes) as\n"
                 "min/median/max, model load time, peak RSS and the whole in-process time.\n"
                 "  --model DIR      model directory (default models/default)\n"
                 "  --stages         also time parse only and parse + feature extraction\n"
                 "                   (fastest of N rounds each)\n"
                 "  --kv             machine-readable key=value lines\n"
                 "  --fasttext-text  write title + ' ' + body per article, lower-cased, one line\n"
                 "  --fasttext-train the same with __label__X prefixes (__label__none if none)\n");
}

/* Returns 0 to run, 1 after --help, -1 on a usage error. */
static int parse_args(int argc, char **argv, struct opts *o)
{
    memset(o, 0, sizeof(*o));
    o->model = "models/default";
    o->rounds = 5;
    for (int i = 1; i < argc; i++) {
        const char *s = argv[i];
        if (strcmp(s, "--help") == 0 || strcmp(s, "-h") == 0) {
            usage(stdout);
            return 1;
        } else if (strcmp(s, "--model") == 0 && i + 1 < argc) {
            o->model = argv[++i];
        } else if (strcmp(s, "--rounds") == 0 && i + 1 < argc) {
            char *end;
            errno = 0;
            unsigned long n = strtoul(argv[++i], &end, 10);
            if (errno || *end || n < 1 || n > MAX_ROUNDS) {
                fprintf(stderr, "bench/classify: --rounds must be 1..%d\n", MAX_ROUNDS);
                return -1;
            }
            o->rounds = (unsigned)n;
        } else if (strcmp(s, "--kv") == 0) {
            o->kv = 1;
        } else if (strcmp(s, "--stages") == 0) {
            o->stages = 1;
        } else if (strcmp(s, "--fasttext-text") == 0) {
            o->fasttext = 1;
        } else if (strcmp(s, "--fasttext-train") == 0) {
            o->fasttext = 2;
        } else if (s[0] == '-' && s[1] != '\0') {
            fprintf(stderr, "bench/classify: unknown or incomplete option %s (see --help)\n", s);
            return -1;
        } else if (!o->file) {
            o->file = s;
        } else {
            fprintf(stderr, "bench/classify: one input file only\n");
            return -1;
        }
    }
    if (!o->file) {
        fprintf(stderr, "bench/classify: no input file (see --help)\n");
        return -1;
    }
    return 0;
}

struct report {
    double load_s, read_s, total_s, cpu_s;
    double rss_after_load, rss_peak;
    double *round_s; /* sorted */
    double stage_s[3];
    struct counts counts;
};

static void print_human(const struct opts *o, const nc_model *m, const struct input *in,
                        const struct report *r)
{
    const struct nc_feature_settings *fs = nc_featurizer_settings(nc_model_featurizer(m));
    double mb = (double)in->bytes / 1e6, n = (double)in->nlines;
    unsigned R = o->rounds;
    const double *t = r->round_s;
    double med = R % 2 ? t[R / 2] : (t[R / 2 - 1] + t[R / 2]) / 2;
    char chars[32] = "off";
    if (fs->char_min)
        snprintf(chars, sizeof(chars), "%u-%u", fs->char_min, fs->char_max);
    printf("model       %s (%s; %zu labels; char n-grams %s; passages %s)\n", o->model,
           nc_model_version(m), nc_model_nlabels(m), chars, fs->passage_words ? "on" : "off");
    printf("input       %s: %zu articles, %.2f MB (read in %.3f s)\n", o->file, in->nlines, mb,
           r->read_s);
    printf("model load  %.3f s (peak RSS after load %.1f MiB)\n", r->load_s, r->rss_after_load);
    printf("classify    1 thread, %u round%s: articles/s min %.0f / median %.0f / max %.0f\n", R,
           R == 1 ? "" : "s", n / t[R - 1], n / med, n / t[0]);
    printf("            MB/s min %.2f / median %.2f / max %.2f (median round %.3f s)\n",
           mb / t[R - 1], mb / med, mb / t[0], med);
    if (o->stages) {
        const char *names[3] = {"parse", "parse+extract", "parse+extract+predict"};
        printf("stages      fastest of %u round%s each\n", R, R == 1 ? "" : "s");
        for (int s = 0; s < 3; s++)
            printf("stage       %-22s %.3f s  %8.0f articles/s  (%.1f us/article)\n", names[s],
                   r->stage_s[s], n / r->stage_s[s], r->stage_s[s] / n * 1e6);
        printf("features    %.0f occurrences and %.1f passages per article\n",
               (double)r->counts.occurrences / n, (double)r->counts.passages / n);
        printf("parser      %zu of %zu articles read by simdjson alone, the rest by jansson\n",
               r->counts.fast, in->nlines);
    }
    printf("peak RSS    %.1f MiB (the input buffer included)\n", r->rss_peak);
    printf("process     %.3f s wall from main() (model load + read + %u round%s%s), %.3f s CPU\n",
           r->total_s, R, R == 1 ? "" : "s", o->stages ? " x 3 stages" : "", r->cpu_s);
    printf("labels      ");
    for (size_t k = 0; k < nc_model_nlabels(m); k++)
        printf("%s%s %zu", k ? ", " : "", nc_model_label(m, k), r->counts.on[k]);
    printf(" (per round); %zu invalid, %zu skipped (language)\n", r->counts.failed,
           r->counts.skipped);
}

static void print_kv(const struct opts *o, const nc_model *m, const struct input *in,
                     const struct report *r)
{
    unsigned R = o->rounds;
    const double *t = r->round_s;
    double med = R % 2 ? t[R / 2] : (t[R / 2 - 1] + t[R / 2]) / 2;
    const struct nc_feature_settings *fs = nc_featurizer_settings(nc_model_featurizer(m));
    printf("model=%s\nmodel_version=%s\nchar_ngrams=%u-%u\n", o->model, nc_model_version(m),
           fs->char_min, fs->char_max);
    printf("articles=%zu\nbytes=%zu\nrounds=%u\n", in->nlines, in->bytes, R);
    printf("load_s=%.6f\nread_s=%.6f\n", r->load_s, r->read_s);
    printf("round_min_s=%.6f\nround_median_s=%.6f\nround_max_s=%.6f\n", t[0], med, t[R - 1]);
    if (o->stages) {
        printf("stage_parse_s=%.6f\nstage_extract_s=%.6f\nstage_classify_s=%.6f\n", r->stage_s[0],
               r->stage_s[1], r->stage_s[2]);
        printf("occurrences=%zu\npassages=%zu\nparsed_fast=%zu\n", r->counts.occurrences,
               r->counts.passages, r->counts.fast);
    }
    printf("rss_after_load_mib=%.1f\nrss_peak_mib=%.1f\n", r->rss_after_load, r->rss_peak);
    printf("process_s=%.6f\ncpu_s=%.6f\ninvalid=%zu\nskipped=%zu\n", r->total_s, r->cpu_s,
           r->counts.failed, r->counts.skipped);
}

int main(int argc, char **argv)
{
    double t_start = nc_now();
    struct opts o;
    struct input in = {0};
    struct report r;
    nc_model *m = NULL;
    nc_workspace *ws = NULL;
    nc_article *a = NULL;
    char err[1024];
    int rc = EXIT_RUNTIME;

    memset(&r, 0, sizeof(r));
    int pa = parse_args(argc, argv, &o);
    if (pa != 0)
        return pa > 0 ? 0 : EXIT_USAGE;
    if (o.fasttext) {
        if (input_read(o.file, &in, err, sizeof(err)) != 0) {
            fprintf(stderr, "bench/classify: %s\n", err);
            return EXIT_RUNTIME;
        }
        rc = emit_fasttext(&in, o.fasttext == 2, stdout);
        input_release(&in);
        return rc;
    }

    double t0 = nc_now();
    if (nc_model_load(o.model, &m, err, sizeof(err)) != 0) {
        fprintf(stderr, "bench/classify: %s\n", err);
        goto fail;
    }
    if (!(ws = nc_workspace_new(m)) || !(a = nc_article_new())) {
        fprintf(stderr, "bench/classify: out of memory\n");
        goto fail;
    }
    r.load_s = nc_now() - t0;
    r.rss_after_load = peak_rss_mib();

    t0 = nc_now();
    if (input_read(o.file, &in, err, sizeof(err)) != 0) {
        fprintf(stderr, "bench/classify: %s\n", err);
        goto fail;
    }
    r.read_s = nc_now() - t0;

    if (!(r.round_s = calloc(o.rounds, sizeof(*r.round_s)))) {
        fprintf(stderr, "bench/classify: out of memory\n");
        goto fail;
    }
    for (unsigned i = 0; i < o.rounds; i++)
        if ((r.round_s[i] = run_round(m, ws, a, &in, STAGE_CLASSIFY, &r.counts)) < 0)
            goto fail;
    qsort(r.round_s, o.rounds, sizeof(*r.round_s), cmp_double);
    if (o.stages) {
        /* Fastest of --rounds rounds per stage: the least disturbed by other load. */
        struct counts c;
        for (int s = STAGE_PARSE; s < STAGE_CLASSIFY; s++) {
            for (unsigned i = 0; i < o.rounds; i++) {
                double t = run_round(m, ws, a, &in, (enum stage)s, &c);
                if (t < 0)
                    goto fail;
                if (i == 0 || t < r.stage_s[s])
                    r.stage_s[s] = t;
            }
            if (s == STAGE_EXTRACT) {
                r.counts.occurrences = c.occurrences;
                r.counts.passages = c.passages;
            }
        }
        r.stage_s[STAGE_CLASSIFY] = r.round_s[0];
    }
    if (r.counts.failed == in.nlines) {
        fprintf(stderr, "bench/classify: %s: no line is a valid article\n", o.file);
        goto fail;
    }
    if (r.counts.failed)
        fprintf(stderr, "bench/classify: warning: %zu of %zu lines are not valid articles\n",
                r.counts.failed, in.nlines);
    r.rss_peak = peak_rss_mib();
    r.cpu_s = cpu_seconds();
    r.total_s = nc_now() - t_start;
    if (o.kv)
        print_kv(&o, m, &in, &r);
    else
        print_human(&o, m, &in, &r);
    if (fflush(stdout) != 0) {
        fprintf(stderr, "bench/classify: write error: %s\n", strerror(errno));
        goto fail;
    }
    rc = 0;
fail:
    free(r.round_s);
    input_release(&in);
    nc_article_free(a);
    nc_workspace_free(ws);
    nc_model_free(m);
    return rc;
}
