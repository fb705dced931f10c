/*
 * commit.c - the commit strategies (see commit.h): at-least-once (offsets
 * stored behind the watermark) and exactly-once (Kafka transactions).
 */
#include "kafka/commit.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kafka/conf.h"
#include "base/util.h"
#include "base/clock.h"

/* ---- at-least-once ---- */

struct alo {
    nc_commit base; /* first: nc_commit * <-> struct alo * */
    nc_kafka_in *in;
    nc_log *log;
};

static int alo_advance(nc_commit *c, const char *topic, int32_t partition, int64_t next_offset,
                       char *err, size_t errlen)
{
    struct alo *a = (struct alo *)c;
    rd_kafka_topic_partition_list_t *l = rd_kafka_topic_partition_list_new(1);
    rd_kafka_resp_err_t r;

    /* rd_kafka_offset_store_message does not exist in 2.0.2 (docs/kafka.md):
     * store offset + 1 (next_offset already is) through offsets_store. */
    rd_kafka_topic_partition_list_add(l, topic, partition)->offset = next_offset;
    r = rd_kafka_offsets_store(nc_kafka_in_handle(a->in), l);
    if (!r)
        r = l->elems[0].err;
    rd_kafka_topic_partition_list_destroy(l);
    if (r) {
        /* _STATE: the partition was just revoked; the new owner resumes from
         * the last commit, so this is only a duplicate, never a loss. */
        snprintf(err, errlen, "offsets_store topic=%s partition=%d offset=%lld: %s", topic,
                 (int)partition, (long long)next_offset, rd_kafka_err2str(r));
        return -1;
    }
    return 0;
}

static int alo_checkpoint(nc_commit *c, enum nc_checkpoint_reason why,
                          const rd_kafka_topic_partition_list_t *parts, int timeout_ms, char *err,
                          size_t errlen)
{
    struct alo *a = (struct alo *)c;
    (void)parts; /* the stored offsets of the whole assignment are committed */
    if (why == NC_CHECKPOINT_TICK)
        /* enable.auto.commit does the periodic part; a consumer that died
         * of a fatal error commits nothing more: stop (a restart resumes) */
        return nc_kafka_in_fatal(a->in, err, errlen) ? -1 : 0;
    if (why == NC_CHECKPOINT_LOST || why == NC_CHECKPOINT_DUE)
        return 0; /* too late to commit; the new owner redoes the rest.
                   * DUE: begin never says NC_COMMIT_WAIT here */
    return nc_kafka_in_commit(a->in, timeout_ms, err, errlen);
}

static void alo_destroy(nc_commit *c)
{
    free(c);
}

/* No begin, output_failed or rewind: output errors are the pipeline's. */
static const struct nc_commit_ops alo_ops = {.name = "at-least-once",
                                             .advance = alo_advance,
                                             .checkpoint = alo_checkpoint,
                                             .destroy = alo_destroy};

nc_commit *nc_commit_at_least_once_new(nc_kafka_in *in, nc_log *log)
{
    struct alo *a = calloc(1, sizeof(*a));
    if (!a)
        return NULL;
    a->base.ops = &alo_ops;
    a->in = in;
    a->log = log;
    return &a->base;
}

/* ---- exactly-once ---- */

/* Flush attempt of a periodic commit: a broker that is slow or away must not
 * stall the pipeline loop; the commit is tried again at the next tick. */
#define EOS_TICK_FLUSH_MS 200
/* Attempts of a retriable transactional call before giving up. */
#define EOS_RETRIES 10
/* Inputs remembered at once for refused outputs (commit.h, poison inputs).
 * A transaction that fails on one input aborts at once, so only a batch of
 * refused records brings several; when the table is full, further ones are
 * not counted until entries go (they are committed, or dead-lettered and
 * committed), so progress is only slower. */
#define EOS_SUSPECTS_MAX 64

/* An input whose output the broker refused for good (a per-message error). */
struct suspect {
    char topic[256]; /* Kafka topic names have at most 249 bytes */
    int32_t partition;
    int64_t offset;
    int attempts;          /* aborted transactions it failed in */
    unsigned long failed;  /* txn_seq of its last refusal */
    unsigned long counted; /* txn_seq of the last abort counted */
    char error[192];       /* "produce to TOPIC: broker error" */
};

