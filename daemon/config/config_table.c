/*
 * config_table.c - every newsclfd configuration key, in one place.
 *
 * The order here is the order of nc_config_dump() and of config/newsclf.yaml.
 * A key's section is its dotted prefix; sections must be contiguous. Defaults
 * are text, parsed by the same code as the file and --set, so a default can
 * never bypass a check.
 */
#include "config/config_table.h"

static const char *const nc_delivery_names[] = {"at-least-once", "exactly-once", NULL};
static const char *const nc_level_names[] = {"error", "warn", "info", "debug", NULL};
static const char *const nc_log_format_names[] = {"text", "json", NULL};

#define NC_OFF(f) offsetof(nc_config, f)
#define NC_K(path, type, f, def, min, max, names, check, flags, help)                              \
    {                                                                                              \
        path, type, NC_OFF(f), 0, 0, def, min, max, names, check, flags, help                      \
    }
#define NC_KL(path, type, f, n, def, check, flags, help)                                           \
    {                                                                                              \
        path, type, NC_OFF(f), 0, NC_OFF(n), def, 0, 0, NULL, check, flags, help                   \
    }

const struct nc_ckey nc_ckeys[] = {
    /* --- kafka: restart required --- */
    NC_K("kafka.brokers", CT_STR, kafka.brokers, "localhost:9092", 0, 0, NULL, CK_NONEMPTY, 0,
         "bootstrap brokers host:port,...; \"embedded\" runs an in-process mock cluster"),
    NC_K("kafka.group", CT_STR, kafka.group, "newsclf", 0, 0, NULL, CK_KAFKA_NAME, 0,
         "consumer group id"),
    NC_K("kafka.client_id", CT_STR, kafka.client_id, "newsclfd", 0, 0, NULL, CK_NONEMPTY, 0,
         "client.id of the consumer and producer"),
    NC_K("kafka.instance_id", CT_STR, kafka.instance_id, "", 0, 0, NULL, CK_KAFKA_NAME0, 0,
         "stable per-instance id (group.instance.id, transactional.id); empty = hostname"),
    NC_KL("kafka.input_topics", CT_STRLIST, kafka.input_topics, kafka.n_input_topics,
          "news.articles", CK_INPUT_TOPIC, 0, "topics to consume: names or ^regex patterns"),
    NC_K("kafka.delivery", CT_ENUM, kafka.delivery, "at-least-once", 0, 0, nc_delivery_names,
         CK_ANY, 0, "at-least-once | exactly-once"),
    NC_K("kafka.transaction.commit_every_messages", CT_SIZE,
         kafka.transaction.commit_every_messages, "1000", 1, 1000000000, NULL, CK_ANY, 0,
         "exactly-once: commit a transaction after this many messages"),
    NC_K("kafka.transaction.commit_every_ms", CT_INT, kafka.transaction.commit_every_ms, "100", 1,
         3600000, NULL, CK_ANY, 0, "exactly-once: or after this many milliseconds"),
    NC_K("kafka.transaction.max_attempts", CT_INT, kafka.transaction.max_attempts, "3", 1, 100,
         NULL, CK_ANY, 0,
         "exactly-once: aborts an input's refused output may cause before it is dead-lettered"),
    NC_K("kafka.static_membership", CT_BOOL, kafka.static_membership, "true", 0, 0, NULL, CK_ANY, 0,
         "use static group membership (group.instance.id)"),
    NC_KL("kafka.consumer", CT_KV, kafka.consumer, kafka.n_consumer, "", CK_ANY, 0,
          "extra librdkafka consumer properties, passed through"),
    NC_KL("kafka.producer", CT_KV, kafka.producer, kafka.n_producer, "", CK_ANY, 0,
          "extra librdkafka producer properties, passed through"),

    /* --- outputs: reloadable, except topic creation --- */
    NC_K("outputs.aggregate.enabled", CT_BOOL, outputs.aggregate.enabled, "true", 0, 0, NULL,
         CK_ANY, KF_RELOAD, "write every labeled article to one topic"),
    NC_K("outputs.aggregate.topic", CT_STR, outputs.aggregate.topic, "news.labeled", 0, 0, NULL,
         CK_TOPIC, KF_RELOAD, "the aggregate topic"),
    NC_K("outputs.labels.enabled", CT_BOOL, outputs.labels.enabled, "true", 0, 0, NULL, CK_ANY,
         KF_RELOAD, "also write each article to one topic per label it has"),
    NC_K("outputs.labels.topic_prefix", CT_STR, outputs.labels.topic_prefix, "news.labeled.", 0, 0,
         NULL, CK_TOPIC_PREFIX, KF_RELOAD, "per-label topic is <prefix><label>"),
    NC_KL("outputs.routes", CT_ROUTES, outputs.routes, outputs.n_routes, "", CK_ANY, KF_RELOAD,
          "extra routes: list of {label, topic, min_probability}"),
    NC_K("outputs.deadletter.enabled", CT_BOOL, outputs.deadletter.enabled, "true", 0, 0, NULL,
         CK_ANY, KF_RELOAD, "write unparseable or oversized input to a dead-letter topic"),
    NC_K("outputs.deadletter.topic", CT_STR, outputs.deadletter.topic, "news.deadletter", 0, 0,
         NULL, CK_TOPIC, KF_RELOAD, "the dead-letter topic"),
    {"outputs.article_fields", CT_FIELDS, NC_OFF(outputs.article_fields), NC_OFF(outputs.fields),
     NC_OFF(outputs.n_fields), "all", 0, 0, NULL, CK_ANY, KF_RELOAD,
     "article fields copied to the output: all | none | list of names"},
    NC_K("outputs.create_topics", CT_BOOL, outputs.create_topics, "false", 0, 0, NULL, CK_ANY, 0,
         "create missing output topics at start-up"),
    NC_K("outputs.partitions", CT_INT, outputs.partitions, "6", 1, 100000, NULL, CK_ANY, 0,
         "partitions of created topics"),
    NC_K("outputs.replication_factor", CT_INT, outputs.replication_factor, "1", 1, 32767, NULL,
         CK_ANY, 0, "replication factor of created topics"),

    /* --- model: reloadable --- */
    NC_K("model.path", CT_STR, model.path, "/var/lib/newsclf/models/current", 0, 0, NULL,
         CK_NONEMPTY, KF_RELOAD, "model directory"),
    NC_KL("model.thresholds", CT_THRESH, model.thresholds, model.n_thresholds, "", CK_ANY,
          KF_RELOAD, "label -> probability in (0,1), overriding the model's"),

    /* --- limits: restart required --- */
    NC_K("limits.max_article_bytes", CT_SIZE, limits.max_article_bytes, "921600", 1, 1073741824,
         NULL, CK_ANY, 0, "larger input messages go to the dead-letter topic"),
    NC_K("limits.max_inflight_total", CT_SIZE, limits.max_inflight_total, "10000", 1, 10000000,
         NULL, CK_ANY, 0, "pause consuming above this many unacknowledged messages"),
    NC_K("limits.max_inflight_per_partition", CT_SIZE, limits.max_inflight_per_partition, "2000", 1,
         10000000, NULL, CK_ANY, 0, "the same, per input partition"),
    NC_K("limits.max_inflight_bytes", CT_SIZE, limits.max_inflight_bytes, "67108864", 1048576,
         68719476736LL, NULL, CK_ANY, 0,
         "stop consuming while the inputs and outputs of unacknowledged messages hold this many "
         "bytes; the producer queue and consumer prefetch are derived from it"),
    NC_K("limits.queued_max_messages_kbytes", CT_INT, limits.queued_max_messages_kbytes, "0", 0,
         2097151, NULL, CK_ANY, 0,
         "consumer prefetch queue (queued.max.messages.kbytes); 0: limits.max_inflight_bytes / 4"),
    NC_K("limits.shutdown_timeout_ms", CT_INT, limits.shutdown_timeout_ms, "20000", 0, 3600000,
         NULL, CK_ANY, 0, "bound on flush and consumer close at shutdown"),
    NC_K("limits.workers", CT_SIZE, limits.workers, "2", 1, 256, NULL, CK_ANY, 0,
         "classification threads"),

    /* --- logging: the level is reloadable, the format needs a restart --- */
    NC_K("logging.level", CT_ENUM, logging.level, "info", 0, 0, nc_level_names, CK_ANY, KF_RELOAD,
         "error | warn | info | debug"),
    NC_K("logging.format", CT_ENUM, logging.format, "text", 0, 0, nc_log_format_names, CK_ANY, 0,
         "text (time level message key=value ...) | json (one object per line)"),

    /* --- metrics: restart required --- */
    NC_K("metrics.enabled", CT_BOOL, metrics.enabled, "true", 0, 0, NULL, CK_ANY, 0,
         "serve Prometheus metrics"),
    NC_K("metrics.listen", CT_STR, metrics.listen, "127.0.0.1:9464", 0, 0, NULL, CK_HOSTPORT, 0,
         "metrics address host:port"),
};

