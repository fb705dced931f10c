/*
 * out.c - the idempotent (or transactional) producer and output-topic
 * checks (see out.h).
 */
#include "kafka/out.h"

#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kafka/bounds.h"
#include "kafka/conf.h"

struct nc_kafka_out {
    struct nc_kctx ctx; /* the client's opaque (kafka/conf.h) */
    rd_kafka_t *rk;
    nc_kafka_dr_fn dr;
    void *owner;
    atomic_int fatal;
    size_t max_message_bytes;
    size_t batch_size;          /* the producer's batch.size */
    rd_kafka_queue_t *limits_q; /* pending topic_limits_request, or NULL */
    int transactional; /* exactly-once: transactional.id set */
    int tool;          /* a command-line tool's producer (out.h) */
    int txn_ready;     /* init_transactions succeeded */
    /* Authentication or TLS failure seen (error callback, librdkafka's
     * thread): a wrong password or CA must end the start-up with a clear
     * reason, not a retry loop that looks like a broker outage. */
    atomic_int auth_failed;
    char auth_reason[256]; /* written before auth_failed is set */
};

static void on_delivery(rd_kafka_t *rk, const rd_kafka_message_t *m, void *opaque)
{
    nc_kafka_out *o = nc_kctx_owner(opaque);
    (void)rk;
    if (o->dr)
        o->dr(o->owner, m->_private, m->err, m);
}

static void on_error(rd_kafka_t *rk, int err, const char *reason, void *opaque)
{
    nc_kafka_out *o = nc_kctx_owner(opaque);
    char fatal[512];

    if (err == RD_KAFKA_RESP_ERR__FATAL) {
        /* docs/kafka.md #4438: after a broker loss the idempotent producer
         * of 2.0.2 may raise a fatal "sequence desynchronization". The
         * pipeline stops without storing offsets past unacknowledged
         * outputs; a restart creates a fresh producer. */
        rd_kafka_fatal_error(rk, fatal, sizeof(fatal));
        nc_log_error(o->ctx.log, "producer fatal error: %s", fatal);
        atomic_store(&o->fatal, 1);
        return;
    }
    if ((err == RD_KAFKA_RESP_ERR__AUTHENTICATION || err == RD_KAFKA_RESP_ERR__SSL) &&
        !atomic_load(&o->auth_failed)) {
        snprintf(o->auth_reason, sizeof(o->auth_reason), "%s", reason);
        atomic_store(&o->auth_failed, 1);
    }
    if (err == RD_KAFKA_RESP_ERR__ALL_BROKERS_DOWN || err == RD_KAFKA_RESP_ERR__TRANSPORT)
        nc_log_warn(o->ctx.log, "producer: %s (retrying)", reason);
    else
        nc_log_warn(o->ctx.log, "producer error=%s: %s",
                    rd_kafka_err2name((rd_kafka_resp_err_t)err), reason);
}

/* A numeric property of conf, or dflt when it cannot be read or is not
 * positive. */
static long long conf_num(const rd_kafka_conf_t *conf, const char *key, long long dflt)
{
    char buf[64];
    size_t n = sizeof(buf);
    if (rd_kafka_conf_get(conf, key, buf, &n) != RD_KAFKA_CONF_OK)
        return dflt;
    long long v = strtoll(buf, NULL, 10);
    return v > 0 ? v : dflt;
}

/* The daemon's producer queue bound, derived from limits.max_inflight_bytes
 * unless kafka.producer sets it (kafka/bounds.h). */
static int set_queue_bound(const nc_kafka_out *o, rd_kafka_conf_t *conf, const nc_config *cfg,
                           const nc_kv *kv, size_t nkv, char *err, size_t errlen)
{
    char num[32];
    if (o->tool || nc_kv_has(kv, nkv, "queue.buffering.max.kbytes"))
        return 0;
    snprintf(num, sizeof(num), "%d", nc_bounds_producer_kbytes(cfg, o->max_message_bytes));
    return nc_kconf_set(conf, "queue.buffering.max.kbytes", num, err, errlen);
}