struct eos {
    nc_commit base; /* first */
    nc_kafka_in *in;
    nc_kafka_out *out;
    nc_log *log;
    rd_kafka_t *prod, *cons;
    size_t every_n;
    int every_ms;
    int shutdown_ms;
    int open;           /* a transaction is open */
    int abort_needed;   /* an error doomed the open transaction */
    int rewind_pending; /* aborted: the pipeline must drop its jobs and rewind */
    size_t n_msgs;      /* inputs begun in the open transaction */
    double opened;      /* nc_now() when the open transaction began */
    /* Next offset per input partition for the open transaction: the
     * watermarks that moved since the last commit. */
    rd_kafka_topic_partition_list_t *offsets;
    char abort_reason[256];
    unsigned long long n_commits, n_aborts;
    unsigned long txn_seq; /* transactions begun (the open or last one) */
    /* Commit timings (seconds) for the debug line of each commit and the
     * summary at the end: what a transaction's life is spent on. */
    struct {
        double flush;    /* this transaction's flushes so far */
        int flush_tries; /* flushes that timed out (not yet) + 1 */
        double sum_age, max_age, sum_flush, sum_send, sum_commit;
        unsigned long long sum_inputs, flush_timeouts;
    } t;
    int max_attempts; /* kafka.transaction.max_attempts */
    struct suspect suspects[EOS_SUSPECTS_MAX];
    size_t n_suspects;
    int suspects_full_warned;
};

/* Error text of e plus its kind, for logs and err. */
static void txn_err(char *err, size_t errlen, const char *what, const rd_kafka_error_t *e)
{
    snprintf(err, errlen, "%s: %s (%s%s%s)", what, rd_kafka_error_string(e), rd_kafka_error_name(e),
             rd_kafka_error_is_fatal(e)             ? ", fatal"
             : rd_kafka_error_txn_requires_abort(e) ? ", abortable"
                                                    : "",
             rd_kafka_error_is_retriable(e) ? ", retriable" : "");
}

/* Non-zero when the producer or the consumer raised a fatal error; its
 * reason in err. The producer's comes when a newer instance with the same
 * transactional.id fenced us; the consumer's when a member took our
 * group.instance.id. Either way this instance must stop. */
static int eos_fatal(struct eos *x, char *err, size_t errlen)
{
    char why[512];
    rd_kafka_resp_err_t r;

    if ((r = rd_kafka_fatal_error(x->prod, why, sizeof(why)))) {
        snprintf(
            err, errlen, "transactional producer: fatal error %s: %s%s", rd_kafka_err2name(r), why,
            r == RD_KAFKA_RESP_ERR_PRODUCER_FENCED || r == RD_KAFKA_RESP_ERR_INVALID_PRODUCER_EPOCH
                ? " (fenced: another newsclfd runs with the same kafka.group and "
                  "kafka.instance_id)"
                : "");
        return 1;
    }
    return nc_kafka_in_fatal(x->in, err, errlen);
}

/* ---- poison inputs (commit.h) ---- */

static struct suspect *suspect_find(struct eos *x, const char *topic, int32_t partition,
                                    int64_t offset)
{
    for (size_t i = 0; i < x->n_suspects; i++) {
        struct suspect *s = &x->suspects[i];
        if (s->offset == offset && s->partition == partition && !strcmp(s->topic, topic))
            return s;
    }
    return NULL;
}

static void suspect_drop(struct eos *x, size_t i)
{
    x->suspects[i] = x->suspects[--x->n_suspects];
}

/* Forgets the suspects of topic/partition below offset (INT64_MAX: all of
 * them) whose attempts are below max (INT_MAX: any). */
static void suspects_forget(struct eos *x, const char *topic, int32_t partition, int64_t below,
                            int max)
{
    for (size_t i = x->n_suspects; i-- > 0;) {
        const struct suspect *s = &x->suspects[i];
        if (s->partition == partition && s->offset < below && s->attempts < max &&
            !strcmp(s->topic, topic))
            suspect_drop(x, i);
    }
}

/* The transaction txn_seq was aborted: every input refused in it counts one
 * attempt more (once, however many of its outputs were refused). */
