/*
 * conf.c - shared librdkafka configuration (see conf.h).
 */
#include "kafka/conf.h"

#include <stdio.h>
#include <string.h>

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
    const struct nc_kctx *ctx = rd_kafka_opaque(rk);
    enum nc_log_level l;

    if (!ctx || !ctx->log)
        return;
    if (level <= 3)
        l = NC_LOG_ERROR;
    else if (level == 4)
        l = NC_LOG_WARN;
    else if (level <= 6)
        l = NC_LOG_INFO;
    else
        l = NC_LOG_DEBUG;
    nc_log_msg(ctx->log, l, "librdkafka client=%s facility=%s: %s", rd_kafka_name(rk), fac, buf);
}

static int stats_bridge(rd_kafka_t *rk, char *json, size_t len, void *opaque)
{
    const struct nc_kctx *ctx = opaque;
    if (ctx && ctx->stats && ctx->stats->fn)
        ctx->stats->fn(ctx->stats->arg, rd_kafka_type(rk) == RD_KAFKA_CONSUMER, json, len);
    return 0; /* librdkafka frees json */
}

static int set_all(rd_kafka_conf_t *conf, const nc_kv *kvs, size_t n, char *err, size_t errlen)
{
    for (size_t i = 0; i < n; i++)
        if (nc_kconf_set(conf, kvs[i].key, kvs[i].value, err, errlen))
            return -1;
    return 0;
}

rd_kafka_conf_t *nc_kconf_new(const struct nc_kclient_opts *o, const char *client_id,
                              const nc_kv *kvs, size_t nkvs, struct nc_kctx *ctx, void *owner,
                              char *err, size_t errlen)
{
    rd_kafka_conf_t *conf = rd_kafka_conf_new();

    if (!conf) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    if (o->client_id)
        client_id = o->client_id;
    ctx->log = o->log;
    ctx->stats = o->stats;
    ctx->owner = owner;
    rd_kafka_conf_set_opaque(conf, ctx);
    rd_kafka_conf_set_log_cb(conf, log_bridge);
    if (o->stats && o->stats->fn) {
        char ms[16];
        snprintf(ms, sizeof(ms), "%d", o->stats->interval_ms);
        rd_kafka_conf_set_stats_cb(conf, stats_bridge);
        if (nc_kconf_set(conf, "statistics.interval.ms", ms, err, errlen))
            goto fail;
    }
    if (nc_kconf_set(conf, "bootstrap.servers", o->bootstrap, err, errlen) ||
        (client_id && client_id[0] && nc_kconf_set(conf, "client.id", client_id, err, errlen)) ||
        set_all(conf, kvs, nkvs, err, errlen) || set_all(conf, o->extra, o->nextra, err, errlen))
        goto fail;
    return conf;
fail:
    rd_kafka_conf_destroy(conf);
    return NULL;
}

int nc_kv_has(const nc_kv *kvs, size_t n, const char *key)
{
    for (size_t i = 0; i < n; i++)
        if (!strcmp(kvs[i].key, key))
            return 1;
    return 0;
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
