/*
 * kafka_cmd.h - what the Kafka commands (subscribe.c, reclassify.c) share:
 * repeatable options, the daemon's configuration, the stop flag, the log
 * librdkafka's lines go to, the consumer and topic lookups. Client set-up,
 * the bounded consumer close, configuration loading and signals are
 * kafka/'s (conf.h, in.h, process.h), the same code newsclfd runs.
 */
#ifndef NC_CLI_KAFKA_CMD_H
#define NC_CLI_KAFKA_CMD_H

#include <getopt.h>
#include <librdkafka/rdkafka.h>
#include <signal.h>
#include <stdio.h>
#include <stddef.h>
#include <stdint.h>

#include "config/config.h"
#include "kafka/conf.h"
#include "kafka/in.h"
#include "base/log.h"

#define NC_CLI_EXIT_RUNTIME 1
#define NC_CLI_EXIT_USAGE 2
#define NC_CLI_MAX_ITEMS 256

/* A repeatable string option. */
struct nc_strlist {
    const char *v[NC_CLI_MAX_ITEMS];
    size_t n;
};

/* Adds s; -1 (printed) when there are too many. */
int nc_strlist_add(struct nc_strlist *l, const char *s, const char *cmd, const char *opt);

/* The options every Kafka command takes. */
struct nc_kcmd_args {
    const char *config;      /* --config */
    const char *brokers;     /* --brokers */
    struct nc_strlist sets;  /* --set KEY=VALUE */
    struct nc_strlist props; /* -X PROPERTY=VALUE */
};

/* getopt_long entries: an option with an argument, a flag. */
#define NC_OPT_ARG(name, letter) {name, required_argument, 0, letter}
#define NC_OPT_FLAG(name, letter) {name, no_argument, 0, letter}

/* A command's own options: getopt_long entries ({0} last) and short ones. */
struct nc_kcmd_opts {
    const struct option *longs;
    const char *shorts;
    /* One of them: 0, or an exit code (printed). */
    int (*handle)(void *ctx, int letter, const char *arg);
    void *ctx;
    void (*usage)(FILE *out); /* --help, and after an unknown option */
};

/*
 * Parses argv: the command's options and the shared ones (--brokers/-b,
 * --config/-c, --set/-s, -X, --help/-h). Returns -1 to run, else the exit
 * code (0 after --help).
 */
int nc_kcmd_parse(int argc, char **argv, const char *cmd, const struct nc_kcmd_opts *own,
                  struct nc_kcmd_args *a);

/* A number option >= min into *v; 0, or NC_CLI_EXIT_USAGE after printing
 * "newsclf <cmd>: <complaint>". */
int nc_kcmd_number(const char *cmd, const char *arg, long long min, long long *v,
                   const char *complaint);

struct nc_kcmd {
    const char *name; /* "subscribe", "reclassify" */
    nc_config *cfg;
    nc_log *log; /* stderr, warnings and errors (librdkafka's lines too) */
    volatile sig_atomic_t *stop;
    /* [0] linger.ms for the producer, [1] log.connection.close, then -X
     * (copies, owned). */
    nc_kv extra[2 + NC_CLI_MAX_ITEMS];
    size_t nextra;
    char client_id[64];
    struct nc_kclient_opts consumer, producer;
    nc_kafka_in *in;
};

/*
 * The configuration (--config, else the built-in defaults, as newsclfd:
 * no file is read unless named; then every --set), the brokers (--brokers, else
 * kafka.brokers; the embedded broker is refused), the log, the signals and
 * the client options of both clients. 0, or -1 (printed).
 */
int nc_kcmd_start(struct nc_kcmd *k, const char *name, const struct nc_kcmd_args *a);

/* The consumer: group (NULL: a private one, never joined) and settings.
 * 0, or -1 (printed). */
int nc_kcmd_consumer(struct nc_kcmd *k, const char *group, const nc_kv *settings, size_t n);

/* Closes the consumer (bounded) and frees what k holds (not k). */
void nc_kcmd_end(struct nc_kcmd *k);

/*
 * Every partition of the topics (names, or "^regex" matched against every
 * topic of the cluster). A missing topic is an error: a typo should not
 * look like an empty range. NULL (printed) on error.
 */
rd_kafka_topic_partition_list_t *nc_kcmd_partitions(struct nc_kcmd *k, const char *const *topics,
                                                    size_t ntopics, int timeout_ms);

/* Low and high watermarks of every partition of l, into l[i].offset (high)
 * and lows[i]. 0, or -1 (printed). */
int nc_kcmd_watermarks(struct nc_kcmd *k, rd_kafka_topic_partition_list_t *l, int64_t *lows,
                       int timeout_ms);

#endif
