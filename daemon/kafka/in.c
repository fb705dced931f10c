/*
 * in.c - consumer set-up, rebalances, commits, bounded close (see
 * in.h).
 */
#include "kafka/in.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "kafka/bounds.h"
#include "kafka/conf.h"
#include "base/clock.h"

struct nc_kafka_in {
    struct nc_kctx ctx; /* the client's opaque (kafka/conf.h) */
    rd_kafka_t *rk;
    struct nc_kafka_in_hooks hooks;
    int ever_assigned;
    int subscribed;  /* a group member (nc_kafka_in_new), not a tool's consumer */
    int joined;      /* a rebalance callback has run: the assignor has its state */
    int closing;     /* inside nc_kafka_in_close */
    int hooks_off;   /* the first assignment came during the close: not the owner's */
    int brokers_down; /* the last error said every broker is down */
    int abandoned;   /* the close could not finish: never destroy the handle */
    int closed;
    int reset; /* where a partition without a committed offset starts: 0 beginning,
                * 1 end, -1 error (auto.offset.reset) */
};

static void on_rebalance(rd_kafka_t *rk, rd_kafka_resp_err_t err,
                         rd_kafka_topic_partition_list_t *parts, void *opaque)
{
    nc_kafka_in *in = nc_kctx_owner(opaque);
    int cooperative = !strcmp(rd_kafka_rebalance_protocol(rk), "COOPERATIVE");
    rd_kafka_error_t *e = NULL;
    rd_kafka_resp_err_t r = RD_KAFKA_RESP_ERR_NO_ERROR;

    in->joined = 1;
    if (err == RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS && in->closing && !in->ever_assigned)
        in->hooks_off = 1; /* the owner consumes nothing more: keep it out */
    if (err == RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS) {
        nc_log_info(in->ctx.log, "partitions assigned count=%d protocol=%s", parts->cnt,
                    rd_kafka_rebalance_protocol(rk));
        for (int i = 0; i < parts->cnt; i++)
            nc_log_debug(in->ctx.log, "assigned topic=%s partition=%d", parts->elems[i].topic,
                         (int)parts->elems[i].partition);
        if (in->hooks.assigned && !in->hooks_off)
            in->hooks.assigned(in->hooks.owner, parts);
        if (cooperative)
            e = rd_kafka_incremental_assign(rk, parts);
        else
            r = rd_kafka_assign(rk, parts);
        if (parts->cnt > 0)
            in->ever_assigned = 1;
    } else {
        int lost = err != RD_KAFKA_RESP_ERR__REVOKE_PARTITIONS || rd_kafka_assignment_lost(rk);
        if (err != RD_KAFKA_RESP_ERR__REVOKE_PARTITIONS)
            nc_log_error(in->ctx.log, "rebalance error: %s", rd_kafka_err2str(err));
        nc_log_info(in->ctx.log, "partitions revoked count=%d lost=%d", parts->cnt, lost);
        if (in->hooks.revoking && !in->hooks_off)
            in->hooks.revoking(in->hooks.owner, parts, lost);
        if (cooperative)
            e = rd_kafka_incremental_unassign(rk, parts);
        else
            r = rd_kafka_assign(rk, NULL);
    }
    if (e) {
        nc_log_error(in->ctx.log, "rebalance: %s", rd_kafka_error_string(e));
        rd_kafka_error_destroy(e);
    } else if (r) {
        nc_log_error(in->ctx.log, "rebalance: %s", rd_kafka_err2str(r));
    }
}

static void on_error(rd_kafka_t *rk, int err, const char *reason, void *opaque)
{
    nc_kafka_in *in = nc_kctx_owner(opaque);
    (void)rk;
    if (err == RD_KAFKA_RESP_ERR__ALL_BROKERS_DOWN)
        in->brokers_down = 1; /* settle_join asks again */
    nc_log_warn(in->ctx.log, "consumer error=%s: %s", rd_kafka_err2name((rd_kafka_resp_err_t)err),
                reason);
}

