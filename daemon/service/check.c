/*
 * check.c - the offline checks of `newsclfd --check-config` (see check.h).
 */
#include "service/check.h"

#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/model.h"
#include "kafka/props.h"

/* One problem: "<origin>: <key>: <reason>" (origin omitted for defaults). */
static void report(FILE *out, const nc_config *cfg, const char *key, const char *reason)
{
    const char *where = nc_config_origin(cfg, key);
    fprintf(out, "%s%s%s: %s\n", where ? where : "", where ? ": " : "", key, reason);
}

/* Each comma-separated entry of kafka.brokers; the number of bad ones. */
static int check_brokers(const nc_config *cfg, FILE *out)
{
    const char *s = cfg->kafka.brokers;
    int bad = 0;

    if (!strcmp(s, "embedded"))
        return 0;
    while (*s) {
        size_t n = strcspn(s, ",");
        char entry[512], host[256], err[256], msg[900];
        int port = 0;

        snprintf(entry, sizeof(entry), "%.*s", (int)(n < 511 ? n : 511), s);
        if (nc_config_split_hostport(entry, host, sizeof(host), &port, err, sizeof(err)) != 0 ||
            !host[0] || port < 1 || port > 65535) {
            snprintf(msg, sizeof(msg),
                     "'%s' is not host:port with a port in 1-65535 (or \"embedded\" alone)",
                     entry);
            report(out, cfg, "kafka.brokers", msg);
            bad++;
        }
        s += n;
        if (*s == ',')
            s++;
    }
    return bad;
}

/* The *.location files of one pass-through map; the number of bad ones. */
static int check_files(const nc_config *cfg, const char *section, const nc_kv *kvs, size_t n,
                       FILE *out)
{
    int bad = 0;

    for (size_t i = 0; i < n; i++) {
        size_t kl = strlen(kvs[i].key);
        char key[300], msg[700];
        struct stat st;

        if (kl < 9 || strcmp(kvs[i].key + kl - 9, ".location") != 0 ||
            !strcmp(kvs[i].value, "probe"))
            continue;
        snprintf(key, sizeof(key), "%s.%s", section, kvs[i].key);
        if (stat(kvs[i].value, &st) != 0 || access(kvs[i].value, R_OK) != 0) {
            snprintf(msg, sizeof(msg), "%s: %s", kvs[i].value,
                     stat(kvs[i].value, &st) != 0 ? "no such file" : "not readable");
            report(out, cfg, key, msg);
            bad++;
        }
    }
    return bad;
}

/* The model loads, validates and takes model.thresholds. */
static int check_model(const nc_config *cfg, FILE *out)
{
    nc_model *m = NULL;
    char err[1024];
    int bad = 0;

    if (nc_model_load(cfg->model.path, &m, err, sizeof(err)) != 0) {
        report(out, cfg, "model.path", err);
        return 1;
    }
    for (size_t i = 0; i < cfg->model.n_thresholds; i++) {
        const nc_threshold *t = &cfg->model.thresholds[i];
        if (nc_model_set_threshold(m, t->label, t->probability, err, sizeof(err)) != 0) {
            report(out, cfg, "model.thresholds", err);
            bad++;
        }
    }
    nc_model_free(m);
    return bad;
}

int nc_check_offline(const nc_config *cfg, int passthrough, FILE *out)
{
    int bad = check_brokers(cfg, out);

    bad += check_files(cfg, "kafka.consumer", cfg->kafka.consumer, cfg->kafka.n_consumer, out);
    bad += check_files(cfg, "kafka.producer", cfg->kafka.producer, cfg->kafka.n_producer, out);
    bad += nc_kafka_props_check(cfg, out); /* kafka/props.c */
    if (!passthrough)
        bad += check_model(cfg, out);
    return bad;
}