/* Latency default, unless kafka.producer sets it (config/newsclf.yaml,
 * kafka section): a record waits at most 1 ms for others to share its
 * batch (librdkafka: 5 ms). Under load batches still fill (batch.size,
 * batch.num.messages) while earlier requests are in flight, so throughput
 * does not depend on it. The CLI tools keep their own linger.ms. */
static int set_linger(const nc_kafka_out *o, rd_kafka_conf_t *conf, const nc_kv *kv, size_t nkv,
                      char *err, size_t errlen)
{
    if (o->tool || nc_kv_has(kv, nkv, "linger.ms") || nc_kv_has(kv, nkv, "queue.buffering.max.ms"))
        return 0;
    return nc_kconf_set(conf, "linger.ms", "1", err, errlen);
}

/* Our guarantees, after the pass-through maps so they always win. */
static int set_guarantees(nc_kafka_out *o, rd_kafka_conf_t *conf, const nc_kv *kv, size_t nkv,
                          const char *txn_id, char *err, size_t errlen)
{
    int timeout_set =
        nc_kv_has(kv, nkv, "message.timeout.ms") || nc_kv_has(kv, nkv, "delivery.timeout.ms");

    /* An unset message timeout means "retry for ever": a retriable error
     * (broker away) is never turned into a lost message. */
    if (nc_kconf_set(conf, "enable.idempotence", "true", err, errlen) ||
        nc_kconf_set(conf, "acks", "all", err, errlen))
        return -1;
    if (o->tool) /* topics as the brokers have them; librdkafka's timeout */
        return 0;
    /* Topics are never auto-created by a metadata request: a missing output
     * is an error. */
    if (nc_kconf_set(conf, "allow.auto.create.topics", "false", err, errlen))
        return -1;
    if (!o->transactional)
        return timeout_set ? 0 : nc_kconf_set(conf, "message.timeout.ms", "0", err, errlen);
    /* Exactly-once: a message may not outlive its transaction; librdkafka
     * bounds message.timeout.ms by transaction.timeout.ms itself. A
     * message that times out aborts the transaction, and its input is
     * processed again (commit.h): still nothing lost. */
    if (nc_kconf_set(conf, "transactional.id", txn_id, err, errlen))
        return -1;
    /* ... but librdkafka's bound is the transaction timeout itself: a
     * message stuck in retries (seen after a record refused as too large)
     * then keeps abort_transaction waiting until the coordinator has
     * expired the transaction and fenced this producer. Unless set, a
     * message gets half the transaction timeout, so the abort ends first. */
    if (!timeout_set) {
        long long ttm = conf_num(conf, "transaction.timeout.ms", 60000);
        char mt[32];
        snprintf(mt, sizeof(mt), "%lld", ttm / 2 > 1000 ? ttm / 2 : 1000);
        if (nc_kconf_set(conf, "message.timeout.ms", mt, err, errlen))
            return -1;
    }
    return 0;
}