static void on_commit(rd_kafka_t *rk, rd_kafka_resp_err_t err,
                      rd_kafka_topic_partition_list_t *offsets, void *opaque)
{
    nc_kafka_in *in = nc_kctx_owner(opaque);
    (void)rk;
    if (err && err != RD_KAFKA_RESP_ERR__NO_OFFSET) {
        nc_log_warn(in->ctx.log, "offset commit failed: %s", rd_kafka_err2str(err));
        return;
    }
    for (int i = 0; offsets && i < offsets->cnt; i++)
        if (offsets->elems[i].err)
            nc_log_warn(in->ctx.log, "offset commit failed topic=%s partition=%d offset=%lld: %s",
                        offsets->elems[i].topic, (int)offsets->elems[i].partition,
                        (long long)offsets->elems[i].offset,
                        rd_kafka_err2str(offsets->elems[i].err));
}

static int reset_policy(const nc_kv *kvs, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        const char *v = kvs[i].value;
        if (strcmp(kvs[i].key, "auto.offset.reset") != 0)
            continue;
        if (!strcmp(v, "latest") || !strcmp(v, "largest") || !strcmp(v, "end"))
            return 1;
        if (!strcmp(v, "error"))
            return -1;
    }
    return 0;
}

/* Allocates in and creates its conf (opts, the config's kafka.consumer map). */
static rd_kafka_conf_t *in_alloc(const nc_config *cfg, const struct nc_kclient_opts *o,
                                 const struct nc_kafka_in_hooks *hooks, nc_kafka_in **inp,
                                 char *err, size_t errlen)
{
    nc_kafka_in *in = calloc(1, sizeof(*in));
    rd_kafka_conf_t *conf;

    *inp = in;
    if (!in) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    if (hooks)
        in->hooks = *hooks;
    conf = nc_kconf_new(o, cfg->kafka.client_id, cfg->kafka.consumer, cfg->kafka.n_consumer,
                        &in->ctx, in, err, errlen);
    if (conf) {
        rd_kafka_conf_set_rebalance_cb(conf, on_rebalance);
        rd_kafka_conf_set_error_cb(conf, on_error);
        rd_kafka_conf_set_offset_commit_cb(conf, on_commit);
    }
    return conf;
}

/* Creates in's consumer from conf (always taken over). */
static int in_start(nc_kafka_in *in, rd_kafka_conf_t *conf, char *err, size_t errlen)
{
    char errstr[512];

    in->rk = rd_kafka_new(RD_KAFKA_CONSUMER, conf, errstr, sizeof(errstr));
    if (!in->rk) {
        rd_kafka_conf_destroy(conf);
        snprintf(err, errlen, "cannot create the consumer: %s", errstr);
        return -1;
    }
    rd_kafka_poll_set_consumer(in->rk);
    return 0;
}

/* Frees in after a failed set-up (conf, when not taken over yet). */
static int in_fail(nc_kafka_in *in, rd_kafka_conf_t *conf)
{
    if (conf)
        rd_kafka_conf_destroy(conf);
    if (in && in->rk) {
        in->closed = 1;
        nc_kafka_in_free(in);
    } else {
        free(in);
    }
    return -1;
}

/* Sets static membership's group.instance.id. */
static int set_instance(rd_kafka_conf_t *conf, const nc_config *cfg, char *err, size_t errlen)
{
    char instance[256];

    /* Exactly-once requires kafka.instance_id (nc_kafka_out_new checks
     * it first): a host name is not stable enough to fence with. */
    if (cfg->kafka.instance_id[0]) {
        snprintf(instance, sizeof(instance), "%s", cfg->kafka.instance_id);
    } else {
        if (gethostname(instance, sizeof(instance) - 1) != 0)
            snprintf(instance, sizeof(instance), "newsclfd");
        instance[sizeof(instance) - 1] = '\0';
    }
    return nc_kconf_set(conf, "group.instance.id", instance, err, errlen);
}

