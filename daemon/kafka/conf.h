/*
 * conf.h - librdkafka configuration shared by the consumer (kafka_in)
 * and the producer (kafka_out): bootstrap servers, client id, the log bridge
 * into nc_log, and the user's pass-through properties.
 *
 * The properties our delivery guarantees depend on are set here after the
 * pass-through maps, so they always win; config.c already refuses them in
 * the file with a reason.
 */
#ifndef NC_KAFKA_CONF_H
#define NC_KAFKA_CONF_H

#include <librdkafka/rdkafka.h>
#include <stddef.h>

#include "config/config.h"
#include "base/log.h"
#include "base/clock.h" /* nc_now_ms() */

/* Sets one property; 0 or -1 with "key: reason" in err. The value of a
 * secret key (nc_config_is_secret) is never copied into err. */
int nc_kconf_set(rd_kafka_conf_t *conf, const char *key, const char *value, char *err,
                 size_t errlen);

/*
 * A new conf with bootstrap.servers, client.id, the log bridge (librdkafka's
 * log lines go to log at a matching level), then the pass-through kvs.
 * Returns NULL with err on failure.
 */
rd_kafka_conf_t *nc_kconf_new(const char *bootstrap, const char *client_id, nc_log *log,
                              const nc_kv *kvs, size_t nkvs, char *err, size_t errlen);

/*
 * librdkafka statistics for the clients nc_kconf_new creates from now on:
 * statistics.interval.ms = interval_ms (a pass-through property may override
 * it) and fn called with arg and each report's JSON on the thread that
 * polls the client (consumer: 1 for the consumer, 0 for the producer). newsclfd's lag
 * and queue metrics come from here, never from watermark queries
 * (docs/kafka.md #4460). Call before creating clients; NULL turns it off.
 */
typedef void (*nc_kconf_stats_fn)(void *arg, int consumer, const char *json, size_t len);
void nc_kconf_set_stats(nc_kconf_stats_fn fn, void *arg, int interval_ms);

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
