/*
 * mockbroker.c - newsclf-mockbroker: hosts the embedded (mock) Kafka cluster
 * in its own process, for tests and benchmarks that kill the daemon and need
 * the broker to survive (docs/kafka.md: the mock's state lives in the
 * hosting process).
 *
 *   newsclf-mockbroker [--brokers N] [--topic NAME[:PARTITIONS]]...
 *                      [--bootstrap-file FILE] [--down]
 *
 * Prints "bootstrap=HOST:PORT,..." on stdout and, with --bootstrap-file,
 * writes the address there (atomically, via rename) once every topic exists.
 * --down starts with every broker down (connections refused).
 * Signals: SIGUSR1 brings the brokers up, SIGUSR2 takes them down,
 * SIGTERM/SIGINT exit.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "kafka/embedded.h"

static volatile sig_atomic_t stop_flag;
static volatile sig_atomic_t up_flag;
static volatile sig_atomic_t down_flag;

static void on_signal(int sig)
{
    if (sig == SIGUSR1)
        up_flag = 1;
    else if (sig == SIGUSR2)
        down_flag = 1;
    else
        stop_flag = 1;
}

static int write_file(const char *path, const char *text, char *err, size_t errlen)
{
    char tmp[4096];
    FILE *f;

    if (snprintf(tmp, sizeof(tmp), "%s.tmp", path) >= (int)sizeof(tmp)) {
        snprintf(err, errlen, "%s: path too long", path);
        return -1;
    }
    f = fopen(tmp, "w");
    if (!f || fprintf(f, "%s\n", text) < 0 || fclose(f) != 0 || rename(tmp, path) != 0) {
        snprintf(err, errlen, "cannot write %s", path);
        return -1;
    }
    return 0;
}

static void usage(void)
{
    fprintf(stderr, "usage: newsclf-mockbroker [--brokers N] [--topic NAME[:PARTITIONS]]...\n"
                    "                          [--bootstrap-file FILE] [--down]\n");
}

int main(int argc, char **argv)
{
    nc_embedded *e = NULL;
    const char *bootstrap_file = NULL;
    int nbrokers = 1, down = 0, rc = 1;
    char err[512];
    struct sigaction sa;

    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--brokers") && i + 1 < argc) {
            nbrokers = (int)strtol(argv[++i], NULL, 10);
        } else if (!strcmp(argv[i], "--bootstrap-file") && i + 1 < argc) {
            bootstrap_file = argv[++i];
        } else if (!strcmp(argv[i], "--down")) {
            down = 1;
        } else if (!strcmp(argv[i], "--topic") && i + 1 < argc) {
            i++; /* handled after the cluster exists */
        } else {
            usage();
            return 2;
        }
    }

    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGUSR1, &sa, NULL);
    sigaction(SIGUSR2, &sa, NULL);

    if (nc_embedded_new(nbrokers, &e, err, sizeof(err)) != 0)
        goto fail;
    for (int i = 1; i < argc; i++) {
        char name[256], *colon;
        int parts = 1;

        if (strcmp(argv[i], "--topic") != 0 || i + 1 >= argc)
            continue;
        snprintf(name, sizeof(name), "%s", argv[++i]);
        colon = strrchr(name, ':');
        if (colon) {
            *colon = '\0';
            parts = (int)strtol(colon + 1, NULL, 10);
        }
        if (nc_embedded_create_topic(e, name, parts, err, sizeof(err)) != 0)
            goto fail;
    }
    if (down && nc_embedded_set_up(e, 0, err, sizeof(err)) != 0)
        goto fail;
    printf("bootstrap=%s\n", nc_embedded_bootstraps(e));
    fflush(stdout);
    if (bootstrap_file &&
        write_file(bootstrap_file, nc_embedded_bootstraps(e), err, sizeof(err)) != 0)
        goto fail;

    while (!stop_flag) {
        struct timespec ts = {0, 20L * 1000 * 1000};
        if (up_flag) {
            up_flag = 0;
            if (nc_embedded_set_up(e, 1, err, sizeof(err)) != 0)
                fprintf(stderr, "newsclf-mockbroker: %s\n", err);
            fprintf(stderr, "newsclf-mockbroker: brokers up\n");
        }
        if (down_flag) {
            down_flag = 0;
            if (nc_embedded_set_up(e, 0, err, sizeof(err)) != 0)
                fprintf(stderr, "newsclf-mockbroker: %s\n", err);
            fprintf(stderr, "newsclf-mockbroker: brokers down\n");
        }
        nanosleep(&ts, NULL);
    }
    rc = 0;
    nc_embedded_free(e);
    return rc;
fail:
    fprintf(stderr, "newsclf-mockbroker: %s\n", err);
    nc_embedded_free(e);
    return rc;
}