int nc_kafka_out_new(const nc_config *cfg, const struct nc_kafka_out_opts *opts,
                     nc_kafka_out **out, char *err, size_t errlen)
{
    const struct nc_kclient_opts *co = &opts->client;
    nc_kafka_out *o = NULL;
    rd_kafka_conf_t *conf = NULL;
    char errstr[512], txn_id[512];
    const nc_kv *kv = cfg->kafka.producer;
    size_t nkv = cfg->kafka.n_producer;

    *out = NULL;
    o = calloc(1, sizeof(*o));
    if (!o) {
        snprintf(err, errlen, "out of memory");
        goto fail;
    }
    o->dr = opts->dr;
    o->owner = opts->owner;
    o->tool = opts->tool;
    atomic_init(&o->fatal, 0);
    atomic_init(&o->auth_failed, 0);
    if (!o->tool && cfg->kafka.delivery == NC_DELIVERY_EXACTLY_ONCE) {
        if (nc_kafka_transactional_id(cfg, txn_id, sizeof(txn_id), err, errlen) != 0)
            goto fail;
        o->transactional = 1;
    }
    conf = nc_kconf_new(co, cfg->kafka.client_id, kv, nkv, &o->ctx, o, err, errlen);
    if (!conf)
        goto fail;
    o->max_message_bytes = (size_t)conf_num(conf, "message.max.bytes", 1000000);
    o->batch_size = (size_t)conf_num(conf, "batch.size", 0);
    rd_kafka_conf_set_dr_msg_cb(conf, on_delivery);
    rd_kafka_conf_set_error_cb(conf, on_error);
    if (set_queue_bound(o, conf, cfg, kv, nkv, err, errlen) == 0 &&
        set_linger(o, conf, kv, nkv, err, errlen) == 0 &&
        set_guarantees(o, conf, kv, nkv, txn_id, err, errlen) == 0)
        o->rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, errstr, sizeof(errstr));
    else
        errstr[0] = '\0';
    if (!o->rk) {
        rd_kafka_conf_destroy(conf); /* not taken over */
        if (errstr[0])
            snprintf(err, errlen, "cannot create the producer: %s", errstr);
        goto fail;
    }
    if (o->transactional)
        nc_log_info(co->log, "exactly-once: transactional.id=%s", txn_id);
    *out = o;
    return 0;
fail:
    free(o);
    return -1;
}

void nc_kafka_out_free(nc_kafka_out *o)
{
    if (!o)
        return;
    if (o->rk) {
        /* Reports of purged messages must not reach the owner: it may be
         * gone already, and nothing is stored for them anyway. */
        o->dr = NULL;
        if (o->limits_q)
            rd_kafka_queue_destroy(o->limits_q);
        rd_kafka_purge(o->rk, RD_KAFKA_PURGE_F_QUEUE | RD_KAFKA_PURGE_F_INFLIGHT);
        rd_kafka_poll(o->rk, 0);
        rd_kafka_destroy(o->rk);
    }
    free(o);
}

rd_kafka_t *nc_kafka_out_handle(nc_kafka_out *o)
{
    return o->rk;
}

static void topic_limits_poll(nc_kafka_out *o);

void nc_kafka_out_poll(nc_kafka_out *o, int timeout_ms)
{
    rd_kafka_poll(o->rk, timeout_ms);
    topic_limits_poll(o);
}

int nc_kafka_out_pending(nc_kafka_out *o)
{
    return rd_kafka_outq_len(o->rk);
}

rd_kafka_resp_err_t nc_kafka_out_produce(nc_kafka_out *o, const char *topic, const void *key,
                                         size_t keylen, const void *value, size_t vlen,
                                         rd_kafka_headers_t *hdrs, int64_t ts_ms, void *opaque,
                                         const volatile sig_atomic_t *abort)
{
    rd_kafka_resp_err_t r;
    int warned = 0;

    for (;;) {
        r = rd_kafka_producev(
            o->rk, RD_KAFKA_V_TOPIC(topic), RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
            RD_KAFKA_V_KEY((void *)key, keylen), RD_KAFKA_V_VALUE((void *)value, vlen),
            RD_KAFKA_V_TIMESTAMP(ts_ms > 0 ? ts_ms : 0), RD_KAFKA_V_HEADERS(hdrs),
            RD_KAFKA_V_OPAQUE(opaque), RD_KAFKA_V_END);
        if (r != RD_KAFKA_RESP_ERR__QUEUE_FULL)
            break;
        /* Local queue full: serve delivery reports until there is room
         * (librdkafka's examples do the same). */
        if (!warned++)
            nc_log_debug(o->ctx.log, "producer queue full topic=%s: waiting", topic);
        if ((abort && *abort) || atomic_load(&o->fatal))
            break;
        rd_kafka_poll(o->rk, 100);
    }
    if (r && hdrs)
        rd_kafka_headers_destroy(hdrs);
    return r;
}

static int topic_in_metadata(const struct rd_kafka_metadata *md, const char *name)
{
    for (int i = 0; i < md->topic_cnt; i++)
        if (!strcmp(md->topics[i].topic, name))
            return md->topics[i].err == RD_KAFKA_RESP_ERR_NO_ERROR;
    return 0;
}