static void suspects_count_abort(struct eos *x)
{
    for (size_t i = 0; i < x->n_suspects; i++) {
        struct suspect *s = &x->suspects[i];
        if (s->failed != x->txn_seq || s->counted == x->txn_seq)
            continue;
        s->counted = x->txn_seq;
        s->attempts++;
        nc_log_info(x->log,
                    "input topic=%s partition=%d offset=%lld refused in %d of %d transactions: %s",
                    s->topic, (int)s->partition, (long long)s->offset, s->attempts, x->max_attempts,
                    s->error);
    }
}

static void eos_forget(struct eos *x)
{
    rd_kafka_topic_partition_list_destroy(x->offsets);
    x->offsets = rd_kafka_topic_partition_list_new(16);
    x->open = 0;
    x->n_msgs = 0;
}

/* Aborts the open transaction (outstanding outputs are purged: their
 * delivery reports reach the pipeline as failures). Afterwards the pipeline
 * must rewind. 0, or -1 with err when even the abort failed (fatal: a
 * restart fences and aborts it through init_transactions). */
static int eos_abort(struct eos *x, const char *reason, char *err, size_t errlen)
{
    if (x->open) {
        for (int attempt = 1;; attempt++) {
            /* -1: the remaining transaction time, as librdkafka recommends
             * (other values risk desynchronising its state). */
            rd_kafka_error_t *e = rd_kafka_abort_transaction(x->prod, -1);
            if (!e)
                break;
            txn_err(err, errlen, "abort_transaction", e);
            if (!rd_kafka_error_is_retriable(e) || attempt >= EOS_RETRIES) {
                rd_kafka_error_destroy(e);
                return -1;
            }
            nc_log_warn(x->log, "%s; retrying", err);
            rd_kafka_error_destroy(e);
        }
        x->n_aborts++;
        nc_log_warn(x->log,
                    "transaction aborted reason=\"%s\" inputs=%zu: they are consumed again from "
                    "the last committed offsets",
                    reason, x->n_msgs);
    }
    /* Also without an open transaction: a refusal reported after the abort
     * (the abort serves the last delivery reports) belongs to it. */
    suspects_count_abort(x);
    eos_forget(x);
    x->abort_needed = 0;
    x->rewind_pending = 1;
    return 0;
}

/* After a failed transactional call (what) with e: 1 when it is to be
 * retried (retriable, attempt < EOS_RETRIES; e is destroyed), else 0. */
static int txn_retry(struct eos *x, const char *what, rd_kafka_error_t *e, int attempt)
{
    char why[512];

    if (!e || !rd_kafka_error_is_retriable(e) || attempt >= EOS_RETRIES)
        return 0;
    txn_err(why, sizeof(why), what, e);
    nc_log_warn(x->log, "%s; retrying", why);
    rd_kafka_error_destroy(e);
    return 1;
}

/* The transactional call `what` failed for good with e (destroyed here):
 * 2 after aborting the transaction when the error requires it, else -1
 * (fatal) with err. */
static int txn_failed(struct eos *x, const char *what, rd_kafka_error_t *e, char *err,
                      size_t errlen)
{
    char why[512];
    int abortable = rd_kafka_error_txn_requires_abort(e);

    txn_err(why, sizeof(why), what, e);
    rd_kafka_error_destroy(e);
    if (!abortable) {
        snprintf(err, errlen, "%s", why);
        return -1;
    }
    return eos_abort(x, why, err, errlen) ? -1 : 2;
}

/*
 * Commits the open transaction: flush (every output acknowledged, so the
 * watermarks in x->offsets now cover exactly the inputs whose outputs are in
 * the transaction), offsets into the transaction, commit.
 * Returns 0 committed, 1 not yet (the flush did not finish within flush_ms;
 * only with may_wait), 2 aborted (rewind pending), -1 fatal with err.
 */
