/*
 * classify.c - `newsclf classify`: one result per article, as a JSON line
 * (the daemon's record, core/encode.h) or a tab-separated text line.
 * Articles that cannot be read give an error record on stdout (as newsclfd
 * dead-letters them) and do not change the exit code.
 */
#include <getopt.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "core/article.h"
#include "core/encode.h"

struct classify_ctx {
    struct nc_cli_model cm;
    int text;
    size_t max_bytes;
    struct nc_encode_opts eo;
    size_t ok, bad;
};

static void print_refusal(const struct classify_ctx *c, enum nc_article_error ae, const char *err,
                          const char *src, size_t line)
{
    if (c->text) {
        printf("%s:%zu\terror\t%s: %s\n", src, line, nc_article_reason(ae), err);
        return;
    }
    json_t *o = json_pack("{s:i,s:n,s:s,s:s,s:s,s:i}", "schema_version", NC_SCHEMA_VERSION, "id",
                          "error", nc_article_reason(ae), "detail", err, "source", src, "line",
                          (int)line);
    char *s = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER);
    if (s)
        puts(s);
    free(s);
    json_decref(o);
}

static void print_text(const struct classify_ctx *c, const nc_result *r)
{
    char labels[1024];
    nc_encode_labels_csv(c->cm.m, r, labels, sizeof(labels));
    const char *id = nc_article_id(c->cm.a);
    printf("%s\t%s", id ? id : "-", r->skipped ? "(skipped: language)" : labels[0] ? labels : "-");
    for (size_t k = 0; k < r->nlabels && !r->skipped; k++)
        printf("\t%s=%.3f", nc_model_label(c->cm.m, k), r->prob[k]);
    putchar('\n');
}

static int classify_one(void *vctx, const char *rec, size_t len, const char *src, size_t line)
{
    struct classify_ctx *c = vctx;
    char err[512];
    nc_result r;
    enum nc_article_error ae = nc_article_parse(c->cm.a, rec, len, c->max_bytes, err, sizeof(err));
    if (ae != NC_ART_OK) {
        c->bad++;
        print_refusal(c, ae, err, src, line);
        return 0;
    }
    if (nc_model_classify(c->cm.m, c->cm.ws, c->cm.a, &r, err, sizeof(err)) != 0) {
        fprintf(stderr, "newsclf: %s:%zu: %s\n", src, line, err);
        return -1;
    }
    c->ok++;
    if (c->text) {
        print_text(c, &r);
        return 0;
    }
    size_t outlen;
    char *out = nc_encode_result(c->cm.m, c->cm.a, &r, &c->eo, &outlen, err, sizeof(err));
    if (!out) {
        fprintf(stderr, "newsclf: %s\n", err);
        return -1;
    }
    fwrite(out, 1, outlen, stdout);
    putchar('\n');
    free(out);
    return 0;
}

static void usage(void)
{
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
           NC_DEFAULT_MODEL);
}

int nc_cli_classify(int argc, char **argv)
{
    static const struct option opts[] = {
        {"model", required_argument, 0, 'm'}, {"format", required_argument, 0, 'f'},
        {"whole", no_argument, 0, 'w'},       {"article", no_argument, 0, 'a'},
        {"max-bytes", required_argument, 0, 'x'}, {"help", no_argument, 0, 'h'},
        {0, 0, 0, 0}};
    const char *model = nc_cli_default_model();
    struct classify_ctx c;
    memset(&c, 0, sizeof(c));
    int whole = 0, o;
    while ((o = getopt_long(argc, argv, "m:f:wax:h", opts, NULL)) != -1) {
        if (o == 'm') {
            model = optarg;
        } else if (o == 'f' && (strcmp(optarg, "jsonl") == 0 || strcmp(optarg, "text") == 0)) {
            c.text = optarg[0] == 't';
        } else if (o == 'f') {
            fprintf(stderr, "newsclf classify: --format must be jsonl or text\n");
            return NC_EXIT_USAGE;
        } else if (o == 'w') {
            whole = 1;
        } else if (o == 'a') {
            c.eo.article_mode = NC_ARTICLE_ALL;
        } else if (o == 'x') {
            c.max_bytes = (size_t)strtoull(optarg, NULL, 10);
        } else if (o == 'h') {
            usage();
            return 0;
        } else {
            return NC_EXIT_USAGE;
        }
    }
    if (nc_cli_model_open(&c.cm, model, NULL) != 0)
        return NC_EXIT_RUNTIME;
    int rc = nc_cli_each_record(argv + optind, argc - optind, whole, classify_one, &c) == 0
                 ? 0
                 : NC_EXIT_RUNTIME;
    if (fflush(stdout) != 0)
        rc = NC_EXIT_RUNTIME;
    if (c.bad)
        fprintf(stderr, "newsclf: %zu articles classified, %zu rejected\n", c.ok, c.bad);
    nc_cli_model_close(&c.cm);
    return rc;
}
