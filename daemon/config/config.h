/*
 * config.h - newsclfd's YAML configuration -> a validated struct nc_config.
 *
 * One YAML file (config/newsclf.yaml is the commented reference, every key
 * with its default) is read with libyaml's event API. Every key lives in a
 * declarative table (config_table.h: dotted path, type, default, range, help)
 * so unknown keys, wrong types and bad values are each reported on one line as
 *
 *     file:line:column: message
 *
 * (1-based). The loader collects ALL such errors before it fails. Scalar
 * values may use ${VAR} and ${VAR:-default} (default used when VAR is unset
 * or empty; "$${" is a literal "${"), so secrets can stay in the environment.
 *
 * Typical use in main():
 *
 *     char err[NC_CONFIG_ERRLEN];
 *     nc_config *cfg;
 *     if (nc_config_load(path, &cfg, err, sizeof err) < 0) { fputs(err, stderr); ... }
 *     for each --set ARG: if (nc_config_set(cfg, ARG, err, sizeof err) < 0) ...
 *     if (nc_config_validate(cfg, err, sizeof err) < 0) ...   // cross-field checks
 *
 * The struct below is public and plain: read its fields directly. Strings are
 * never NULL (an unset optional string is ""). Treat it as read-only outside
 * this module; change it only through nc_config_set(). A loaded config is
 * immutable and may be shared by threads.
 *
 * Reloadable keys (SIGHUP may apply them without a restart):
 *     model.path, model.thresholds, outputs.* (aggregate, labels, routes,
 *     deadletter, article_fields), logging.level
 * Every other key (kafka.*, limits.*, metrics.*, outputs.create_topics,
 * outputs.partitions, outputs.replication_factor) needs a restart;
 * nc_config_diff(old, new, 1, ...) lists those that changed so a reload can
 * refuse (or warn) by name. Validation of a reloaded config includes the
 * input-vs-output-topic loop check, so a reload cannot create a loop.
 */
#ifndef NC_CONFIG_H
#define NC_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include "base/log.h" /* enum nc_log_level */

/* Suggested size of the caller's err buffer: room for ~50 error lines. A
 * smaller buffer works; the text is cut at a line boundary and ends with
 * "... N more error(s)". */
#define NC_CONFIG_ERRLEN 8192

/* Return codes (0 on success). */
enum {
    NC_CONFIG_OK = 0,
    NC_CONFIG_EIO = -1,     /* cannot open or read the file */
    NC_CONFIG_ESYNTAX = -2, /* YAML syntax error (file:line:column given) */
    NC_CONFIG_EINVAL = -3,  /* unknown key, wrong type, bad value, cross-field check */
    NC_CONFIG_ENOMEM = -4,
};

enum nc_delivery {
    NC_DELIVERY_AT_LEAST_ONCE = 0, /* "at-least-once" (default) */
    NC_DELIVERY_EXACTLY_ONCE,      /* "exactly-once": Kafka transactions (commit.h) */
};


/* Same values as encode.h's enum nc_article_mode, so a cast is safe. */
enum nc_config_fields {
    NC_CONFIG_FIELDS_NONE = 0, /* "none" */
    NC_CONFIG_FIELDS_ALL,      /* "all" (default) */
    NC_CONFIG_FIELDS_LIST,     /* a YAML list of field names */
};

/* One librdkafka property passed through verbatim. */
typedef struct nc_kv {
    char *key;
    char *value;
} nc_kv;

/* outputs.routes[]: articles with label `label` also go to `topic`. */
typedef struct nc_route {
    char *label;
    char *topic;
    /* In (0,1); 0 means "not set": use the label's threshold
     * (model.thresholds, else the model's own). See nc_config_route_min(). */
    double min_probability;
} nc_route;

/* model.thresholds: label -> probability in (0,1). */
typedef struct nc_threshold {
    char *label;
    double probability;
} nc_threshold;

