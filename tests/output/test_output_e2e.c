/*
 * test_output_e2e.c - the output path against librdkafka's mock cluster
 * (cmocka), hosted in this process (kafka/embedded.h):
 *
 *   records      nc_output_produce and nc_output_deadletter_produce: key,
 *                timestamp, copied input headers, newsclf-labels,
 *                newsclf-model, content-type, newsclf-reclassified, and the
 *                dead letter's bytes and newsclf-error / newsclf-source-*
 *   route_rule   newsclfd and `newsclf reclassify` (the built binaries, as
 *                processes) on the same articles with a route to the label
 *                topic of sanctions whose min_probability is below the
 *                label's threshold, and the same route to another topic:
 *                both label topics carry exactly the articles with the
 *                label, both other topics the articles over the route's
 *                minimum (expected sets from the model, in this process)
 *
 *   test_output_e2e NEWSCLFD NEWSCLF MODEL_DIR ARTICLES.jsonl
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include "base/clock.h"
#include "kafka/embedded.h"
#include "kafka/output.h"

#define NARTICLES 80
#define DEADLINE_MS 120000 /* ASan builds of both binaries on a shared machine */

extern char **environ;

static const char *newsclfd_bin, *newsclf_bin, *model_dir, *articles_path;
/* The sanctions routes' min_probability: chosen by produce_articles() from
 * the model's probabilities so that some articles fall between it and the
 * label's threshold, whatever model is shipped. */
static double route_min;

struct env {
    nc_embedded *mock;
    const char *bs;
    char dir[256];
};

/* ---- helpers ---- */

static void create(struct env *e, const char *topic, int partitions)
{
    char err[256];
    if (nc_embedded_create_topic(e->mock, topic, partitions, err, sizeof(err)) != 0)
        fail_msg("%s", err);
}

static rd_kafka_t *client(struct env *e, rd_kafka_type_t type)
{
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    char err[512];
    rd_kafka_t *rk;

    if (rd_kafka_conf_set(conf, "bootstrap.servers", e->bs, err, sizeof(err)) ||
        (type == RD_KAFKA_CONSUMER &&
         (rd_kafka_conf_set(conf, "group.id", "output-e2e-reader", err, sizeof(err)) ||
          rd_kafka_conf_set(conf, "enable.partition.eof", "true", err, sizeof(err)) ||
          rd_kafka_conf_set(conf, "enable.auto.commit", "false", err, sizeof(err)))))
        fail_msg("conf: %s", err);
    rk = rd_kafka_new(type, conf, err, sizeof(err));
    if (!rk)
        fail_msg("rd_kafka_new: %s", err);
    return rk;
}

/* Every message of topic (partitions 0..n-1), in a callback. */
static size_t read_topic(struct env *e, const char *topic, int partitions,
                         void (*fn)(void *arg, const rd_kafka_message_t *m), void *arg)
{
    rd_kafka_t *rk = client(e, RD_KAFKA_CONSUMER);
    rd_kafka_topic_partition_list_t *l = rd_kafka_topic_partition_list_new(partitions);
    long long deadline = nc_now_ms() + 30000;
    int eofs = 0;
    size_t n = 0;

    for (int p = 0; p < partitions; p++)
        rd_kafka_topic_partition_list_add(l, topic, p)->offset = RD_KAFKA_OFFSET_BEGINNING;
    assert_int_equal(rd_kafka_assign(rk, l), 0);
    while (eofs < partitions && nc_now_ms() < deadline) {
        rd_kafka_message_t *m = rd_kafka_consumer_poll(rk, 100);
        if (!m)
            continue;
        if (m->err == RD_KAFKA_RESP_ERR__PARTITION_EOF)
            eofs++;
        else if (m->err)
            fail_msg("reading %s: %s", topic, rd_kafka_message_errstr(m));
        else if (fn)
            fn(arg, m), n++;
        else
            n++;
        rd_kafka_message_destroy(m);
    }
    assert_int_equal(eofs, partitions);
    rd_kafka_assign(rk, NULL);
    rd_kafka_topic_partition_list_destroy(l);
    rd_kafka_destroy(rk);
    return n;
}