int nc_kafka_in_new(const nc_config *cfg, const struct nc_kclient_opts *o,
                    const struct nc_kafka_in_hooks *hooks, nc_kafka_in **out, char *err,
                    size_t errlen)
{
    nc_kafka_in *in = NULL;
    rd_kafka_conf_t *conf;
    rd_kafka_topic_partition_list_t *topics;
    const nc_kv *kv = cfg->kafka.consumer;
    size_t nkv = cfg->kafka.n_consumer;
    char num[32];
    rd_kafka_resp_err_t r;
    int eos = cfg->kafka.delivery == NC_DELIVERY_EXACTLY_ONCE;

    *out = NULL;
    conf = in_alloc(cfg, o, hooks, &in, err, errlen);
    if (!conf)
        return in_fail(in, NULL);
    snprintf(num, sizeof(num), "%d", nc_bounds_prefetch_kbytes(cfg));
    /* Offsets are stored only behind the pipeline's watermark; auto-commit
     * then commits what was stored (and only that). Exactly-once commits
     * offsets only inside transactions (commit.h): no auto-commit at all. */
    if (nc_kconf_set(conf, "group.id", cfg->kafka.group, err, errlen) ||
        nc_kconf_set(conf, "partition.assignment.strategy", "cooperative-sticky", err, errlen) ||
        nc_kconf_set(conf, "enable.auto.offset.store", "false", err, errlen) ||
        nc_kconf_set(conf, "enable.auto.commit", eos ? "false" : "true", err, errlen) ||
        nc_kconf_set(conf, "isolation.level", "read_committed", err, errlen) ||
        nc_kconf_set(conf, "queued.max.messages.kbytes", num, err, errlen))
        return in_fail(in, conf);
    /* Commit the stored offsets about every second (librdkafka: 5 s), so a
     * daemon that dies soon after a start still moves its group forward;
     * revokes and the shutdown commit at once (kafka/commit.h). */
    if (!eos && !nc_kv_has(kv, nkv, "auto.commit.interval.ms") &&
        nc_kconf_set(conf, "auto.commit.interval.ms", "1000", err, errlen))
        return in_fail(in, conf);
    /* A news stream read for the first time should be read from its start. */
    if (!nc_kv_has(kv, nkv, "auto.offset.reset") &&
        nc_kconf_set(conf, "auto.offset.reset", "earliest", err, errlen))
        return in_fail(in, conf);
    in->reset = reset_policy(kv, nkv);
    if (cfg->kafka.static_membership && set_instance(conf, cfg, err, errlen))
        return in_fail(in, conf);
    if (in_start(in, conf, err, errlen) != 0)
        return in_fail(in, NULL);
    topics = rd_kafka_topic_partition_list_new((int)cfg->kafka.n_input_topics);
    for (size_t i = 0; i < cfg->kafka.n_input_topics; i++)
        rd_kafka_topic_partition_list_add(topics, cfg->kafka.input_topics[i],
                                          RD_KAFKA_PARTITION_UA);
    r = rd_kafka_subscribe(in->rk, topics);
    rd_kafka_topic_partition_list_destroy(topics);
    if (r) {
        snprintf(err, errlen, "cannot subscribe: %s", rd_kafka_err2str(r));
        return in_fail(in, NULL);
    }
    in->subscribed = 1;
    *out = in;
    return 0;
}

int nc_kafka_in_new_tool(const nc_config *cfg, const struct nc_kclient_opts *o, const char *group,
                         const nc_kv *settings, size_t nsettings, nc_kafka_in **out, char *err,
                         size_t errlen)
{
    nc_kafka_in *in = NULL;
    rd_kafka_conf_t *conf;
    char id[256], host[64] = "host";

    *out = NULL;
    conf = in_alloc(cfg, o, NULL, &in, err, errlen);
    if (!conf)
        return in_fail(in, NULL);
    if (!group) {
        /* librdkafka's consumer needs a group.id even when it only
         * assign()s: a unique, throw-away one that is never joined or
         * committed to, so the brokers keep no state for it. */
        gethostname(host, sizeof(host) - 1);
        host[sizeof(host) - 1] = '\0';
        snprintf(id, sizeof(id), "%s-%s-%ld-%lld", o->client_id ? o->client_id : "newsclf", host,
                 (long)getpid(), (long long)nc_wall_ms());
        group = id;
    }
    if (nc_kconf_set(conf, "group.id", group, err, errlen))
        return in_fail(in, conf);
    for (size_t i = 0; i < nsettings; i++)
        if (nc_kconf_set(conf, settings[i].key, settings[i].value, err, errlen))
            return in_fail(in, conf);
    if (in_start(in, conf, err, errlen) != 0)
        return in_fail(in, NULL);
    *out = in;
    return 0;
}

