/*
 * kafka.c - the Kafka commands' shared set-up (see kafka_cmd.h): options,
 * configuration, log, signals, the consumer and topic lookups.
 *
 * "No group" still means a group.id (librdkafka wants one): a unique one
 * that is never joined, so the brokers keep nothing for it (kafka/in.h).
 */
#include "cli/kafka_cmd.h"

#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kafka/process.h"

#define CLOSE_TIMEOUT_MS 10000
#define MAX_OWN_OPTIONS 32 /* a command's own long options */

int nc_strlist_add(struct nc_strlist *l, const char *s, const char *cmd, const char *opt)
{
    if (l->n == NC_CLI_MAX_ITEMS) {
        fprintf(stderr, "newsclf %s: too many %s\n", cmd, opt);
        return -1;
    }
    l->v[l->n++] = s;
    return 0;
}

/* The shared options: 1 when o was one, 0 when not, -1 on error. */
static int shared_option(struct nc_kcmd_args *a, int o, const char *arg, const char *cmd)
{
    if (o == 'c' || o == 'b') {
        *(o == 'c' ? &a->config : &a->brokers) = arg;
        return 1;
    }
    if (o != 's' && o != 'X')
        return 0;
    return nc_strlist_add(o == 's' ? &a->sets : &a->props, arg, cmd, o == 's' ? "--set" : "-X")
               ? -1
               : 1;
}

int nc_kcmd_parse(int argc, char **argv, const char *cmd, const struct nc_kcmd_opts *own,
                  struct nc_kcmd_args *a)
{
    static const struct option shared[] = {
        NC_OPT_ARG("brokers", 'b'), NC_OPT_ARG("config", 'c'), NC_OPT_ARG("set", 's'),
        NC_OPT_FLAG("help", 'h'), {0, 0, 0, 0}};
    struct option longs[MAX_OWN_OPTIONS + sizeof(shared) / sizeof(shared[0])];
    char shorts[2 * MAX_OWN_OPTIONS + 16];
    size_t n = 0;
    int o, rc;

    while (n < MAX_OWN_OPTIONS && own->longs[n].name)
        n++;
    memcpy(longs, own->longs, n * sizeof(*longs));
    memcpy(longs + n, shared, sizeof(shared));
    snprintf(shorts, sizeof(shorts), "%sb:c:s:X:h", own->shorts);
    optind = 1;
    while ((o = getopt_long(argc, argv, shorts, longs, NULL)) != -1) {
        if (o == 'h') {
            own->usage(stdout);
            return 0;
        }
        if (o == '?') /* getopt said what was wrong */
            return NC_CLI_EXIT_USAGE;
        rc = shared_option(a, o, optarg, cmd);
        if (rc < 0)
            return NC_CLI_EXIT_USAGE;
        if (rc == 0 && (rc = own->handle(own->ctx, o, optarg)) != 0)
            return rc;
    }
    return -1;
}

int nc_kcmd_number(const char *cmd, const char *arg, long long min, long long *v,
                   const char *complaint)
{
    char *end;

    *v = strtoll(arg, &end, 10);
    if (*end || end == arg || *v < min) {
        fprintf(stderr, "newsclf %s: %s\n", cmd, complaint);
        return NC_CLI_EXIT_USAGE;
    }
    return 0;
}

/* k->extra[i] = key, value (copies; NULL when out of memory). */
static int set_extra(struct nc_kcmd *k, size_t i, const char *key, size_t keylen,
                     const char *value)
{
    k->extra[i].key = strndup(key, keylen);
    k->extra[i].value = strdup(value);
    k->nextra = i + 1;
    return k->extra[i].key && k->extra[i].value ? 0 : -1;
}

/* k->extra: the two settings of ours, then -X KEY=VALUE. */
static int parse_props(struct nc_kcmd *k, const struct nc_strlist *props)
{
    if (set_extra(k, 0, "linger.ms", 9, "20") != 0 ||
        set_extra(k, 1, "log.connection.close", 20, "false") != 0)
        goto oom;
    for (size_t i = 0; i < props->n; i++) {
        const char *kv = props->v[i], *eq = strchr(kv, '=');
        if (!eq || eq == kv) {
            fprintf(stderr, "newsclf %s: -X takes KEY=VALUE\n", k->name);
            return -1;
        }
        if (set_extra(k, 2 + i, kv, (size_t)(eq - kv), eq + 1) != 0)
            goto oom;
    }
    return 0;
oom:
    fprintf(stderr, "newsclf %s: out of memory\n", k->name);
    return -1;
}

int nc_kcmd_start(struct nc_kcmd *k, const char *name, const struct nc_kcmd_args *a)
{
    char err[NC_CONFIG_ERRLEN];
    const char *brokers;

    k->name = name;
    /* No fallback file: as newsclfd, only --config is read. */
    k->cfg = nc_process_config(a->config, NULL, 0, a->sets.v, a->sets.n, err, sizeof(err));
    if (!k->cfg) {
        fprintf(stderr, "newsclf %s: %s\n", name, err);
        return -1;
    }
    brokers = a->brokers ? a->brokers : k->cfg->kafka.brokers;
    if (!strcmp(brokers, "embedded")) {
        fprintf(stderr,
                "newsclf %s: the embedded broker lives inside newsclfd; give --brokers "
                "(newsclfd logs its address)\n",
                name);
        return -1;
    }
    k->log = nc_log_new(stderr, NC_LOG_WARN);
    if (!k->log || parse_props(k, &a->props) != 0)
        return -1;
    k->stop = nc_signals_stop();
    nc_signals_install("newsclf", 0);
    snprintf(k->client_id, sizeof(k->client_id), "newsclf-%s", name);
    k->producer = (struct nc_kclient_opts){.bootstrap = brokers,
                                           .client_id = k->client_id,
                                           .log = k->log,
                                           .extra = k->extra,
                                           .nextra = k->nextra};
    k->consumer = k->producer;
    k->consumer.extra = k->extra + 1; /* no linger.ms */
    k->consumer.nextra = k->nextra - 1;
    return 0;
}

