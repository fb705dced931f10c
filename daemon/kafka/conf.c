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

/*
 * librdkafka's syslog levels -> ours. Its errors (3) are transient
 * connection and request failures it retries by itself; what newsclf cannot
 * recover from is logged by newsclf as an error, so these are warnings.
 */
static enum nc_log_level map_level(int level)
{
    if (level <= 2)
        return NC_LOG_ERROR;
    if (level <= 4)
        return NC_LOG_WARN;
    if (level <= 6)
        return NC_LOG_INFO;
    return NC_LOG_DEBUG;
}

/* librdkafka 2.x starts its lines with "[thrd:<thread>]: "; the rest. */
static const char *skip_thread(const char *buf)
{
    const char *end;
    if (strncmp(buf, "[thrd:", 6) != 0 || !(end = strstr(buf, "]: ")))
        return buf;
    return end + 3;
}

/* The broker a line is about: librdkafka's broker threads start their lines
 * with "<broker name>: " (e.g. "127.0.0.1:9092/bootstrap: Connect to ...").
 * Its length in buf, or 0. */
static size_t broker_prefix(const char *buf)
{
    const char *end = strstr(buf, ": ");
    size_t n = end ? (size_t)(end - buf) : 0;

    /* A broker name has no space and always a "/<id>" or "/bootstrap". */
    if (n == 0 || memchr(buf, ' ', n) || !memchr(buf, '/', n))
        return 0;
    return n;
}

/* The repeat key of a line: its client and text without digits or the
 * parenthesised detail ("(after 12ms in state CONNECT, 3 identical error(s)
 * suppressed)"), which vary between otherwise equal lines. */
static void repeat_key(char *key, size_t len, const char *client, const char *msg)
{
    size_t n = (size_t)snprintf(key, len, "%s|", client);
    const char *end = strstr(msg, " (after ");

    if (!end)
        end = msg + strlen(msg);
    for (; msg < end && n + 1 < len; msg++)
        if (*msg < '0' || *msg > '9')
            key[n++] = *msg;
    key[n < len ? n : len - 1] = '\0';
}

static void log_bridge(const rd_kafka_t *rk, int level, const char *fac, const char *buf)
{
    const struct nc_kctx *ctx = rd_kafka_opaque(rk);
    enum nc_log_level l = map_level(level);
    size_t bn;
    char key[1024];

    if (!ctx || !ctx->log || !nc_log_enabled(ctx->log, l))
        return;
    buf = skip_thread(buf);
    bn = broker_prefix(buf);
    repeat_key(key, sizeof(key), rd_kafka_name(rk), buf);
    if (bn)
        nc_log_limited(ctx->log, l, NC_KLOG_REPEAT_MS, key,
                       "librdkafka: %s client=%s broker=%.*s facility=%s", buf + bn + 2,
                       rd_kafka_name(rk), (int)bn, buf, fac);
    else
        nc_log_limited(ctx->log, l, NC_KLOG_REPEAT_MS, key, "librdkafka: %s client=%s facility=%s",
                       buf, rd_kafka_name(rk), fac);
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
    /* Latency default (overridable): small produce and fetch requests go out
     * at once instead of waiting on Nagle for the previous one's TCP ack. */
    if (nc_kconf_set(conf, "socket.nagle.disable", "true", err, errlen) ||
        nc_kconf_set(conf, "bootstrap.servers", o->bootstrap, err, errlen) ||
        (client_id && client_id[0] && nc_kconf_set(conf, "client.id", client_id, err, errlen)) ||
        set_all(conf, kvs, nkvs, err, errlen) || set_all(conf, o->extra, o->nextra, err, errlen))
        goto fail;
    return conf;
fail:
    rd_kafka_conf_destroy(conf);
    return NULL;
}

const char *nc_kconf_bootstrap(rd_kafka_t *rk, char *buf, size_t len)
{
    size_t n = len;

    if (!len)
        return buf;
    if (rd_kafka_conf_get(rd_kafka_conf(rk), "bootstrap.servers", buf, &n) != RD_KAFKA_CONF_OK ||
        !buf[0])
        snprintf(buf, len, "(unknown brokers)");
    return buf;
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