void nc_kafka_in_free(nc_kafka_in *in)
{
    if (!in)
        return;
    /* The close (bounded) was done by nc_kafka_in_close or deliberately
     * skipped; never let destroy run an unbounded one (docs/kafka.md #4528). */
    if (in->rk && in->abandoned) {
        /* docs/kafka.md, "Closing before the first assignment": destroying
         * now would wait for the group's answer without a bound, or abort.
         * The process is ending; the handle stays with it. */
        nc_log_warn(in->ctx.log, "consumer left undestroyed: its group join never settled");
        return;
    }
    if (in->rk)
        rd_kafka_destroy_flags(in->rk, RD_KAFKA_DESTROY_F_NO_CONSUMER_CLOSE);
    free(in);
}

rd_kafka_t *nc_kafka_in_handle(nc_kafka_in *in)
{
    return in->rk;
}

rd_kafka_message_t *nc_kafka_in_poll(nc_kafka_in *in, int timeout_ms)
{
    return rd_kafka_consumer_poll(in->rk, timeout_ms);
}

rd_kafka_resp_err_t nc_kafka_in_assign(nc_kafka_in *in,
                                       const rd_kafka_topic_partition_list_t *parts)
{
    rd_kafka_resp_err_t r = rd_kafka_assign(in->rk, parts);
    if (!r && parts && parts->cnt > 0)
        in->ever_assigned = 1;
    return r;
}

int nc_kafka_in_pause(nc_kafka_in *in, const char *topic, int32_t partition, int pause)
{
    rd_kafka_topic_partition_list_t *l = rd_kafka_topic_partition_list_new(1);
    rd_kafka_resp_err_t r;

    rd_kafka_topic_partition_list_add(l, topic, partition);
    r = pause ? rd_kafka_pause_partitions(in->rk, l) : rd_kafka_resume_partitions(in->rk, l);
    if (!r && l->elems[0].err)
        r = l->elems[0].err;
    rd_kafka_topic_partition_list_destroy(l);
    if (r)
        nc_log_warn(in->ctx.log, "%s topic=%s partition=%d: %s", pause ? "pause" : "resume", topic,
                    (int)partition, rd_kafka_err2str(r));
    return r ? -1 : 0;
}

int nc_kafka_in_commit(nc_kafka_in *in, int timeout_ms, char *err, size_t errlen)
{
    rd_kafka_queue_t *q = rd_kafka_queue_new(in->rk);
    rd_kafka_event_t *ev;
    rd_kafka_resp_err_t r;
    int rc = -1;

    r = rd_kafka_commit_queue(in->rk, NULL, q, NULL, NULL);
    if (r) {
        if (r == RD_KAFKA_RESP_ERR__NO_OFFSET)
            rc = 0;
        else
            snprintf(err, errlen, "commit: %s", rd_kafka_err2str(r));
        goto done;
    }
    ev = rd_kafka_queue_poll(q, timeout_ms < 0 ? 0 : timeout_ms);
    if (!ev) {
        snprintf(err, errlen, "commit: no answer within %d ms", timeout_ms);
        goto done;
    }
    r = rd_kafka_event_error(ev);
    if (r == RD_KAFKA_RESP_ERR_NO_ERROR || r == RD_KAFKA_RESP_ERR__NO_OFFSET) {
        rc = 0;
        on_commit(in->rk, r,
                  (rd_kafka_topic_partition_list_t *)rd_kafka_event_topic_partition_list(ev), in);
    } else {
        snprintf(err, errlen, "commit: %s", rd_kafka_err2str(r));
    }
    rd_kafka_event_destroy(ev);
done:
    rd_kafka_queue_destroy(q);
    return rc;
}