typedef struct nc_config {
    /* Path of the loaded file; "" for nc_config_new_defaults(). */
    char *source;

    struct nc_config_kafka {
        char *brokers;       /* "localhost:9092"; "embedded" = in-process mock cluster */
        bool embedded;       /* brokers == "embedded" (kept in sync by the loader/set) */
        char *group;         /* group.id, "newsclf" */
        char *client_id;     /* client.id, "newsclfd" */
        char *instance_id;   /* group.instance.id (static membership) and the
                              * transactional.id suffix; "" = derive (hostname) */
        char **input_topics; /* names, or "^regex" subscriptions */
        size_t n_input_topics;
        enum nc_delivery delivery;
        struct {
            size_t commit_every_messages; /* 1000; exactly-once only */
            int commit_every_ms;          /* 100; exactly-once only */
            int max_attempts;             /* 3; exactly-once: aborted transactions an input's
                                           * output refused for good may cause, then the
                                           * input is dead-lettered */
        } transaction;
        bool static_membership; /* true */
        nc_kv *consumer;        /* kafka.consumer: extra consumer properties */
        size_t n_consumer;
        nc_kv *producer; /* kafka.producer: extra producer properties */
        size_t n_producer;
    } kafka;

    struct nc_config_outputs {
        struct {
            bool enabled; /* true */
            char *topic;  /* "news.labeled" */
        } aggregate;
        struct {
            bool enabled;       /* true */
            char *topic_prefix; /* "news.labeled." -> news.labeled.<label> */
        } labels;
        nc_route *routes;
        size_t n_routes;
        struct {
            bool enabled; /* true */
            char *topic;  /* "news.deadletter" */
        } deadletter;
        enum nc_config_fields article_fields; /* ALL */
        char **fields;                        /* NC_CONFIG_FIELDS_LIST: field names */
        size_t n_fields;
        bool create_topics;     /* false */
        int partitions;         /* 6, for create_topics */
        int replication_factor; /* 1, for create_topics */
    } outputs;

    struct nc_config_model {
        char *path; /* "/var/lib/newsclf/models/current" */
        nc_threshold *thresholds;
        size_t n_thresholds;
    } model;

    struct nc_config_limits {
        size_t max_article_bytes;          /* 921600 (900 KiB) */
        size_t max_inflight_total;         /* 10000 */
        size_t max_inflight_per_partition; /* 2000 */
        size_t max_inflight_bytes;         /* 64 MiB, inputs + outputs of unfinished jobs */
        int queued_max_messages_kbytes;    /* consumer prefetch; 0: max_inflight_bytes / 4 */
        int shutdown_timeout_ms;           /* 20000 */
        size_t workers;                    /* 2 classification threads */
    } limits;

    struct nc_config_logging {
        enum nc_log_level level;   /* NC_LOG_INFO */
        enum nc_log_format format; /* NC_LOG_TEXT; restart required */
    } logging;

    struct nc_config_metrics {
        bool enabled; /* true */
        char *listen; /* "127.0.0.1:9464"; see nc_config_split_hostport() */
    } metrics;

    struct nc_config_priv *priv; /* private: where each key came from */
} nc_config;

/* A config holding every default. NULL only when out of memory. */
nc_config *nc_config_new_defaults(void);

/*
 * Reads and validates `path` (including nc_config_validate()). On failure
 * returns a negative NC_CONFIG_E* code, *out = NULL, and err holds every error
 * line, '\n'-separated, no trailing newline (pass NC_CONFIG_ERRLEN bytes).
 */
int nc_config_load(const char *path, nc_config **out, char *err, size_t errlen);

void nc_config_free(nc_config *c);