static void produce(rd_kafka_t *p, const char *topic, const char *key, const char *value,
                    rd_kafka_headers_t *h, int64_t ts)
{
    rd_kafka_resp_err_t r = rd_kafka_producev(
        p, RD_KAFKA_V_TOPIC(topic), RD_KAFKA_V_KEY(key, key ? strlen(key) : 0),
        RD_KAFKA_V_VALUE((void *)value, strlen(value)), RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
        RD_KAFKA_V_TIMESTAMP(ts), RD_KAFKA_V_HEADERS(h), RD_KAFKA_V_END);
    if (r)
        fail_msg("produce to %s: %s", topic, rd_kafka_err2str(r));
}

static void flush(rd_kafka_t *p)
{
    assert_int_equal(rd_kafka_flush(p, 30000), 0);
}

/* The value of header name as a string ("" when absent). */
static const char *header(const rd_kafka_message_t *m, const char *name, char *buf, size_t len)
{
    rd_kafka_headers_t *h = NULL;
    const void *v;
    size_t vlen;

    buf[0] = '\0';
    if (rd_kafka_message_headers(m, &h) == RD_KAFKA_RESP_ERR_NO_ERROR &&
        rd_kafka_header_get_last(h, name, &v, &vlen) == RD_KAFKA_RESP_ERR_NO_ERROR)
        snprintf(buf, len, "%.*s", (int)vlen, (const char *)v);
    return buf;
}

static int setup(void **state)
{
    struct env *e = calloc(1, sizeof(*e));
    const char *tmp = getenv("TMPDIR");
    char err[256];

    if (!e || nc_embedded_new(1, &e->mock, err, sizeof(err)) != 0)
        return -1;
    e->bs = nc_embedded_bootstraps(e->mock);
    snprintf(e->dir, sizeof(e->dir), "%s/newsclf-output-XXXXXX", tmp && *tmp ? tmp : "/tmp");
    if (!mkdtemp(e->dir))
        return -1;
    *state = e;
    return 0;
}

static int teardown(void **state)
{
    struct env *e = *state;
    char cmd[512];
    nc_embedded_free(e->mock);
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", e->dir);
    if (system(cmd) != 0)
        fprintf(stderr, "could not remove %s\n", e->dir);
    free(e);
    return 0;
}

/* ---- records ---- */

/* The one message of a topic. */
struct got {
    char key[256], value[4096];
    int64_t ts;
    char hdr[8][256];
};

static const char *const hdr_names[] = {"trace-id",           "newsclf-labels",
                                        "newsclf-model",      "content-type",
                                        "newsclf-reclassified", "newsclf-error",
                                        "newsclf-source-topic", "newsclf-source-offset"};

static void keep(void *arg, const rd_kafka_message_t *m)
{
    struct got *g = arg;
    snprintf(g->key, sizeof(g->key), "%.*s", (int)m->key_len, (const char *)m->key);
    snprintf(g->value, sizeof(g->value), "%.*s", (int)m->len, (const char *)m->payload);
    g->ts = rd_kafka_message_timestamp(m, NULL);
    for (size_t i = 0; i < 8; i++)
        header(m, hdr_names[i], g->hdr[i], sizeof(g->hdr[i]));
}

static void counted(void *owner, void *opaque, rd_kafka_resp_err_t err, const rd_kafka_message_t *m)
{
    int *acked = owner;
    (void)opaque;
    (void)m;
    if (!err)
        (*acked)++;
}