static int create_topics(nc_kafka_out *o, const char *const *names, size_t n, int partitions,
                         int replication, int timeout_ms, char *err, size_t errlen)
{
    rd_kafka_NewTopic_t **nt = calloc(n ? n : 1, sizeof(rd_kafka_NewTopic_t *));
    rd_kafka_queue_t *q = rd_kafka_queue_new(o->rk);
    rd_kafka_AdminOptions_t *opts =
        rd_kafka_AdminOptions_new(o->rk, RD_KAFKA_ADMIN_OP_CREATETOPICS);
    rd_kafka_event_t *ev = NULL;
    char errstr[512];
    int rc = -1;

    if (!nt || !q || !opts) {
        snprintf(err, errlen, "out of memory");
        goto done;
    }
    rd_kafka_AdminOptions_set_operation_timeout(opts, timeout_ms, errstr, sizeof(errstr));
    rd_kafka_AdminOptions_set_request_timeout(opts, timeout_ms, errstr, sizeof(errstr));
    for (size_t i = 0; i < n; i++) {
        nt[i] = rd_kafka_NewTopic_new(names[i], partitions, replication, errstr, sizeof(errstr));
        if (!nt[i]) {
            snprintf(err, errlen, "cannot create topic %s: %s", names[i], errstr);
            goto done;
        }
    }
    rd_kafka_CreateTopics(o->rk, nt, n, opts, q);
    ev = rd_kafka_queue_poll(q, timeout_ms + 1000);
    if (!ev) {
        snprintf(err, errlen, "creating topics timed out");
        goto done;
    }
    if (rd_kafka_event_error(ev)) {
        snprintf(err, errlen, "cannot create topics: %s", rd_kafka_event_error_string(ev));
        goto done;
    } else {
        const rd_kafka_CreateTopics_result_t *res = rd_kafka_event_CreateTopics_result(ev);
        size_t cnt = 0;
        const rd_kafka_topic_result_t **tr = rd_kafka_CreateTopics_result_topics(res, &cnt);
        for (size_t i = 0; i < cnt; i++) {
            rd_kafka_resp_err_t e = rd_kafka_topic_result_error(tr[i]);
            if (e && e != RD_KAFKA_RESP_ERR_TOPIC_ALREADY_EXISTS) {
                snprintf(err, errlen, "cannot create topic %s: %s",
                         rd_kafka_topic_result_name(tr[i]),
                         rd_kafka_topic_result_error_string(tr[i]));
                goto done;
            }
            nc_log_info(o->ctx.log, "created topic=%s partitions=%d replication=%d",
                        rd_kafka_topic_result_name(tr[i]), partitions, replication);
        }
    }
    rc = 0;
done:
    if (ev)
        rd_kafka_event_destroy(ev);
    if (nt) {
        for (size_t i = 0; i < n; i++)
            if (nt[i])
                rd_kafka_NewTopic_destroy(nt[i]);
        free(nt);
    }
    if (opts)
        rd_kafka_AdminOptions_destroy(opts);
    if (q)
        rd_kafka_queue_destroy(q);
    return rc;
}

/*
 * Exactly-once, once: fences any earlier producer with our transactional.id
 * and completes (aborts) its open transaction. This must come before the
 * consumer fetches committed offsets: until then the group coordinator
 * answers UNSTABLE_OFFSET_COMMIT for partitions of that transaction
 * (docs/kafka.md, exactly-once). 0, -2 (retriable, with err) or -1.
 */
static int init_transactions(nc_kafka_out *o, int timeout_ms, char *err, size_t errlen)
{
    rd_kafka_error_t *e;
    int rc;

    if (!o->transactional || o->txn_ready)
        return 0;
    e = rd_kafka_init_transactions(o->rk, timeout_ms);
    if (!e) {
        o->txn_ready = 1;
        nc_log_info(o->ctx.log, "transactions initialised");
        return 0;
    }
    rc = rd_kafka_error_is_retriable(e) ? -2 : -1;
    snprintf(err, errlen, "init_transactions: %s (%s)", rd_kafka_error_string(e),
             rd_kafka_error_name(e));
    rd_kafka_error_destroy(e);
    return rc;
}