const size_t nc_nckeys = sizeof nc_ckeys / sizeof nc_ckeys[0];

const struct nc_refused nc_refused_props[] = {
    {"enable.auto.offset.store",
     "newsclfd stores offsets itself, only after the output is delivered; our delivery guarantee "
     "depends on it"},
    {"enable.auto.commit",
     "newsclfd controls offset commits; our delivery guarantee depends on it"},
    {"auto.commit.enable",
     "newsclfd controls offset commits; our delivery guarantee depends on it"},
    {"enable.idempotence",
     "newsclfd always uses the idempotent producer; our delivery guarantee depends on it"},
    {"acks", "newsclfd requires acks=all; our delivery guarantee depends on it"},
    {"request.required.acks", "newsclfd requires acks=all; our delivery guarantee depends on it"},
    {"isolation.level",
     "newsclfd sets it from kafka.delivery; our delivery guarantee depends on it"},
    {"transactional.id",
     "newsclfd derives it from kafka.instance_id for exactly-once; our delivery guarantee "
     "depends on it"},
    {"partition.assignment.strategy",
     "newsclfd's rebalance handling (offset watermarks) depends on the strategy it sets"},
    /* Set by our own keys: two places for one setting would be a guess. */
    {"bootstrap.servers", "set kafka.brokers instead"},
    {"metadata.broker.list", "set kafka.brokers instead"},
    {"group.id", "set kafka.group instead"},
    {"client.id", "set kafka.client_id instead"},
    {"group.instance.id", "set kafka.instance_id and kafka.static_membership instead"},
    {"queued.max.messages.kbytes", "set limits.queued_max_messages_kbytes instead"},
};

const size_t nc_nrefused = sizeof nc_refused_props / sizeof nc_refused_props[0];