/* The input message (topic in.hdr, offset 0), consumed for real. */
static rd_kafka_message_t *consume_input(struct env *e, rd_kafka_t **rkp)
{
    rd_kafka_t *rk = client(e, RD_KAFKA_CONSUMER);
    rd_kafka_topic_partition_list_t *l = rd_kafka_topic_partition_list_new(1);
    long long deadline = nc_now_ms() + 30000;
    rd_kafka_message_t *m = NULL;

    rd_kafka_topic_partition_list_add(l, "in.hdr", 0)->offset = RD_KAFKA_OFFSET_BEGINNING;
    assert_int_equal(rd_kafka_assign(rk, l), 0);
    rd_kafka_topic_partition_list_destroy(l);
    while (!m && nc_now_ms() < deadline) {
        m = rd_kafka_consumer_poll(rk, 100);
        if (m && m->err) {
            rd_kafka_message_destroy(m);
            m = NULL;
        }
    }
    assert_non_null(m);
    *rkp = rk;
    return m;
}

static void test_records(void **state)
{
    struct env *e = *state;
    const char *article = "{\"id\":\"a-1\",\"title\":\"Sanctions on steel exports\","
                          "\"body\":\"The council agreed new sanctions and an export ban.\"}";
    rd_kafka_t *p = client(e, RD_KAFKA_PRODUCER), *cons = NULL;
    rd_kafka_headers_t *h = rd_kafka_headers_new(1);
    nc_config *cfg = nc_config_new_defaults();
    struct nc_output_opts oo = {.deadletter = 1, .reclassified = 1};
    struct nc_kafka_out_opts ko = {.client = {.bootstrap = e->bs}, .dr = counted};
    nc_model *model = NULL;
    nc_output *o = NULL;
    nc_kafka_out *out = NULL;
    nc_article *a = nc_article_new();
    nc_workspace *ws;
    nc_result res;
    rd_kafka_message_t *in;
    char err[512], labels[NC_MAX_LABELS * NC_LABEL_MAX];
    const char *dests[64], *failed = NULL;
    size_t vlen, n, produced;
    char *value;
    int acked = 0;
    struct got g;

    create(e, "in.hdr", 1);
    create(e, "news.labeled", 1);
    create(e, "news.deadletter", 1);
    rd_kafka_header_add(h, "trace-id", -1, "abc", -1);
    rd_kafka_header_add(h, "newsclf-model", -1, "stale", -1);
    produce(p, "in.hdr", "k1", article, h, 1700000000123LL);
    flush(p);
    rd_kafka_destroy(p);
    in = consume_input(e, &cons);

    assert_int_equal(nc_output_load_model(cfg, model_dir, &model, err, sizeof(err)), 0);
    assert_int_equal(nc_output_new(cfg, model, &oo, &o, err, sizeof(err)), 0);
    ws = nc_workspace_new(model);
    assert_int_equal(nc_article_parse(a, in->payload, in->len, 1 << 20, err, sizeof(err)),
                     NC_ART_OK);
    assert_int_equal(nc_model_classify(model, ws, a, &res, err, sizeof(err)), 0);
    value = nc_output_encode(o, a, &res, in, &vlen, err, sizeof(err));
    assert_non_null(value);
    nc_encode_labels_csv(model, &res, labels, sizeof(labels));
    n = nc_output_route(o, &res, dests);
    assert_true(n >= 1);
    ko.owner = &acked;
    assert_int_equal(nc_kafka_out_new(cfg, &ko, &out, err, sizeof(err)), 0);
    {
        struct nc_output_record rec = {in, nc_article_id(a), labels, value, vlen};
        assert_int_equal(nc_output_produce(o, out, &rec, dests, 1, NULL, NULL, &produced, &failed),
                         0);
    }
    assert_int_equal(produced, 1);
    assert_int_equal(
        nc_output_deadletter_produce(o, out, in, "invalid_json", "a detail", NULL, NULL), 0);
    assert_int_equal(rd_kafka_flush(nc_kafka_out_handle(out), 30000), 0);
    assert_int_equal(acked, 2);

    memset(&g, 0, sizeof(g));
    assert_int_equal(read_topic(e, "news.labeled", 1, keep, &g), 1);
    assert_string_equal(g.key, "a-1");
    assert_true(g.ts == 1700000000123LL);
    assert_true(vlen < sizeof(g.value));
    assert_memory_equal(g.value, value, vlen);
    assert_string_equal(g.hdr[0], "abc");
    assert_string_equal(g.hdr[1], labels);
    assert_string_equal(g.hdr[2], nc_output_model_header(o)); /* replaced, one value */
    assert_string_equal(g.hdr[3], "application/json");
    assert_string_equal(g.hdr[4], "true");

    memset(&g, 0, sizeof(g));
    assert_int_equal(read_topic(e, "news.deadletter", 1, keep, &g), 1);
    assert_string_equal(g.key, "k1");
    assert_string_equal(g.value, article);
    assert_string_equal(g.hdr[0], "abc");
    assert_string_equal(g.hdr[5], "invalid_json");
    assert_string_equal(g.hdr[6], "in.hdr");
    assert_string_equal(g.hdr[7], "0");

    free(value);
    rd_kafka_message_destroy(in);
    rd_kafka_destroy(cons);
    nc_kafka_out_free(out);
    nc_workspace_free(ws);
    nc_article_free(a);
    nc_output_free(o);
    nc_model_free(model);
    nc_config_free(cfg);
}