/*
 * Applies one "dotted.key=value" override (e.g. from --set) with the same
 * checks as the file. Forms:
 *   kafka.group=foo                          scalars (bool: true/false)
 *   kafka.input_topics=a,^b\..*              lists: comma-separated, "" = empty
 *   kafka.consumer.fetch.max.bytes=1048576   one pass-through property;
 *   kafka.consumer.fetch.max.bytes=          an empty value removes it
 *   model.thresholds.sports=0.7              one label ("" removes it), or
 *   model.thresholds=sports:0.7,crime:0.9    all of them
 *   outputs.routes=sports:news.sports,crime:alerts:0.9   label:topic[:min_probability]
 *   outputs.article_fields=all | none | id,title,url
 * Items cannot contain a comma (a regex such as ^a{1,2} needs the file). No
 * ${VAR} substitution here (the shell already did it). On error returns
 * NC_CONFIG_EINVAL (or _ENOMEM), err has one line starting "--set", and the
 * config is unchanged. Call nc_config_validate() after the last override.
 */
int nc_config_set(nc_config *c, const char *assignment, char *err, size_t errlen);

/* nc_config_set() of each assignment in order; the good ones apply, and
 * every bad one is reported: err has one "--set ..." line per failure
 * (cut at a line boundary). 0, or the first failure's code. */
int nc_config_set_all(nc_config *c, const char *const *assignments, size_t n, char *err,
                      size_t errlen);

/*
 * Cross-field checks; collects all errors like nc_config_load():
 * an input topic (name, or ^regex tried with POSIX regexec) that is or may
 * match one of our enabled output topics (aggregate, deadletter, routes, or
 * <labels.topic_prefix><anything>); an output topic equal to the dead-letter
 * topic; duplicate routes; inflight per partition > total. Each line starts
 * with "file:line:column: " when the key came from the file, "--set: " when
 * from an override, "defaults: " otherwise.
 */
int nc_config_validate(const nc_config *c, char *err, size_t errlen);

/* The effective config as YAML (loadable again). Values of secret keys (by
 * nc_config_is_secret()), pass-through properties included, are written as
 * "********". */
void nc_config_dump(const nc_config *c, FILE *fp);

/* True if a key or pass-through property name, known or not, looks like it
 * holds a secret (any case): its last dotted component contains "password",
 * "secret", "token" or "key" or a near miss of "password" or "secret"
 * ("pasword"), or the name contains "password", "secret", "key.pem",
 * "ssl.key" or "sasl.oauthbearer.config" (daemon/config/secret.c). */
bool nc_config_is_secret(const char *key);

/* "Did you mean": the one of cands[0..n) closest to word within 2 edits,
 * or NULL (the rule of the unknown-key errors; keys.c). */
const char *nc_config_closest(const char *word, const char *const *cands, size_t n);

/*
 * Dotted names of the keys whose values differ between a and b, one per line
 * into buf (cut cleanly). With nonreloadable_only, only keys that need a
 * restart. Returns the number of differing keys (0 = equal).
 */
size_t nc_config_diff(const nc_config *a, const nc_config *b, bool nonreloadable_only, char *buf,
                      size_t buflen);

/* "file:line:column" of a key as loaded (dotted path, e.g. "kafka.group",
 * "kafka.consumer.fetch.max.bytes"), "--set" if overridden, NULL if default.
 * Valid until the config is freed or changed. For the daemon's own errors. */
const char *nc_config_origin(const nc_config *c, const char *key);

/* The label's threshold from model.thresholds, or `fallback` (the model's). */
double nc_config_threshold(const nc_config *c, const char *label, double fallback);

/* A route's effective minimum probability (label threshold when unset). */
double nc_config_route_min(const nc_config *c, const nc_route *r, double model_threshold);

/* Splits "host:port" / "[v6]:port" (port 0..65535). 0 or NC_CONFIG_EINVAL. */
int nc_config_split_hostport(const char *s, char *host, size_t hostlen, int *port, char *err,
                             size_t errlen);

/* The key table, for --help and docs: i-th dotted key, its default as text
 * and a one-line help. NULL past the end. */
const char *nc_config_key(size_t i, const char **def, const char **help);

#endif
