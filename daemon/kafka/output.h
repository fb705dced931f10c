/*
 * output.h - from one classified article to its records on Kafka, for
 * newsclfd and `newsclf reclassify` alike: the routing table built from the
 * configuration and the model, the routing decision for one result, the
 * record headers, and the produce calls with the dead-letter fallback.
 *
 * Routing (README "Data flow", config/newsclf.yaml outputs.routes):
 *   - the aggregate topic (outputs.aggregate) gets every classified article;
 *   - the label topic <outputs.labels.topic_prefix><label> gets exactly the
 *     articles with the label: probability >= the label's threshold
 *     (model.thresholds, else the model's own);
 *   - each route (outputs.routes) sends the label's articles to its topic
 *     when the probability reaches the route's min_probability (unset: the
 *     label's threshold). A route naming the label's own topic cannot change
 *     what that topic carries: its min_probability is ignored (a warning
 *     says so). (Two routes of one label to one topic are refused by the
 *     configuration; were there any, the lower min_probability would count.)
 *   - an article skipped for its language goes to the aggregate topic only.
 * Each topic gets an article at most once: the aggregate first, then the
 * labels in model order, each label's own topic before its routes.
 *
 * Records: key = the article id, else the input key; value = the encoded
 * result; timestamp = the input's. The input's headers are copied and
 * newsclf-labels, newsclf-model ("<name> <version>") and content-type set
 * (one value each), plus newsclf-reclassified: true for reclassify.
 * Dead letters: the input's bytes (cut to fit message.max.bytes), its key
 * (cut at 1 KiB) and headers (dropped when too large), and the headers
 * newsclf-error, newsclf-error-detail and newsclf-source-{topic,partition,
 * offset,timestamp}.
 *
 * An nc_output is immutable once built; it borrows the config and the model
 * it was built from, which must outlive it.
 */
#ifndef NC_KAFKA_OUTPUT_H
#define NC_KAFKA_OUTPUT_H

#include <librdkafka/rdkafka.h>
#include <signal.h>
#include <stddef.h>

#include "config/config.h"
#include "core/encode.h"
#include "core/model.h"
#include "kafka/out.h"
#include "base/log.h"

/* Longest error detail a dead letter carries (newsclf-error-detail). */
#define NC_OUTPUT_DETAIL_MAX 256

typedef struct nc_output nc_output;

struct nc_output_opts {
    /* Every record goes to this topic only (reclassify --output-topic). */
    const char *only_topic;
    /* Dead-letter to outputs.deadletter (when enabled): newsclfd. 0: no
     * dead-letter topic (reclassify: the daemon dead-lettered already). */
    int deadletter;
    /* Records carry newsclf-reclassified: true. */
    int reclassified;
    /* Gets the warning about a route to its label's own topic; NULL: none. */
    nc_log *log;
};

/*
 * The model of cfg (dir, or model.path when NULL) with cfg's
 * model.thresholds applied. 0, or -1 with err.
 */
int nc_output_load_model(const nc_config *cfg, const char *dir, nc_model **out, char *err,
                         size_t errlen);

/*
 * Builds the routing table of cfg's outputs for model. model NULL:
 * newsclfd's passthrough (the input copied to outputs.aggregate.topic, no
 * other topic). 0, or -1 with err (a route's label is not the model's, out
 * of memory).
 */
int nc_output_new(const nc_config *cfg, const nc_model *model, const struct nc_output_opts *opts,
                  nc_output **out, char *err, size_t errlen);
void nc_output_free(nc_output *o);

/* Every distinct topic a record or dead letter may go to, for the start-up
 * check (nc_kafka_out_check_topics). */
const char *const *nc_output_topics(const nc_output *o, size_t *n);
/* "<name> <version>" (the newsclf-model header); "" for passthrough. */
const char *nc_output_model_header(const nc_output *o);
/* NULL when disabled. */
const char *nc_output_deadletter(const nc_output *o);

/*
 * The record value of res for article a read from input message in: the
 * encoded result with the input's position and classified_at (now). A
 * malloc'd buffer and its length in *len, or NULL with err.
 */
char *nc_output_encode(const nc_output *o, const nc_article *a, const nc_result *res,
                       const rd_kafka_message_t *in, size_t *len, char *err, size_t errlen);

/* Room nc_output_route needs in dests. */
size_t nc_output_max_dests(const nc_output *o);
/* The topics res goes to, in order, into dests (nc_output_max_dests
 * entries); returns how many. Passthrough: the aggregate topic (res may be
 * NULL). */
size_t nc_output_route(const nc_output *o, const nc_result *res, const char **dests);

/* One input's record. Passthrough: value is the input's payload and the
 * input headers go out unchanged. */
struct nc_output_record {
    const rd_kafka_message_t *in;
    const char *id;         /* the article id (the key); NULL: the input key */
    const char *labels_csv; /* newsclf-labels */
    const void *value;
    size_t vlen;
};

/*
 * Produces rec to dests[0..n) in order (each record's delivery report comes
 * with opaque), stopping at the first error: returns 0 or that error with
 * *failed = its topic. *produced = the records handed to the producer. A
 * full queue is waited out unless *abort (nc_kafka_out_produce).
 */
rd_kafka_resp_err_t nc_output_produce(const nc_output *o, nc_kafka_out *out,
                                      const struct nc_output_record *rec, const char *const *dests,
                                      size_t n, void *opaque, const volatile sig_atomic_t *abort,
                                      size_t *produced, const char **failed);

/* 1 when err refused a record for good (per message, e.g. too large) and
 * its input goes to the dead-letter topic instead; 0: err stays an error. */
int nc_output_refused(const nc_output *o, rd_kafka_resp_err_t err);

/*
 * Produces the dead letter of input message m (reason: the newsclf-error
 * code, detail: one line) to the dead-letter topic (which must be enabled).
 * Returns 0 or the error.
 */
rd_kafka_resp_err_t nc_output_deadletter_produce(const nc_output *o, nc_kafka_out *out,
                                                 const rd_kafka_message_t *m,
                                                 const char *reason, const char *detail,
                                                 void *opaque,
                                                 const volatile sig_atomic_t *abort);

#endif
