/*
 * pipeline_int.h - the pipeline's state, shared by its files and by nothing
 * else (pipeline.h is the interface; see it for the design):
 *
 *   pipeline.c   lifecycle and the main loop: consume, dispatch, fatal errors
 *   reload.c     runtime snapshots (model + output routing) and reload
 *   classify.c   one job's CPU work: parse, classify, encode, route
 *   pool.c       the worker threads and the hand-off of jobs to them
 *   partition.c  per-partition job lists, offset watermarks, pause/resume
 *   produce.c    producing finished jobs, delivery reports, dead letters
 *   drain.c      finishing what was consumed: revoke, shutdown, rewind
 *
 * Everything here runs on the pipeline thread, except what pool.c and
 * classify.c say about the workers.
 */
#ifndef NC_PIPELINE_INT_H
#define NC_PIPELINE_INT_H

#include <librdkafka/rdkafka.h>
#include <pthread.h>
#include <signal.h>
#include <stddef.h>
#include <stdint.h>

#include "config/config.h"
#include "core/article.h"
#include "core/model.h"
#include "kafka/commit.h"
#include "kafka/in.h"
#include "kafka/out.h"
#include "kafka/output.h"
#include "service/metrics.h"
#include "service/notify.h"
#include "service/pipeline.h"
#include "base/log.h"

#define BATCH_MAX 256 /* messages dispatched per loop iteration */
#define METADATA_TIMEOUT_MS 5000
#define STALL_PAUSE_MS 1000 /* over the total bound this long: pause */

/* One immutable snapshot of model + reloadable config (reload.c). Jobs hold
 * a reference to the one they were dispatched with. */
struct runtime {
    int refs;         /* touched on the pipeline thread only */
    unsigned long id; /* distinguishes snapshots for the workers' workspaces */
    nc_model *model;      /* NULL: passthrough */
    nc_config *cfg_owned; /* a reloaded config; NULL: the start-up one */
    const nc_config *cfg;
    nc_output *out; /* routing, headers, dead-letter topic (kafka/output.h) */
};

enum job_kind { JOB_OUTPUT = 0, JOB_DEAD, JOB_PASS };

struct part;

/* One input message. */
struct job {
    struct job *fifo_next; /* production order (pipeline FIFO) */
    struct job *part_next; /* offset order within the partition */
    struct part *part;
    rd_kafka_message_t *msg;
    struct runtime *rt;
    int64_t offset;
    size_t bytes; /* input payload + key, in p->inflight_bytes (job_admit) */
    /* written by a worker before `classified` is set under the pool lock */
    int classified;
    enum job_kind kind;
    const char *reason;
    char detail[NC_OUTPUT_DETAIL_MAX];
    char *value;
    size_t vlen;
    char *id;
    char *labels_csv;
    const char **dests;
    size_t ndests;
    /* delivery (pipeline thread only) */
    int pending;         /* records not yet acknowledged, +1 while producing */
    int done;            /* every record acknowledged */
    int failed;          /* a record failed for good: never done */
    int need_dl;         /* an output was refused per message: dead-letter it */
    struct job *dl_next; /* in p->dl_queue */
    int dl_sent;
    int dead;            /* dead-lettered (or dropped as such): counted there, not as classified */
};

/* One assigned input partition. */
struct part {
    char *topic;
    int32_t partition;
    int assigned; /* 0 once revoked: its offsets are never stored again */
    int paused;   /* paused by us (docs/kafka.md #4636) */
    struct job *head, *tail;
    size_t count;
    struct part *next; /* in p->parts or p->retired */
};

/* A classifying thread's scratch (or the pipeline thread's, inline). */
struct wctx {
    nc_article *art;
    nc_workspace *ws;
    unsigned long ws_rt; /* runtime id the workspace was made for */
};

struct pool {
    pthread_mutex_t mu;
    pthread_cond_t work_cv;
    pthread_cond_t done_cv;
    struct job **q;
    size_t cap, head, count;
    int quit;
    size_t idle;      /* workers waiting for work */
    int main_waiting; /* the pipeline thread waits for a job to finish */
    pthread_t *threads;
    size_t nthreads;
    struct nc_pipeline *p;
};

struct nc_pipeline {
    struct nc_pipeline_opts o;
    const nc_config *cfg; /* start-up config: kafka.*, limits.* */
    nc_log *log;
    nc_metrics *metrics; /* o.metrics */
    nc_notify *notify;   /* o.notify */
    nc_kafka_in *in;
    nc_kafka_out *out;
    nc_commit *commit;
    struct runtime *rt;
    unsigned long next_rt_id;
    size_t max_article;

    struct part *parts, *retired, *last_part;
    struct job *fifo_head, *fifo_tail;
    size_t fifo_len;
    struct job *dl_queue; /* jobs awaiting a dead-letter produce (from reports) */
    size_t inflight;      /* jobs consumed and not yet freed */
    size_t inflight_bytes; /* their input bytes (limits.max_inflight_bytes) */