/*
 * Warns about each output topic whose max.message.bytes is below the
 * producer's batch.size: the broker checks that limit against whole record
 * batches and librdkafka does not split a refused batch, so small outputs
 * batched with one too large for the topic would be refused (and
 * dead-lettered) with it. Best effort and asynchronous: the DescribeConfigs
 * request goes out after the topic check and its answer is read by
 * nc_kafka_out_poll (the mock cluster never answers it: only a debug line).
 */
static void topic_limits_request(nc_kafka_out *o, const char *const *names, size_t n,
                                 int timeout_ms)
{
    rd_kafka_ConfigResource_t **res = calloc(n ? n : 1, sizeof(rd_kafka_ConfigResource_t *));
    rd_kafka_AdminOptions_t *opts =
        rd_kafka_AdminOptions_new(o->rk, RD_KAFKA_ADMIN_OP_DESCRIBECONFIGS);
    char errstr[512];
    size_t nres = 0;

    if (o->limits_q) /* an earlier check's answer no longer matters */
        rd_kafka_queue_destroy(o->limits_q);
    o->limits_q = NULL;
    if (res && opts && o->batch_size > 0 && (o->limits_q = rd_kafka_queue_new(o->rk))) {
        rd_kafka_AdminOptions_set_request_timeout(opts, timeout_ms, errstr, sizeof(errstr));
        for (size_t i = 0; i < n; i++) {
            int dup = 0;
            for (size_t j = 0; j < i; j++)
                dup |= !strcmp(names[i], names[j]);
            if (!dup &&
                (res[nres] = rd_kafka_ConfigResource_new(RD_KAFKA_RESOURCE_TOPIC, names[i])))
                nres++;
        }
        rd_kafka_DescribeConfigs(o->rk, res, nres, opts, o->limits_q); /* copies res */
    }
    for (size_t i = 0; i < nres; i++)
        rd_kafka_ConfigResource_destroy(res[i]);
    free(res);
    if (opts)
        rd_kafka_AdminOptions_destroy(opts);
}

static void topic_limits_poll(nc_kafka_out *o)
{
    rd_kafka_event_t *ev = o->limits_q ? rd_kafka_queue_poll(o->limits_q, 0) : NULL;
    if (!ev)
        return;
    const rd_kafka_DescribeConfigs_result_t *r = rd_kafka_event_DescribeConfigs_result(ev);
    size_t cnt = 0;
    const rd_kafka_ConfigResource_t **rs =
        r && !rd_kafka_event_error(ev) ? rd_kafka_DescribeConfigs_result_resources(r, &cnt) : NULL;
    if (!rs)
        nc_log_debug(o->ctx.log, "cannot read the output topics' max.message.bytes: %s",
                     rd_kafka_event_error_string(ev));
    for (size_t i = 0; rs && i < cnt; i++) {
        size_t ne = 0;
        const rd_kafka_ConfigEntry_t **ce =
            rd_kafka_ConfigResource_error(rs[i]) ? NULL
                                                 : rd_kafka_ConfigResource_configs(rs[i], &ne);
        for (size_t k = 0; k < ne; k++) {
            const char *v = rd_kafka_ConfigEntry_value(ce[k]);
            if (strcmp(rd_kafka_ConfigEntry_name(ce[k]), "max.message.bytes") != 0 || !v)
                continue;
            size_t limit = (size_t)strtoull(v, NULL, 10);
            if (limit > 0 && limit < o->batch_size)
                nc_log_warn(o->ctx.log,
                            "output topic %s takes record batches of at most %zu bytes "
                            "(max.message.bytes) but batch.size is %zu: outputs batched with one "
                            "too large for the topic are refused and dead-lettered with it; set "
                            "kafka.producer.batch.size below %zu",
                            rd_kafka_ConfigResource_name(rs[i]), limit, o->batch_size, limit);
        }
    }
    rd_kafka_event_destroy(ev);
    rd_kafka_queue_destroy(o->limits_q);
    o->limits_q = NULL;
}