static int eos_commit(struct eos *x, int flush_ms, int may_wait, char *err, size_t errlen)
{
    rd_kafka_error_t *e;
    rd_kafka_resp_err_t r;
    char why[512];
    double t0 = nc_now(), t1, t2;
    int attempt;

    /* Delivery reports are served here: they run the pipeline's callbacks,
     * which call eos_advance (and eos_output_failed). */
    r = rd_kafka_flush(x->prod, flush_ms);
    x->t.flush += nc_now() - t0;
    x->t.flush_tries++;
    if (eos_fatal(x, err, errlen))
        return -1;
    if (x->abort_needed)
        return eos_abort(x, x->abort_reason, err, errlen) ? -1 : 2;
    if (r == RD_KAFKA_RESP_ERR__TIMED_OUT) {
        x->t.flush_timeouts++;
        if (may_wait)
            return 1;
        snprintf(why, sizeof(why), "outputs not acknowledged within %d ms", flush_ms);
        return eos_abort(x, why, err, errlen) ? -1 : 2;
    }
    t1 = nc_now();
    if (x->offsets->cnt > 0) {
        rd_kafka_consumer_group_metadata_t *gm = rd_kafka_consumer_group_metadata(x->cons);
        attempt = 0;
        do /* Retried with identical offsets and group metadata, as the API asks. */
            e = rd_kafka_send_offsets_to_transaction(x->prod, x->offsets, gm,
                                                     x->shutdown_ms > 0 ? x->shutdown_ms : 5000);
        while (txn_retry(x, "send_offsets_to_transaction", e, ++attempt));
        rd_kafka_consumer_group_metadata_destroy(gm);
        /* ILLEGAL_GENERATION / FENCED_INSTANCE_ID (abortable): our group
         * generation is gone, a new owner redoes the input. */
        if (e)
            return txn_failed(x, "send_offsets_to_transaction", e, err, errlen);
    }
    t2 = nc_now();
    attempt = 0;
    do /* -1: the remaining transaction time (resumable on timeout). */
        e = rd_kafka_commit_transaction(x->prod, -1);
    while (txn_retry(x, "commit_transaction", e, ++attempt));
    if (e)
        return txn_failed(x, "commit_transaction", e, err, errlen);
    x->n_commits++;
    {
        double now = nc_now(), age = now - x->opened;
        x->t.sum_age += age;
        if (age > x->t.max_age)
            x->t.max_age = age;
        x->t.sum_flush += x->t.flush;
        x->t.sum_send += t2 - t1;
        x->t.sum_commit += now - t2;
        x->t.sum_inputs += x->n_msgs;
        nc_log_debug(x->log,
                     "transaction committed inputs=%zu partitions=%d age_ms=%.1f flush_ms=%.1f "
                     "flushes=%d send_offsets_ms=%.1f commit_ms=%.1f",
                     x->n_msgs, x->offsets->cnt, age * 1e3, x->t.flush * 1e3, x->t.flush_tries,
                     (t2 - t1) * 1e3, (now - t2) * 1e3);
    }
    for (int i = 0; i < x->offsets->cnt; i++)
        suspects_forget(x, x->offsets->elems[i].topic, x->offsets->elems[i].partition,
                        x->offsets->elems[i].offset, INT_MAX);
    eos_forget(x);
    return 0;
}

/* The open transaction has its inputs or its age: commit it. */
static int eos_due(const struct eos *x)
{
    return x->n_msgs >= x->every_n || (nc_now() - x->opened) * 1e3 >= x->every_ms;
}

/* The input's dead letter goes into the transaction instead of its outputs
 * when it was refused in max_attempts aborted transactions. */
static int eos_verdict(struct eos *x, const rd_kafka_message_t *in, char *err, size_t errlen)
{
    const struct suspect *s;

    if (!in || !in->rkt || x->n_suspects == 0)
        return 0;
    s = suspect_find(x, rd_kafka_topic_name(in->rkt), in->partition, in->offset);
    if (!s || s->attempts < x->max_attempts)
        return 0;
    snprintf(err, errlen, "%s (%d transactions aborted on this input)", s->error, s->attempts);
    return NC_COMMIT_DEADLETTER;
}

static int eos_begin(nc_commit *c, const rd_kafka_message_t *in, char *err, size_t errlen)
{
    struct eos *x = (struct eos *)c;
    rd_kafka_error_t *e;

    if (x->abort_needed || x->rewind_pending)
        return NC_COMMIT_SKIP;
    if (x->open) {
        if (eos_due(x))
            return NC_COMMIT_WAIT;
        x->n_msgs++;
        return eos_verdict(x, in, err, errlen);
    }
    e = rd_kafka_begin_transaction(x->prod);
    if (e) {
        /* Only a state or fatal error can come here: treat it as fatal, as
         * librdkafka's documentation advises. */
        txn_err(err, errlen, "begin_transaction", e);
        rd_kafka_error_destroy(e);
        eos_fatal(x, err, errlen);
        return -1;
    }
    x->open = 1;
    x->n_msgs = 1;
    x->opened = nc_now();
    x->t.flush = 0;
    x->t.flush_tries = 0;
    x->txn_seq++;
    return eos_verdict(x, in, err, errlen);
}

