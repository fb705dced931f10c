/*
 * out.h - the producer: set-up (idempotent, acks=all; transactional
 * with kafka.delivery: exactly-once), delivery reports, produce with
 * backpressure on a full queue, and the output-topic check (metadata;
 * creation through the Admin API when asked to).
 *
 * Delivery reports are served by nc_kafka_out_poll() on the caller's thread
 * and handed to the owner's callback with the message opaque, so all delivery
 * bookkeeping happens on the pipeline's thread.
 */
#ifndef NC_KAFKA_OUT_H
#define NC_KAFKA_OUT_H

#include <librdkafka/rdkafka.h>
#include <signal.h>
#include <stddef.h>
#include <stdint.h>

#include "config/config.h"
#include "kafka/conf.h"
#include "base/log.h"

typedef struct nc_kafka_out nc_kafka_out;

/* One delivery report: opaque as given to nc_kafka_out_produce(). */
typedef void (*nc_kafka_dr_fn)(void *owner, void *opaque, rd_kafka_resp_err_t err,
                               const rd_kafka_message_t *m);

struct nc_kafka_out_opts {
    struct nc_kclient_opts client;
    nc_kafka_dr_fn dr; /* delivery reports; NULL: none */
    void *owner;       /* dr's first argument */
    /* A command-line tool's producer (newsclf reclassify): idempotent but
     * never transactional, whatever kafka.delivery says (it must not fence
     * the daemon's transactional.id); topic auto-creation and the message
     * timeout as librdkafka and the brokers have them. */
    int tool;
};

/* Exactly-once (and not a tool): transactional.id = kafka.group + "-" +
 * kafka.instance_id (required in that mode: nc_kafka_transactional_id). The
 * transactions are driven by the commit strategy (commit.h). */
int nc_kafka_out_new(const nc_config *cfg, const struct nc_kafka_out_opts *opts,
                     nc_kafka_out **out, char *err, size_t errlen);
/* Purges whatever is still queued (its reports are not delivered) and
 * destroys the producer. */
void nc_kafka_out_free(nc_kafka_out *o);

rd_kafka_t *nc_kafka_out_handle(nc_kafka_out *o);

/* Serves delivery reports and errors for up to timeout_ms. */
void nc_kafka_out_poll(nc_kafka_out *o, int timeout_ms);

/* Records produced but not yet acknowledged (or failed). */
int nc_kafka_out_pending(nc_kafka_out *o);

/*
 * Produces one record. key/value are copied; hdrs (may be NULL) is always
 * consumed (handed to librdkafka, or destroyed on failure). ts_ms <= 0 means
 * "now". When the local queue is full, serves delivery reports and retries
 * until it fits or *abort becomes non-zero. Returns 0 or the error.
 */
rd_kafka_resp_err_t nc_kafka_out_produce(nc_kafka_out *o, const char *topic, const void *key,
                                         size_t keylen, const void *value, size_t vlen,
                                         rd_kafka_headers_t *hdrs, int64_t ts_ms, void *opaque,
                                         const volatile sig_atomic_t *abort);

/*
 * Checks that every topic in topics[0..n) exists. With create, missing ones
 * are created (partitions, replication factor) through the Admin API.
 * A transactional producer is then readied once (init_transactions: fences
 * an earlier instance with the same transactional.id and aborts its open
 * transaction) - before the consumer exists, which must not fetch offsets
 * while that transaction is open.
 * Returns 0; -1 with err when topics are missing or cannot be created, or
 * authentication / TLS failed (wrong password, CA: retrying cannot help);
 * -2 with err when the brokers could not be reached within timeout_ms (the
 * caller may retry).
 */
int nc_kafka_out_check_topics(nc_kafka_out *o, const char *const *topics, size_t n, int create,
                              int partitions, int replication, int timeout_ms, char *err,
                              size_t errlen);

/* Non-zero once the producer raised a fatal error; its reason in err. */
int nc_kafka_out_fatal(nc_kafka_out *o, char *err, size_t errlen);

/* Non-zero for the exactly-once (transactional) producer. */
int nc_kafka_out_transactional(const nc_kafka_out *o);

/* The producer's message.max.bytes (largest record it will send). */
size_t nc_kafka_out_max_message_bytes(const nc_kafka_out *o);

#endif