int nc_kafka_out_check_topics(nc_kafka_out *o, const char *const *topics, size_t n, int create,
                              int partitions, int replication, int timeout_ms, char *err,
                              size_t errlen)
{
    const struct rd_kafka_metadata *md = NULL;
    const char **missing = NULL;
    size_t nmissing = 0, off = 0;
    rd_kafka_resp_err_t r;
    int rc = -1;

    /* All topics: a request naming a topic may create it on brokers with
     * auto.create.topics.enable, and a missing output must be an error. */
    r = rd_kafka_metadata(o->rk, 1, NULL, &md, timeout_ms);
    if (r) {
        /* Error events wait in the main queue until a poll serves them to
         * on_error: serve them to learn why. */
        rd_kafka_poll(o->rk, 0);
        if (atomic_load(&o->auth_failed)) {
            /* Credentials or certificates are wrong: retrying cannot help. */
            snprintf(err, errlen,
                     "cannot connect to the brokers: %s (check the security.protocol, sasl.* "
                     "and ssl.* properties of kafka.producer and kafka.consumer)",
                     o->auth_reason);
            return -1;
        }
        char brokers[512];
        snprintf(err, errlen, "cannot reach the brokers: cannot read the cluster's metadata from "
                 "%s: %s",
                 nc_kconf_bootstrap(o->rk, brokers, sizeof(brokers)), rd_kafka_err2str(r));
        return -2;
    }
    missing = calloc(n ? n : 1, sizeof(*missing));
    if (!missing) {
        snprintf(err, errlen, "out of memory");
        goto done;
    }
    for (size_t i = 0; i < n; i++) {
        int dup = 0;
        for (size_t j = 0; j < nmissing; j++)
            dup |= !strcmp(missing[j], topics[i]);
        if (!dup && !topic_in_metadata(md, topics[i]))
            missing[nmissing++] = topics[i];
    }
    if (nmissing == 0 || create) {
        rc = nmissing ? create_topics(o, missing, nmissing, partitions, replication, timeout_ms,
                                      err, errlen)
                      : 0;
        if (rc == 0) {
            topic_limits_request(o, topics, n, timeout_ms);
            rc = init_transactions(o, timeout_ms, err, errlen);
        }
        goto done;
    }
    off = (size_t)snprintf(err, errlen,
                           "output topic%s missing (create %s or set "
                           "outputs.create_topics: true):",
                           nmissing > 1 ? "s" : "", nmissing > 1 ? "them" : "it");
    for (size_t i = 0; i < nmissing && off < errlen; i++)
        off += (size_t)snprintf(err + off, errlen - off, " %s", missing[i]);
done:
    free(missing);
    if (md)
        rd_kafka_metadata_destroy(md);
    return rc;
}

int nc_kafka_out_fatal(nc_kafka_out *o, char *err, size_t errlen)
{
    char why[512];
    rd_kafka_resp_err_t r;
    int fenced;

    if (!atomic_load(&o->fatal))
        return 0;
    r = rd_kafka_fatal_error(o->rk, why, sizeof(why));
    fenced = o->transactional && (r == RD_KAFKA_RESP_ERR_PRODUCER_FENCED ||
                                  r == RD_KAFKA_RESP_ERR_INVALID_PRODUCER_EPOCH);
    snprintf(err, errlen, "%s%s", why,
             fenced ? " (fenced: a newer producer with this transactional.id exists - another "
                      "newsclfd runs with the same kafka.group and kafka.instance_id)"
                    : "");
    return 1;
}

int nc_kafka_out_transactional(const nc_kafka_out *o)
{
    return o->transactional;
}

size_t nc_kafka_out_max_message_bytes(const nc_kafka_out *o)
{
    return o->max_message_bytes;
}