static int eos_advance(nc_commit *c, const char *topic, int32_t partition, int64_t next_offset,
                       char *err, size_t errlen)
{
    struct eos *x = (struct eos *)c;
    rd_kafka_topic_partition_t *tp;

    (void)err;
    (void)errlen;
    tp = rd_kafka_topic_partition_list_find(x->offsets, topic, partition);
    if (!tp)
        tp = rd_kafka_topic_partition_list_add(x->offsets, topic, partition);
    tp->offset = next_offset;
    /* Every output of the inputs before next_offset went through: a refusal
     * of one of them is no longer consecutive. Dead-lettered ones stay
     * until committed (an abort meanwhile must not start them over). */
    if (x->n_suspects > 0)
        suspects_forget(x, topic, partition, next_offset, x->max_attempts);
    return 0;
}

static int eos_output_failed(nc_commit *c, const rd_kafka_message_t *in, const char *topic,
                             rd_kafka_resp_err_t r)
{
    struct eos *x = (struct eos *)c;

    /* Inside a transaction a failed output fails the transaction as a whole
     * (librdkafka makes it abortable): abort at the next tick and redo. */
    if (!x->abort_needed)
        snprintf(x->abort_reason, sizeof(x->abort_reason), "output to %s failed: %s",
                 topic ? topic : "?", rd_kafka_err2str(r));
    x->abort_needed = 1;
    /* Refused for good: the input would fail the same way when redone;
     * remember it (commit.h, poison inputs). */
    if (in && in->rkt && nc_kafka_err_is_per_message(r)) {
        const char *itopic = rd_kafka_topic_name(in->rkt);
        struct suspect *s = suspect_find(x, itopic, in->partition, in->offset);
        if (!s && x->n_suspects < EOS_SUSPECTS_MAX && strlen(itopic) < sizeof(s->topic)) {
            s = &x->suspects[x->n_suspects++];
            memset(s, 0, sizeof(*s));
            snprintf(s->topic, sizeof(s->topic), "%s", itopic);
            s->partition = in->partition;
            s->offset = in->offset;
        } else if (!s && !x->suspects_full_warned) {
            x->suspects_full_warned = 1;
            nc_log_warn(x->log,
                        "%d inputs with refused outputs are remembered already; input "
                        "topic=%s partition=%d offset=%lld is counted once some are committed",
                        EOS_SUSPECTS_MAX, itopic, (int)in->partition, (long long)in->offset);
        }
        if (s) {
            s->failed = x->txn_seq;
            snprintf(s->error, sizeof(s->error), "produce to %s: %s", topic ? topic : "?",
                     rd_kafka_err2str(r));
        }
    }
    return 1;
}

/* Partitions going to another member: their suspects are its business. */
static void eos_forget_parts(struct eos *x, const rd_kafka_topic_partition_list_t *parts)
{
    for (int i = 0; parts && i < parts->cnt && x->n_suspects > 0; i++)
        suspects_forget(x, parts->elems[i].topic, parts->elems[i].partition, INT64_MAX, INT_MAX);
}