    struct pool pool;
    int use_pool;
    struct wctx inline_ctx;

    volatile sig_atomic_t fatal;
    char fatal_msg[512];
    int shutting_down;

    long long over_since; /* when inflight reached the total bound, 0: not */
    unsigned long long n_in, n_out, n_dead, n_acked, n_records;
    long long last_stats;
};

/* pipeline.c: stops the pipeline with a reason (the first one counts). */
void pipeline_fatal(nc_pipeline *p, const char *fmt, ...) NC_PRINTF(2, 3);

/* reload.c */
/* Loads cfg's model and builds its output routing. Takes ownership of
 * cfg_owned (may be NULL when cfg is the start-up config). */
struct runtime *runtime_new(nc_pipeline *p, const nc_config *cfg, nc_config *cfg_owned, char *err,
                            size_t errlen);
void runtime_unref(struct runtime *rt);
/* Waits for the brokers (retrying until *stop) and checks (or creates) every
 * output topic of rt. once: a single attempt (reload). */
int runtime_check_topics(nc_pipeline *p, struct runtime *rt, int once, char *err, size_t errlen);
/* A reload request (SIGHUP), between batches: produces what was classified,
 * then loads, checks and swaps in a new snapshot (or keeps the old one). */
void pipeline_reload(nc_pipeline *p);

/* classify.c */
void classify_job(const nc_pipeline *p, struct wctx *w, struct job *j);
/* Frees what classify_job made for j (record, id, labels, topics). */
void job_output_free(struct job *j);
void wctx_clear(struct wctx *w);

/* pool.c */
int pool_start(nc_pipeline *p, size_t nthreads, size_t cap, char *err, size_t errlen);
void pool_stop(nc_pipeline *p);
/* Classifies j: hands it to a worker, or classifies it inline. */
void pool_submit(nc_pipeline *p, struct job *j);
/* Whether j is classified; with wait, waits until it is. */
int pool_ready(nc_pipeline *p, struct job *j, int wait);

/* partition.c */
struct part *part_find(nc_pipeline *p, const char *topic, int32_t partition);
/* Appends j to its partition's list (offset order). */
void part_append(struct part *pt, struct job *j);
void job_free(nc_pipeline *p, struct job *j);
/* Frees every job of pt (and pt itself unless keep). */
void part_clear(nc_pipeline *p, struct part *pt, int keep);
void part_retire(nc_pipeline *p, struct part *pt);
void parts_sweep_retired(nc_pipeline *p);
/* Frees every partition, active and retired (jobs included). */
void parts_free_all(nc_pipeline *p);
/* Admission: counts j (just consumed) in the message and byte totals. */
void job_admit(nc_pipeline *p, struct job *j);
/* At a total bound (limits.max_inflight_total or max_inflight_bytes):
 * consume nothing until delivery reports free room. */
int pipeline_full(const nc_pipeline *p);
/* j may be done: mark it and move its partition's watermark. */
void job_finish_check(nc_pipeline *p, struct job *j);
/* Any job of parts not yet done (nor failed)? */
int parts_busy(nc_pipeline *p, const rd_kafka_topic_partition_list_t *parts);
/* The consumer's assigned hook. */
void parts_assigned(void *owner, const rd_kafka_topic_partition_list_t *parts);
/* Pauses partitions over a bound, resumes the ones we paused below half. */
void flow_control(nc_pipeline *p);

/* produce.c */
enum produce_mode {
    PRODUCE_READY, /* the classified jobs at the FIFO head */
    PRODUCE_BLOCK, /* every job, waiting for the workers (the main loop) */
    PRODUCE_ALL,   /* every job, committing when due however long it takes
                    * (revoke, shutdown, reload: nothing may stay behind) */
};
/* Produces finished jobs from the FIFO head (see enum produce_mode). */
void produce_ready(nc_pipeline *p, enum produce_mode mode);
/* Serves delivery reports for up to timeout_ms, then the dead letters they
 * asked for. */
void serve_deliveries(nc_pipeline *p, int timeout_ms);
/* The producer's delivery report callback (kafka/out.h). */
void on_delivery(void *owner, void *opaque, rd_kafka_resp_err_t err, const rd_kafka_message_t *m);

/* drain.c */
/* The consumer's revoking hook: finish and commit the partitions' input. */
void drain_revoking(void *owner, const rd_kafka_topic_partition_list_t *parts, int lost);
/* Every loop iteration: commit when due; rewind after an abort. */
void commit_tick(nc_pipeline *p);
/* Orderly stop, each step bounded (what the deadline cuts is abandoned with a
 * warning); -1 only after a fatal error. */
int drain(nc_pipeline *p);

#endif