int nc_kafka_in_rewind(nc_kafka_in *in, int timeout_ms, char *err, size_t errlen)
{
    rd_kafka_topic_partition_list_t *parts = NULL;
    rd_kafka_error_t *e;
    rd_kafka_resp_err_t r;
    int n = 0, rc = -1;

    r = rd_kafka_assignment(in->rk, &parts);
    if (r) {
        snprintf(err, errlen, "rewind: assignment: %s", rd_kafka_err2str(r));
        goto done;
    }
    if (parts->cnt == 0) {
        rc = 0;
        goto done;
    }
    /* The broker is the truth: our own last commit, or the previous
     * owner's (as in librdkafka's examples/transactions.c). With
     * read_committed, librdkafka waits out UNSTABLE_OFFSET_COMMIT (a commit
     * still being completed). */
    r = rd_kafka_committed(in->rk, parts, timeout_ms);
    if (r) {
        snprintf(err, errlen, "rewind: cannot fetch the committed offsets within %d ms: %s",
                 timeout_ms, rd_kafka_err2str(r));
        goto done;
    }
    for (int i = 0; i < parts->cnt; i++) {
        rd_kafka_topic_partition_t *tp = &parts->elems[i];
        if (tp->err) {
            snprintf(err, errlen, "rewind: committed offset of topic=%s partition=%d: %s",
                     tp->topic, (int)tp->partition, rd_kafka_err2str(tp->err));
            goto done;
        }
        if (tp->offset >= 0) {
            n++;
            continue;
        }
        /* Never committed: back to where auto.offset.reset started it, as
         * a restart would. With "error" nothing was consumed from it. */
        if (in->reset < 0) {
            tp->offset = RD_KAFKA_OFFSET_INVALID;
            continue;
        }
        tp->offset = in->reset ? RD_KAFKA_OFFSET_END : RD_KAFKA_OFFSET_BEGINNING;
        n++;
    }
    /* docs/kafka.md #4230: the timeout is taken in the wrong unit in 2.0.2;
     * -1 (wait until done), as examples/transactions.c does. Waiting means no
     * message fetched before the seek reaches us afterwards. */
    for (int i = 0; i < parts->cnt; i++)
        if (parts->elems[i].offset == RD_KAFKA_OFFSET_INVALID)
            rd_kafka_topic_partition_list_del_by_idx(parts, i--);
    e = parts->cnt ? rd_kafka_seek_partitions(in->rk, parts, -1) : NULL;
    if (e) {
        snprintf(err, errlen, "rewind: seek: %s", rd_kafka_error_string(e));
        rd_kafka_error_destroy(e);
        goto done;
    }
    for (int i = 0; i < parts->cnt; i++) {
        rd_kafka_topic_partition_t *tp = &parts->elems[i];
        if (tp->err) {
            snprintf(err, errlen, "rewind: seek topic=%s partition=%d offset=%lld: %s", tp->topic,
                     (int)tp->partition, (long long)tp->offset, rd_kafka_err2str(tp->err));
            goto done;
        }
        nc_log_debug(in->ctx.log, "rewound topic=%s partition=%d offset=%lld", tp->topic,
                     (int)tp->partition, (long long)tp->offset);
    }
    rc = n;
done:
    if (parts)
        rd_kafka_topic_partition_list_destroy(parts);
    return rc;
}

/* docs/kafka.md, "Closing before the first assignment": until a rebalance
 * callback has run, a JoinGroup may be under way, and 2.0.2 can neither
 * destroy the handle then (it aborts in the sticky assignor, or waits for
 * the JoinGroup's answer without a bound) nor close it. Serves the consumer
 * until the join has settled, the brokers are known to be down (no join can
 * be under way) or deadline; 0 when the close may go on. */
