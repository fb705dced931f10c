/*
 * conf.h - librdkafka configuration shared by every client newsclf creates
 * (newsclfd's consumer and producer, the CLI's Kafka commands): bootstrap
 * servers, client id, the log bridge into nc_log, statistics, and the
 * pass-through properties.
 *
 * The opaque of every such client (rd_kafka_conf_set_opaque) is a struct
 * nc_kctx that the owning module keeps: the log librdkafka's lines go to,
 * the statistics sink, and the module itself, which its callbacks find
 * there. Nothing here is global.
 *
 * The properties our delivery guarantees depend on are set by the caller
 * after nc_kconf_new, so they always win; config.c already refuses them in
 * the file with a reason.
 */
#ifndef NC_KAFKA_CONF_H
#define NC_KAFKA_CONF_H

#include <librdkafka/rdkafka.h>
#include <stddef.h>

#include "config/config.h"
#include "base/log.h"
#include "base/clock.h" /* nc_now_ms() */

/*
 * librdkafka statistics: statistics.interval.ms = interval_ms (a
 * pass-through property may override it) and fn called with each report's
 * JSON on the thread that polls the client (consumer: 1 for a consumer, 0
 * for a producer). newsclfd's lag and queue metrics come from here, never
 * from watermark queries (docs/kafka.md #4460).
 */
struct nc_kstats {
    void (*fn)(void *arg, int consumer, const char *json, size_t len);
    void *arg;
    int interval_ms;
};

/* librdkafka's log lines reach nc_log as "librdkafka: <text> client=<name>
 * broker=<broker> facility=<facility>", with librdkafka's errors (transient:
 * it retries) as warnings, and the same line of one client at most once per
 * NC_KLOG_REPEAT_MS with the count of those dropped (nc_log_limited). */
#define NC_KLOG_REPEAT_MS 10000

/* What a client needs besides its own settings. */
struct nc_kclient_opts {
    const char *bootstrap;
    const char *client_id; /* NULL: the config's kafka.client_id */
    nc_log *log;           /* librdkafka's log lines go here; NULL: dropped */
    const struct nc_kstats *stats; /* NULL: no statistics */
    /* Applied after the config's pass-through map (the CLI's -X). */
    const nc_kv *extra;
    size_t nextra;
};

/* The opaque of a client; lives as long as the client (inside its owner). */
struct nc_kctx {
    nc_log *log;
    const struct nc_kstats *stats;
    void *owner; /* the module owning the client, for its callbacks */
};

/* The owner stored in a client's opaque (as librdkafka hands it back). */
static inline void *nc_kctx_owner(void *opaque)
{
    return ((struct nc_kctx *)opaque)->owner;
}

/* Sets one property; 0 or -1 with "key: reason" in err. The value of a
 * secret key (nc_config_is_secret) is never copied into err. */
int nc_kconf_set(rd_kafka_conf_t *conf, const char *key, const char *value, char *err,
                 size_t errlen);

/*
 * A new conf with the log bridge, statistics (o->stats), bootstrap.servers,
 * client.id, the pass-through kvs and then o->extra; its opaque is ctx,
 * which this fills in (log, stats, owner). Returns NULL with err on failure.
 */
rd_kafka_conf_t *nc_kconf_new(const struct nc_kclient_opts *o, const char *client_id,
                              const nc_kv *kvs, size_t nkvs, struct nc_kctx *ctx, void *owner,
                              char *err, size_t errlen);

/* The client's bootstrap.servers into buf, for messages naming the brokers
 * ("127.0.0.1:9092", "(unknown brokers)" if it cannot be read); buf. */
const char *nc_kconf_bootstrap(rd_kafka_t *rk, char *buf, size_t len);

/* True if key is set by kvs[0..n) (a pass-through map). */
int nc_kv_has(const nc_kv *kvs, size_t n, const char *key);

/*
 * Exactly-once: the producer's transactional.id, kafka.group + "-" +
 * kafka.instance_id. kafka.instance_id is required in that mode (not the
 * host name: the id must be stable across restarts, for fencing and to end
 * a crashed instance's open transaction, and unique per instance). 0, or -1
 * with a one-line reason.
 */
int nc_kafka_transactional_id(const nc_config *cfg, char *buf, size_t len, char *err,
                              size_t errlen);

/* True if err is a per-message produce error: retrying cannot help, the
 * input goes to the dead-letter topic instead. */
int nc_kafka_err_is_per_message(rd_kafka_resp_err_t err);

#endif