int nc_kcmd_consumer(struct nc_kcmd *k, const char *group, const nc_kv *settings, size_t n)
{
    char err[512];

    if (nc_kafka_in_new_tool(k->cfg, &k->consumer, group, settings, n, &k->in, err,
                             sizeof(err)) != 0) {
        fprintf(stderr, "newsclf %s: %s\n", k->name, err);
        return -1;
    }
    return 0;
}

void nc_kcmd_end(struct nc_kcmd *k)
{
    if (k->in) {
        nc_kafka_in_close(k->in, CLOSE_TIMEOUT_MS);
        nc_kafka_in_free(k->in);
        k->in = NULL;
    }
    for (size_t i = 0; i < k->nextra; i++) {
        free(k->extra[i].key);
        free(k->extra[i].value);
    }
    k->nextra = 0;
    nc_log_free(k->log);
    k->log = NULL;
    nc_config_free(k->cfg);
    k->cfg = NULL;
}

/* Adds every partition of the metadata's topics named (or matched by) name
 * to out; returns how many topics matched, or -1 (printed). */
static int add_matching(const char *cmd, const struct rd_kafka_metadata *md, const char *name,
                        rd_kafka_topic_partition_list_t *out)
{
    regex_t rx;
    int is_rx = name[0] == '^', found = 0;

    if (is_rx && regcomp(&rx, name, REG_EXTENDED | REG_NOSUB) != 0) {
        fprintf(stderr, "newsclf %s: bad topic pattern %s\n", cmd, name);
        return -1;
    }
    for (int i = 0; i < md->topic_cnt; i++) {
        const struct rd_kafka_metadata_topic *mt = &md->topics[i];
        if (is_rx ? regexec(&rx, mt->topic, 0, NULL, 0) != 0 : strcmp(mt->topic, name) != 0)
            continue;
        if (mt->err) {
            fprintf(stderr, "newsclf %s: topic %s: %s\n", cmd, mt->topic,
                    rd_kafka_err2str(mt->err));
            continue;
        }
        found++;
        for (int p = 0; p < mt->partition_cnt; p++)
            if (!rd_kafka_topic_partition_list_find(out, mt->topic, mt->partitions[p].id))
                rd_kafka_topic_partition_list_add(out, mt->topic, mt->partitions[p].id);
    }
    if (is_rx)
        regfree(&rx);
    return found;
}

rd_kafka_topic_partition_list_t *nc_kcmd_partitions(struct nc_kcmd *k, const char *const *topics,
                                                    size_t ntopics, int timeout_ms)
{
    const struct rd_kafka_metadata *md = NULL;
    rd_kafka_topic_partition_list_t *out = rd_kafka_topic_partition_list_new(16);
    rd_kafka_resp_err_t e = rd_kafka_metadata(nc_kafka_in_handle(k->in), 1, NULL, &md, timeout_ms);

    if (e) {
        char brokers[512];
        fprintf(stderr, "newsclf %s: cannot read the cluster's metadata from %s: %s\n", k->name,
                nc_kconf_bootstrap(nc_kafka_in_handle(k->in), brokers, sizeof(brokers)),
                rd_kafka_err2str(e));
        goto fail;
    }
    for (size_t t = 0; t < ntopics; t++) {
        int found = add_matching(k->name, md, topics[t], out);
        if (found < 0)
            goto fail;
        if (!found) {
            fprintf(stderr, "newsclf %s: %s %s does not exist\n", k->name,
                    topics[t][0] == '^' ? "no topic matches" : "topic", topics[t]);
            goto fail;
        }
    }
    rd_kafka_metadata_destroy(md);
    return out;
fail:
    if (md)
        rd_kafka_metadata_destroy(md);
    rd_kafka_topic_partition_list_destroy(out);
    return NULL;
}

/* Called only after the metadata answered, since the watermark query
 * ignores its timeout while brokers are down (docs/kafka.md, #4460). */
int nc_kcmd_watermarks(struct nc_kcmd *k, rd_kafka_topic_partition_list_t *l, int64_t *lows,
                       int timeout_ms)
{
    for (int i = 0; i < l->cnt; i++) {
        int64_t lo, hi;
        rd_kafka_resp_err_t e =
            rd_kafka_query_watermark_offsets(nc_kafka_in_handle(k->in), l->elems[i].topic,
                                             l->elems[i].partition, &lo, &hi, timeout_ms);
        if (e) {
            fprintf(stderr, "newsclf %s: offsets of %s/%d: %s\n", k->name, l->elems[i].topic,
                    (int)l->elems[i].partition, rd_kafka_err2str(e));
            return -1;
        }
        l->elems[i].offset = hi;
        lows[i] = lo;
    }
    return 0;
}