/* ---- the rule, for newsclfd and reclassify ---- */

struct idset {
    char ids[NARTICLES][64];
    size_t n;
};

static void idset_add(struct idset *s, const char *id, size_t len)
{
    assert_true(s->n < NARTICLES && len < sizeof(s->ids[0]));
    memcpy(s->ids[s->n], id, len);
    s->ids[s->n][len] = '\0';
    s->n++;
}

static int cmp_id(const void *a, const void *b)
{
    return strcmp(a, b);
}

/* Fails unless a and b hold the same ids. */
static void assert_same(struct idset *a, struct idset *b, const char *what)
{
    qsort(a->ids, a->n, sizeof(a->ids[0]), cmp_id);
    qsort(b->ids, b->n, sizeof(b->ids[0]), cmp_id);
    if (a->n != b->n)
        fail_msg("%s: %zu articles, expected %zu", what, a->n, b->n);
    for (size_t i = 0; i < a->n; i++)
        if (strcmp(a->ids[i], b->ids[i]) != 0)
            fail_msg("%s: has %s, expected %s", what, a->ids[i], b->ids[i]);
}

static void collect_key(void *arg, const rd_kafka_message_t *m)
{
    idset_add(arg, m->key, m->key_len);
}

/* Produces the first NARTICLES articles to news.articles (keyed by id),
 * chooses route_min (half the highest sanctions probability below the
 * threshold) and fills the expected sets: sanctions on (>= threshold), and
 * >= route_min. */