static int eos_checkpoint(nc_commit *c, enum nc_checkpoint_reason why,
                          const rd_kafka_topic_partition_list_t *parts, int timeout_ms, char *err,
                          size_t errlen)
{
    struct eos *x = (struct eos *)c;
    int rc;

    /* every partition's progress goes into the one transaction; parts
     * only tells which suspects to forget */
    if (eos_fatal(x, err, errlen))
        return -1;
    switch (why) {
    case NC_CHECKPOINT_TICK:
    case NC_CHECKPOINT_DUE:
        /* TICK: when due, one bounded attempt (a flush that times out is
         * tried again at the next tick); DUE: now, waiting up to timeout_ms. */
        if (x->abort_needed && eos_abort(x, x->abort_reason, err, errlen) != 0)
            return -1;
        if (x->rewind_pending)
            return NC_COMMIT_REWIND;
        if (!x->open || (why == NC_CHECKPOINT_TICK && !eos_due(x)))
            return 0;
        rc = why == NC_CHECKPOINT_TICK
                 ? eos_commit(x, EOS_TICK_FLUSH_MS, 1, err, errlen)
                 : eos_commit(x, timeout_ms > 0 ? timeout_ms : 1000, 0, err, errlen);
        if (rc < 0)
            return -1;
        return rc == 2 ? NC_COMMIT_REWIND : 0;
    case NC_CHECKPOINT_LOST:
        /* The partitions belong to someone else already: their outputs in
         * the open transaction must not be committed (the new owner
         * produces them again). Abort everything and redo the rest. */
        rc = x->open || x->abort_needed ? eos_abort(x, "partitions lost", err, errlen) : 0;
        eos_forget_parts(x, parts);
        return rc;
    case NC_CHECKPOINT_REVOKE:
    case NC_CHECKPOINT_SHUTDOWN:
        /* Commit what was done before the partitions go (the new owner
         * starts behind it), or abort and let the new owner (or the next
         * start) redo it. */
        if (x->abort_needed) {
            rc = eos_abort(x, x->abort_reason, err, errlen);
        } else if (!x->open) {
            rc = 0;
        } else {
            rc = eos_commit(x, timeout_ms > 0 ? timeout_ms : 1000, 0, err, errlen);
            if (rc == 0)
                nc_log_info(x->log, "transaction committed before %s",
                            why == NC_CHECKPOINT_REVOKE ? "the revoke" : "shutdown");
            rc = rc < 0 ? -1 : 0;
        }
        eos_forget_parts(x, parts);
        return rc;
    }
    return 0;
}

static int eos_rewind(nc_commit *c, char *err, size_t errlen)
{
    struct eos *x = (struct eos *)c;
    int n;

    n = nc_kafka_in_rewind(x->in, x->shutdown_ms > 0 ? x->shutdown_ms : 10000, err, errlen);
    if (n < 0)
        return -1;
    x->rewind_pending = 0;
    nc_log_info(x->log, "rewound to the last committed offsets partitions=%d", n);
    return 0;
}

static void eos_destroy(nc_commit *c)
{
    struct eos *x = (struct eos *)c;
    nc_log_info(x->log, "transactions committed=%llu aborted=%llu", x->n_commits, x->n_aborts);
    if (x->n_commits > 0) {
        double n = (double)x->n_commits;
        nc_log_info(x->log,
                    "per committed transaction: inputs=%.0f age_ms=%.1f (max %.1f) flush_ms=%.1f "
                    "send_offsets_ms=%.1f commit_ms=%.1f; flush timeouts=%llu",
                    (double)x->t.sum_inputs / n, x->t.sum_age * 1e3 / n, x->t.max_age * 1e3,
                    x->t.sum_flush * 1e3 / n, x->t.sum_send * 1e3 / n, x->t.sum_commit * 1e3 / n,
                    x->t.flush_timeouts);
    }
    rd_kafka_topic_partition_list_destroy(x->offsets);
    free(x);
}

static const struct nc_commit_ops eos_ops = {
    .name = "exactly-once",
    .begin = eos_begin,
    .advance = eos_advance,
    .checkpoint = eos_checkpoint,
    .output_failed = eos_output_failed,
    .rewind = eos_rewind,
    .destroy = eos_destroy,
};

nc_commit *nc_commit_exactly_once_new(nc_kafka_in *in, nc_kafka_out *out, const nc_config *cfg,
                                      nc_log *log)
{
    struct eos *x = calloc(1, sizeof(*x));
    if (!x)
        return NULL;
    x->offsets = rd_kafka_topic_partition_list_new(16);
    if (!x->offsets) {
        free(x);
        return NULL;
    }
    x->base.ops = &eos_ops;
    x->in = in;
    x->out = out;
    x->log = log;
    x->prod = nc_kafka_out_handle(out);
    x->cons = nc_kafka_in_handle(in);
    x->every_n = cfg->kafka.transaction.commit_every_messages;
    x->every_ms = cfg->kafka.transaction.commit_every_ms;
    x->shutdown_ms = cfg->limits.shutdown_timeout_ms;
    x->max_attempts =
        cfg->kafka.transaction.max_attempts > 0 ? cfg->kafka.transaction.max_attempts : 3;
    return &x->base;
}
