/*
 * conf.c - shared librdkafka configuration (see conf.h).
 */
#include "kafka/conf.h"

#include <stdio.h>

int nc_kconf_set(rd_kafka_conf_t *conf, const char *key, const char *value, char *err,
                 size_t errlen)
{
    char errstr[512];

    if (rd_kafka_conf_set(conf, key, value, errstr, sizeof(errstr)) != RD_KAFKA_CONF_OK) {
        /* librdkafka's message may quote the value: keep secrets out. */
        if (nc_config_is_secret(key))
            snprintf(err, errlen, "kafka property %s: invalid value", key);
        else
            snprintf(err, errlen, "kafka property %s: %s", key, errstr);
        return -1;
    }
    return 0;
}

static void log_bridge(const rd_kafka_t *rk, int level, const char *fac, const char *buf)
{
    nc_log *log = rd_kafka_opaque(rk);
    enum nc_log_level l;

    /* The opaque is the owning module, whose first member is its nc_log *
     * (see kafka/in.c and kafka/out.c). */
    if (!log)
        return;
    log = *(nc_log **)(void *)log;
    if (level <= 3)
        l = NC_LOG_ERROR;
    else if (level == 4)
        l = NC_LOG_WARN;
    else if (level <= 6)
        l = NC_LOG_INFO;
    else
        l = NC_LOG_DEBUG;
    nc_log_msg(log, l, "librdkafka client=%s facility=%s: %s", rd_kafka_name(rk), fac, buf);
}

static nc_kconf_stats_fn stats_fn;
static void *stats_arg;
static int stats_interval_ms;

void nc_kconf_set_stats(nc_kconf_stats_fn fn, void *arg, int interval_ms)
{
    stats_fn = fn;
    stats_arg = arg;
    stats_interval_ms = interval_ms;
}

static int stats_bridge(rd_kafka_t *rk, char *json, size_t len, void *opaque)
{
    (void)opaque;
    if (stats_fn)
        stats_fn(stats_arg, rd_kafka_type(rk) == RD_KAFKA_CONSUMER, json, len);
    return 0; /* librdkafka frees json */
}

rd_kafka_conf_t *nc_kconf_new(const char *bootstrap, const char *client_id, nc_log *log,
                              const nc_kv *kvs, size_t nkvs, char *err, size_t errlen)
{
    rd_kafka_conf_t *conf = rd_kafka_conf_new();

    (void)log;
    if (!conf) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    rd_kafka_conf_set_log_cb(conf, log_bridge);
    if (stats_fn) {
        char ms[16];
        snprintf(ms, sizeof(ms), "%d", stats_interval_ms);
        rd_kafka_conf_set_stats_cb(conf, stats_bridge);
        if (nc_kconf_set(conf, "statistics.interval.ms", ms, err, errlen))
            goto fail;
    }
    if (nc_kconf_set(conf, "bootstrap.servers", bootstrap, err, errlen) ||
        (client_id[0] && nc_kconf_set(conf, "client.id", client_id, err, errlen)))
        goto fail;
    for (size_t i = 0; i < nkvs; i++)
        if (nc_kconf_set(conf, kvs[i].key, kvs[i].value, err, errlen))
            goto fail;
    return conf;
fail:
    rd_kafka_conf_destroy(conf);
    return NULL;
}

int nc_kafka_transactional_id(const nc_config *cfg, char *buf, size_t len, char *err, size_t errlen)
{
    const char *where = nc_config_origin(cfg, "kafka.instance_id");

    if (!cfg->kafka.instance_id[0]) {
        snprintf(err, errlen,
                 "kafka.delivery: exactly-once needs kafka.instance_id: a name stable across "
                 "restarts and unique to this instance (its transactional.id is "
                 "%s-<instance_id>; the host name is not used in this mode)",
                 cfg->kafka.group);
        return -1;
    }
    if ((size_t)snprintf(buf, len, "%s-%s", cfg->kafka.group, cfg->kafka.instance_id) >= len) {
        snprintf(err, errlen, "%s%skafka.instance_id: too long for a transactional.id",
                 where ? where : "", where ? ": " : "");
        return -1;
    }
    return 0;
}

int nc_kafka_err_is_per_message(rd_kafka_resp_err_t err)
{
    switch (err) {
    case RD_KAFKA_RESP_ERR_MSG_SIZE_TOO_LARGE:
    case RD_KAFKA_RESP_ERR_INVALID_RECORD:
    case RD_KAFKA_RESP_ERR_RECORD_LIST_TOO_LARGE:
    case RD_KAFKA_RESP_ERR_INVALID_MSG:
    case RD_KAFKA_RESP_ERR_INVALID_TIMESTAMP:
        return 1;
    default:
        return 0;
    }
}