static void produce_articles(struct env *e, struct idset *on, struct idset *over_min)
{
    FILE *fp = fopen(articles_path, "r");
    rd_kafka_t *p = client(e, RD_KAFKA_PRODUCER);
    nc_model *m = NULL;
    nc_workspace *ws;
    nc_article *a = nc_article_new();
    char line[65536], err[512];
    static char ids[NARTICLES][64];
    double prob[NARTICLES], off_max = 0;
    int is_on[NARTICLES];
    size_t between = 0, n = 0;
    int li;

    assert_non_null(fp);
    assert_int_equal(nc_model_load(model_dir, &m, err, sizeof(err)), 0);
    ws = nc_workspace_new(m);
    li = nc_model_label_index(m, "sanctions");
    assert_true(li >= 0);
    for (; n < NARTICLES && fgets(line, sizeof(line), fp); n++) {
        nc_result res;
        const char *id;
        line[strcspn(line, "\n")] = '\0';
        assert_int_equal(nc_article_parse(a, line, strlen(line), 1 << 20, err, sizeof(err)),
                         NC_ART_OK);
        assert_int_equal(nc_model_classify(m, ws, a, &res, err, sizeof(err)), 0);
        id = nc_article_id(a);
        assert_non_null(id);
        assert_true(strlen(id) < sizeof(ids[0]));
        memcpy(ids[n], id, strlen(id) + 1);
        prob[n] = res.prob[li];
        is_on[n] = res.on[li];
        if (!is_on[n] && prob[n] > off_max)
            off_max = prob[n];
        produce(p, "news.articles", id, line, NULL, 0);
    }
    assert_int_equal(n, NARTICLES);
    route_min = off_max / 2;
    assert_true(route_min > 0 && route_min < nc_model_threshold(m, (size_t)li));
    for (size_t i = 0; i < n; i++) {
        if (is_on[i])
            idset_add(on, ids[i], strlen(ids[i]));
        if (prob[i] >= route_min)
            idset_add(over_min, ids[i], strlen(ids[i]));
        between += prob[i] >= route_min && !is_on[i];
    }
    /* Else the test could not tell the two rules apart. */
    assert_true(between > 0);
    assert_true(on->n > 0);
    flush(p);
    rd_kafka_destroy(p);
    nc_workspace_free(ws);
    nc_article_free(a);
    nc_model_free(m);
    fclose(fp);
}

/* A config file: the mock's brokers, the model, the outputs under prefix
 * (aggregate <prefix>labeled, labels <prefix>labeled.<label>), and the two
 * sanctions routes at route_min (its own topic, <prefix>desk). */
static void write_config(struct env *e, const char *path, const char *prefix)
{
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fprintf(f,
            "kafka:\n  brokers: \"%s\"\n  input_topics: [news.articles]\n  group: output-e2e\n"
            "  instance_id: output-e2e\n"
            "  consumer:\n    session.timeout.ms: \"6000\"\n    heartbeat.interval.ms: \"500\"\n"
            "model:\n  path: \"%s\"\n"
            "outputs:\n  aggregate:\n    topic: %slabeled\n"
            "  labels:\n    topic_prefix: %slabeled.\n"
            "  deadletter:\n    topic: %sdeadletter\n"
            "  routes:\n"
            "    - {label: sanctions, topic: %slabeled.sanctions, min_probability: %.17g}\n"
            "    - {label: sanctions, topic: %sdesk, min_probability: %.17g}\n"
            "metrics:\n  enabled: false\n"
            "limits:\n  shutdown_timeout_ms: 10000\n",
            e->bs, model_dir, prefix, prefix, prefix, prefix, route_min, prefix, route_min);
    assert_int_equal(fclose(f), 0);
}

/* Starts argv with stdout and stderr into log. */
static pid_t spawn(char *const argv[], const char *log)
{
    posix_spawn_file_actions_t fa;
    pid_t pid;

    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, 1, log, O_WRONLY | O_CREAT | O_APPEND, 0644);
    posix_spawn_file_actions_adddup2(&fa, 1, 2);
    if (posix_spawn(&pid, argv[0], &fa, NULL, argv, environ) != 0)
        fail_msg("cannot start %s: %s", argv[0], strerror(errno));
    posix_spawn_file_actions_destroy(&fa);
    return pid;
}

/* The exit status of pid; fails (showing the log) unless it is 0. */
static void expect_exit0(pid_t pid, const char *log)
{
    int st = 0;
    char cmd[600];

    assert_int_equal(waitpid(pid, &st, 0), pid);
    if (!WIFEXITED(st) || WEXITSTATUS(st) != 0) {
        snprintf(cmd, sizeof(cmd), "tail -30 '%s' >&2", log);
        if (system(cmd) != 0)
            fprintf(stderr, "(no log)\n");
        fail_msg("%s: exit status %d", log, WIFEXITED(st) ? WEXITSTATUS(st) : -1);
    }
}

