/*
 * main.c - the `newsclf` command: usage, --version, and dispatch to one
 * file per command (cli.h: classify, train, eval, explain; kafka.h:
 * subscribe, reclassify).
 *
 * Exit codes: 0 ok, 1 runtime error, 2 usage error. A usage error is one
 * line saying what is wrong, then "Try 'newsclf [COMMAND] --help'." (the
 * commands print the first line and return 2; main prints the second).
 * Per-article errors in
 * `classify` are reported as error records on stdout (like newsclfd's
 * dead-letter topic) and do not change the exit code.
 */
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"
#include "cli/kafka.h"

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
            "options:\n"
            "  -h, --help  print this help and exit\n"
            "  --version   print the version and exit\n"
            "\n"
            "Run 'newsclf <command> --help' for the options of a command.\n"
            "subscribe and reclassify read a configuration file only when --config names\n"
            "one (as newsclfd does); otherwise the built-in defaults apply.\n");
}

static int usage_error(const char *what)
{
    fprintf(stderr, "newsclf: %s\nTry 'newsclf --help'.\n", what);
    return NC_EXIT_USAGE;
}

int main(int argc, char **argv)
{
    if (argc < 2)
        return usage_error("no command given");
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
    } cmds[] = {{"classify", nc_cli_classify},
                {"train", nc_cli_train},
                {"eval", nc_cli_eval},
                {"explain", nc_cli_explain},
                {"subscribe", nc_cli_subscribe},
                {"reclassify", nc_cli_reclassify}};
    for (size_t i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++) {
        if (strcmp(cmd, cmds[i].name) != 0)
            continue;
        /* getopt names argv[0] in its complaints: "newsclf classify: ...". */
        char name[32];
        snprintf(name, sizeof(name), "newsclf %s", cmds[i].name);
        argv[1] = name;
        int rc = cmds[i].fn(argc - 1, argv + 1);
        if (rc == NC_EXIT_USAGE)
            fprintf(stderr, "Try 'newsclf %s --help'.\n", cmds[i].name);
        return rc;
    }
    char what[300];
    snprintf(what, sizeof(what), "unknown command \"%.200s\"", cmd);
    return usage_error(what);
}