static int settle_join(nc_kafka_in *in, long long deadline)
{
    while (!in->joined) {
        long long left = deadline - nc_now_ms();
        const struct rd_kafka_metadata *md = NULL;
        rd_kafka_message_t *m;
        if (left <= 0)
            return -1;
        if (in->brokers_down) {
            /* Still down? A broker that answers now may be joining us. */
            if (rd_kafka_metadata(in->rk, 0, NULL, &md, left < 500 ? (int)left : 500) != 0)
                return 0;
            rd_kafka_metadata_destroy(md);
            in->brokers_down = 0;
        }
        /* Messages of an assignment that arrives now are not processed:
         * nothing of theirs is stored, so nothing is committed. */
        m = rd_kafka_consumer_poll(in->rk, left < 100 ? (int)left : 100);
        if (m)
            rd_kafka_message_destroy(m);
    }
    return 0;
}

int nc_kafka_in_close(nc_kafka_in *in, int timeout_ms)
{
    rd_kafka_queue_t *q;
    rd_kafka_error_t *e;
    long long deadline = nc_now_ms() + timeout_ms;

    if (in->closed)
        return 0;
    in->closed = 1;
    in->closing = 1;
    if (in->subscribed && settle_join(in, deadline) != 0) {
        nc_log_warn(in->ctx.log,
                    "consumer close: the group join did not settle within %d ms: abandoning "
                    "the consumer (the group forgets it at session timeout)",
                    timeout_ms);
        in->abandoned = 1;
        return -1;
    }
    if (!in->joined && !in->ever_assigned) {
        /* Brokers down, no join ever answered (or a tool's consumer that
         * never assigned): nothing to leave, nothing to commit; destroying
         * is safe (docs/kafka.md #4381). */
        nc_log_info(in->ctx.log, "consumer never joined its group: skipping the group close");
        return 0;
    }
    /* docs/kafka.md #4528: rd_kafka_consumer_close can hang when an
     * assignment arrives during close; the queue form lets us bound it. */
    q = rd_kafka_queue_new(in->rk);
    e = rd_kafka_consumer_close_queue(in->rk, q);
    if (e) {
        nc_log_warn(in->ctx.log, "consumer close: %s", rd_kafka_error_string(e));
        rd_kafka_error_destroy(e);
        rd_kafka_queue_destroy(q);
        return -1;
    }
    while (!rd_kafka_consumer_closed(in->rk)) {
        long long left = deadline - nc_now_ms();
        rd_kafka_event_t *ev;
        if (left <= 0) {
            nc_log_warn(in->ctx.log, "consumer close did not finish within %d ms: abandoning it",
                        timeout_ms);
            rd_kafka_queue_destroy(q);
            return -1;
        }
        ev = rd_kafka_queue_poll(q, left < 100 ? (int)left : 100);
        if (!ev)
            continue;
        if (rd_kafka_event_type(ev) == RD_KAFKA_EVENT_REBALANCE)
            on_rebalance(in->rk, rd_kafka_event_error(ev),
                         (rd_kafka_topic_partition_list_t *)rd_kafka_event_topic_partition_list(ev),
                         in);
        rd_kafka_event_destroy(ev);
    }
    rd_kafka_queue_destroy(q);
    return 0;
}

int nc_kafka_in_ever_assigned(const nc_kafka_in *in)
{
    return in->ever_assigned;
}

int nc_kafka_in_fatal(nc_kafka_in *in, char *err, size_t errlen)
{
    char why[512];
    rd_kafka_resp_err_t r = rd_kafka_fatal_error(in->rk, why, sizeof(why));
    const char *hint = r == RD_KAFKA_RESP_ERR_FENCED_INSTANCE_ID
                           ? " (static membership: another member took kafka.instance_id, or "
                             "this one rejoined after its session timed out; a restart rejoins "
                             "cleanly)"
                           : "";

    if (r)
        snprintf(err, errlen, "consumer: fatal error %s: %s%s", rd_kafka_err2name(r), why, hint);
    return r != RD_KAFKA_RESP_ERR_NO_ERROR;
}