/* newsclfd until every article is on the aggregate topic, then SIGTERM. */
static void run_daemon(struct env *e, const char *cfg)
{
    char log[300];
    char *argv[] = {(char *)newsclfd_bin, "--config", (char *)cfg, NULL};
    long long deadline = nc_now_ms() + DEADLINE_MS;
    size_t n = 0;
    pid_t pid;

    snprintf(log, sizeof(log), "%s/newsclfd.log", e->dir);
    pid = spawn(argv, log);
    while (n < NARTICLES && nc_now_ms() < deadline)
        n = read_topic(e, "d.labeled", 2, NULL, NULL); /* each read waits for the ends */
    kill(pid, SIGTERM);
    expect_exit0(pid, log);
    assert_int_equal(n, NARTICLES);
}

static void test_route_rule(void **state)
{
    struct env *e = *state;
    static struct idset on, over_min, got; /* large */
    const char *labels[] = {"conflict", "sanctions", "trade", "vaccines"};
    char cfg_d[300], cfg_r[300], log[300], topic[64];
    char *argv[] = {(char *)newsclf_bin, "reclassify", "--config", cfg_r, "--from", "beginning",
                    NULL};

    create(e, "news.articles", 2);
    for (int d = 0; d < 2; d++) {
        const char *pre = d ? "r." : "d.";
        for (size_t i = 0; i < 4; i++) {
            snprintf(topic, sizeof(topic), "%slabeled.%s", pre, labels[i]);
            create(e, topic, 2);
        }
        snprintf(topic, sizeof(topic), "%slabeled", pre);
        create(e, topic, 2);
        snprintf(topic, sizeof(topic), "%sdesk", pre);
        create(e, topic, 2);
        snprintf(topic, sizeof(topic), "%sdeadletter", pre);
        create(e, topic, 2);
    }
    memset(&on, 0, sizeof(on));
    memset(&over_min, 0, sizeof(over_min));
    produce_articles(e, &on, &over_min);
    snprintf(cfg_d, sizeof(cfg_d), "%s/daemon.yaml", e->dir);
    snprintf(cfg_r, sizeof(cfg_r), "%s/reclassify.yaml", e->dir);
    write_config(e, cfg_d, "d.");
    write_config(e, cfg_r, "r.");

    run_daemon(e, cfg_d);
    snprintf(log, sizeof(log), "%s/reclassify.log", e->dir);
    expect_exit0(spawn(argv, log), log);

    for (int d = 0; d < 2; d++) {
        const char *who = d ? "reclassify" : "newsclfd";
        char what[128];
        snprintf(topic, sizeof(topic), "%slabeled.sanctions", d ? "r." : "d.");
        memset(&got, 0, sizeof(got));
        read_topic(e, topic, 2, collect_key, &got);
        snprintf(what, sizeof(what), "%s: %s (the articles with the label)", who, topic);
        assert_same(&got, &on, what);
        snprintf(topic, sizeof(topic), "%sdesk", d ? "r." : "d.");
        memset(&got, 0, sizeof(got));
        read_topic(e, topic, 2, collect_key, &got);
        snprintf(what, sizeof(what), "%s: %s (min_probability %g)", who, topic, route_min);
        assert_same(&got, &over_min, what);
    }
}

int main(int argc, char **argv)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_records, setup, teardown),
        cmocka_unit_test_setup_teardown(test_route_rule, setup, teardown),
    };

    if (argc != 5) {
        fprintf(stderr, "usage: test_output_e2e NEWSCLFD NEWSCLF MODEL_DIR ARTICLES.jsonl\n");
        return 2;
    }
    newsclfd_bin = argv[1];
    newsclf_bin = argv[2];
    model_dir = argv[3];
    articles_path = argv[4];
    return cmocka_run_group_tests(tests, NULL, NULL);
}
