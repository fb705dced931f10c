/*
 * cli.h - what the offline commands of `newsclf` (classify.c, train.c,
 * eval.c, explain.c) share with each other and with main.c: exit codes, the
 * default model, loading a model with a one-line error (and the workspace
 * to classify with), reading articles one record at a time, and parsing
 * whole-number options.
 */
#ifndef NC_CLI_H
#define NC_CLI_H

#include <stddef.h>
#include <stdio.h>

#include "core/article.h"
#include "core/model.h"

#define NC_EXIT_RUNTIME 1
#define NC_EXIT_USAGE 2
#define NC_DEFAULT_MODEL "/var/lib/newsclf/models/current"

/* $NEWSCLF_MODEL, else NC_DEFAULT_MODEL. */
const char *nc_cli_default_model(void);

/* Loads a model; NULL after printing the reason on stderr. */
nc_model *nc_cli_load_model(const char *dir);

/* A model with the state one command classifies with. */
struct nc_cli_model {
    nc_model *m;
    nc_workspace *ws;
    nc_article *a;
    int owned; /* m is freed by nc_cli_model_close() */
};

/* Loads dir (or uses m when dir is NULL) and makes a workspace and an
 * article. Returns 0, or -1 after printing the reason on stderr. */
int nc_cli_model_open(struct nc_cli_model *cm, const char *dir, nc_model *m);
void nc_cli_model_close(struct nc_cli_model *cm);

/* Called for each record: one line, or a whole file (line 1). Non-zero stops. */
typedef int (*nc_record_fn)(void *ctx, const char *rec, size_t len, const char *src, size_t line);

/* Calls fn for each line (or each whole file) of the inputs ("-" or none: stdin). */
int nc_cli_each_record(char **files, int nfiles, int whole, nc_record_fn fn, void *ctx);

/* A whole number in [lo, hi] from an option argument; -1 after a usage message. */
int nc_cli_parse_num(const char *opt, const char *s, long lo, long hi, long *out);

/* The commands; argv[0] is the command name. Exit codes as above. */
int nc_cli_classify(int argc, char **argv);
int nc_cli_train(int argc, char **argv);
int nc_cli_eval(int argc, char **argv);
int nc_cli_explain(int argc, char **argv);

/* `eval` of a loaded model on one labeled file, printed to out. Returns an exit code. */
int nc_cli_eval_model(nc_model *m, const char *data, int json, FILE *out);

#endif
