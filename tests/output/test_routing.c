/*
 * test_routing.c - kafka/output.c's routing decision (cmocka), the one
 * newsclfd and `newsclf reclassify` share: which topics one classified
 * result goes to for a configuration and models/default (labels conflict
 * 0.32, sanctions, trade, vaccines 0.5). Pins the rule that a route naming
 * a label's own topic cannot change what that topic carries, whatever its
 * min_probability, and that a route to another topic uses its own.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "kafka/output.h"

#ifndef NC_TEST_MODEL
#define NC_TEST_MODEL "models/default"
#endif

struct fx {
    nc_model *model;
    nc_config *cfg;
    nc_output *out;
    FILE *logf; /* what nc_output_new logs */
    nc_log *log;
    const char *dests[128];
    size_t n;
};

static int setup(void **state)
{
    struct fx *f = calloc(1, sizeof(*f));
    char err[512];

    if (!f)
        return -1;
    if (nc_model_load(NC_TEST_MODEL, &f->model, err, sizeof(err)) != 0) {
        fprintf(stderr, "test_routing: %s\n", err);
        free(f);
        return -1;
    }
    f->cfg = nc_config_new_defaults();
    f->logf = tmpfile();
    f->log = f->logf ? nc_log_new(f->logf, NC_LOG_INFO) : NULL;
    *state = f;
    return f->cfg && f->log ? 0 : -1;
}

static int teardown(void **state)
{
    struct fx *f = *state;
    nc_output_free(f->out);
    nc_config_free(f->cfg);
    nc_model_free(f->model);
    nc_log_free(f->log);
    if (f->logf)
        fclose(f->logf);
    free(f);
    return 0;
}

/* Applies --set style overrides and builds the output (must succeed). */
static void build(struct fx *f, const struct nc_output_opts *opts, const char *const *sets)
{
    char err[NC_CONFIG_ERRLEN];
    struct nc_output_opts dflt = {.deadletter = 1, .log = f->log};

    for (size_t i = 0; sets && sets[i]; i++)
        if (nc_config_set(f->cfg, sets[i], err, sizeof(err)) != 0)
            fail_msg("%s: %s", sets[i], err);
    if (nc_config_validate(f->cfg, err, sizeof(err)) != 0)
        fail_msg("validate: %s", err);
    /* As newsclfd and reclassify load it: model.thresholds applied. */
    nc_model_free(f->model);
    f->model = NULL;
    if (nc_output_load_model(f->cfg, NC_TEST_MODEL, &f->model, err, sizeof(err)) != 0)
        fail_msg("nc_output_load_model: %s", err);
    if (nc_output_new(f->cfg, f->model, opts ? opts : &dflt, &f->out, err, sizeof(err)) != 0)
        fail_msg("nc_output_new: %s", err);
    assert_true(nc_output_max_dests(f->out) <= sizeof(f->dests) / sizeof(f->dests[0]));
}

/* A result with probability p for label (and 0.01 for the others); `on`
 * as the classifier sets it: p >= the label's threshold in the model. */
static nc_result result(const struct fx *f, const char *label, double p)
{
    nc_result r;
    int li = nc_model_label_index(f->model, label);

    assert_true(li >= 0);
    memset(&r, 0, sizeof(r));
    r.nlabels = nc_model_nlabels(f->model);
    for (size_t i = 0; i < r.nlabels; i++)
        r.prob[i] = 0.01;
    r.prob[li] = p;
    for (size_t i = 0; i < r.nlabels; i++)
        r.on[i] = r.prob[i] >= nc_model_threshold(f->model, i);
    return r;
}

/* The topics of r joined with ",". */
static const char *route(struct fx *f, const nc_result *r)
{
    static char buf[1024];
    size_t off = 0;

    f->n = nc_output_route(f->out, r, f->dests);
    buf[0] = '\0';
    for (size_t i = 0; i < f->n; i++)
        off += (size_t)snprintf(buf + off, sizeof(buf) - off, "%s%s", i ? "," : "", f->dests[i]);
    return buf;
}

/* Fails unless a result with probability p for label goes to want. */
static void expect_route(struct fx *f, const char *label, double p, const char *want)
{
    nc_result r = result(f, label, p);
    const char *got = route(f, &r);
    if (strcmp(got, want) != 0)
        fail_msg("%s at %.2f: \"%s\", expected \"%s\"", label, p, got, want);
}

static char *logged(struct fx *f)
{
    static char buf[4096];
    size_t n;
    fflush(f->logf);
    rewind(f->logf);
    n = fread(buf, 1, sizeof(buf) - 1, f->logf);
    buf[n] = '\0';
    return buf;
}

/* The rule: a route to the label's own topic with a min_probability below
 * the threshold does not put articles under the threshold there (README:
 * the label topic has only articles with that label); the same
 * min_probability on another topic is honoured. */
static void test_own_topic_keeps_threshold(void **state)
{
    struct fx *f = *state;
    const char *sets[] = {
        "outputs.routes=sanctions:news.labeled.sanctions:0.2,sanctions:sanctions.desk:0.2",
        NULL};

    build(f, NULL, sets);
    expect_route(f, "sanctions", 0.3, "news.labeled,sanctions.desk");
    expect_route(f, "sanctions", 0.6, "news.labeled,news.labeled.sanctions,sanctions.desk");
    assert_non_null(strstr(logged(f), "warn  outputs.routes: min_probability 0.2 of the route of "
                                      "label sanctions to news.labeled.sanctions is ignored"));
}

/* ... and a higher one does not take articles with the label away. */
static void test_own_topic_higher_min(void **state)
{
    struct fx *f = *state;
    const char *sets[] = {"outputs.routes=trade:news.labeled.trade:0.9", NULL};

    build(f, NULL, sets);
    expect_route(f, "trade", 0.6, "news.labeled,news.labeled.trade");
    expect_route(f, "trade", 0.4, "news.labeled");
}

/* A route without min_probability: the label's threshold, from
 * model.thresholds when set there; no warning for its own topic. */
static void test_route_default_min(void **state)
{
    struct fx *f = *state;
    const char *sets[] = {"model.thresholds.trade=0.7",
                          "outputs.routes=trade:desk.trade,trade:news.labeled.trade", NULL};
    nc_result r;

    build(f, NULL, sets);
    r = result(f, "trade", 0.65); /* over the model's 0.5, under the configured 0.7 */
    assert_false(r.on[nc_model_label_index(f->model, "trade")]);
    assert_string_equal(route(f, &r), "news.labeled");
    expect_route(f, "trade", 0.75, "news.labeled,news.labeled.trade,desk.trade");
    assert_null(strstr(logged(f), "ignored"));
}

/* Routes of several labels to one topic, or to the aggregate topic:
 * every topic once, the aggregate first. */
static void test_shared_topics(void **state)
{
    struct fx *f = *state;
    const char *sets[] = {"outputs.routes=vaccines:desk:0.4,conflict:desk:0.1,"
                          "vaccines:news.labeled:0.1",
                          NULL};
    nc_result r;

    build(f, NULL, sets);
    expect_route(f, "vaccines", 0.45, "news.labeled,desk");
    expect_route(f, "vaccines", 0.3, "news.labeled");
    r = result(f, "vaccines", 0.9);
    r.prob[nc_model_label_index(f->model, "conflict")] = 0.2; /* desk for conflict too */
    assert_string_equal(route(f, &r), "news.labeled,desk,news.labeled.vaccines");
}

/* Without label topics, a route to "<prefix><label>" is just a route. */
static void test_labels_disabled(void **state)
{
    struct fx *f = *state;
    const char *sets[] = {"outputs.labels.enabled=false", "outputs.aggregate.enabled=false",
                          "outputs.routes=sanctions:news.labeled.sanctions:0.2", NULL};

    build(f, NULL, sets);
    expect_route(f, "sanctions", 0.3, "news.labeled.sanctions");
    expect_route(f, "sanctions", 0.1, "");
    assert_null(strstr(logged(f), "ignored"));
}

/* An article skipped for its language: the aggregate topic only. */
static void test_skipped(void **state)
{
    struct fx *f = *state;
    const char *sets[] = {"outputs.routes=conflict:desk:0.1", NULL};
    nc_result r;

    build(f, NULL, sets);
    r = result(f, "conflict", 0.9);
    r.skipped = NC_SKIP_LANGUAGE;
    assert_string_equal(route(f, &r), "news.labeled");
}

/* The topics checked at start, and the dead-letter fallback. */
static void test_topics_and_deadletter(void **state)
{
    struct fx *f = *state;
    const char *sets[] = {"outputs.routes=trade:desk:0.3,conflict:news.labeled.trade", NULL};
    size_t n;
    const char *const *t;

    build(f, NULL, sets);
    t = nc_output_topics(f->out, &n);
    assert_int_equal(n, 7);
    assert_string_equal(t[0], "news.labeled");
    assert_string_equal(t[1], "news.labeled.conflict");
    assert_string_equal(t[4], "news.labeled.vaccines");
    assert_string_equal(t[5], "desk");
    assert_string_equal(t[6], "news.deadletter");
    assert_string_equal(nc_output_deadletter(f->out), "news.deadletter");
    assert_true(nc_output_refused(f->out, RD_KAFKA_RESP_ERR_MSG_SIZE_TOO_LARGE));
    assert_false(nc_output_refused(f->out, RD_KAFKA_RESP_ERR__TIMED_OUT));
    {
        /* "<name> <version>" of the loaded model, as newsclfd writes it. */
        char want[256];
        snprintf(want, sizeof(want), "%s %s", nc_model_name(f->model),
                 nc_model_version(f->model));
        assert_string_equal(nc_output_model_header(f->out), want);
        assert_non_null(strchr(want, ' '));
        assert_true(strlen(nc_model_version(f->model)) > 0);
    }
}

/* reclassify's options: no dead-letter topic, --output-topic only. */
static void test_reclassify_opts(void **state)
{
    struct fx *f = *state;
    struct nc_output_opts o = {.only_topic = "reclass.out", .reclassified = 1};
    const char *sets[] = {"outputs.routes=trade:desk:0.3", NULL};
    size_t n;

    build(f, &o, sets);
    expect_route(f, "trade", 0.9, "reclass.out");
    assert_string_equal(nc_output_topics(f->out, &n)[0], "reclass.out");
    assert_int_equal(n, 1);
    assert_null(nc_output_deadletter(f->out));
    assert_false(nc_output_refused(f->out, RD_KAFKA_RESP_ERR_MSG_SIZE_TOO_LARGE));
}

/* Passthrough (no model): the aggregate topic, even when disabled. */
static void test_passthrough(void **state)
{
    struct fx *f = *state;
    struct nc_output_opts o = {.deadletter = 1};
    const char *dests[4];
    char err[256];
    size_t n;

    assert_int_equal(nc_config_set(f->cfg, "outputs.aggregate.enabled=false", err, sizeof(err)),
                     0);
    assert_int_equal(nc_output_new(f->cfg, NULL, &o, &f->out, err, sizeof(err)), 0);
    assert_int_equal(nc_output_route(f->out, NULL, dests), 1);
    assert_string_equal(dests[0], "news.labeled");
    assert_int_equal(nc_output_topics(f->out, &n)[0] != NULL, 1);
    assert_int_equal(n, 1);
    assert_string_equal(nc_output_model_header(f->out), "");
}

/* A route naming a label the model does not have is refused. */
static void test_unknown_label(void **state)
{
    struct fx *f = *state;
    struct nc_output_opts o = {.deadletter = 1};
    char err[512];

    assert_int_equal(nc_config_set(f->cfg, "outputs.routes=sport:desk", err, sizeof(err)), 0);
    assert_int_equal(nc_output_new(f->cfg, f->model, &o, &f->out, err, sizeof(err)), -1);
    assert_null(f->out);
    assert_non_null(strstr(err, "outputs.routes: label \"sport\" is not a label of model default"));
}

/* model.thresholds go into the model the outputs are routed with. */
static void test_load_model_thresholds(void **state)
{
    struct fx *f = *state;
    nc_model *m = NULL;
    char err[512];

    (void)f;
    assert_int_equal(nc_config_set(f->cfg, "model.thresholds.trade=0.7", err, sizeof(err)), 0);
    assert_int_equal(nc_output_load_model(f->cfg, NC_TEST_MODEL, &m, err, sizeof(err)), 0);
    assert_true(nc_model_threshold(m, (size_t)nc_model_label_index(m, "trade")) == 0.7);
    nc_model_free(m);
    assert_int_equal(nc_config_set(f->cfg, "model.thresholds.sport=0.7", err, sizeof(err)), 0);
    assert_int_equal(nc_output_load_model(f->cfg, NC_TEST_MODEL, &m, err, sizeof(err)), -1);
    assert_null(m);
    assert_non_null(strstr(err, "model.thresholds: "));
}

int main(void)
{
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
    const struct CMUnitTest tests[] = {
        T(test_own_topic_keeps_threshold), T(test_own_topic_higher_min), T(test_route_default_min),
        T(test_shared_topics),             T(test_labels_disabled),      T(test_skipped),
        T(test_topics_and_deadletter),     T(test_reclassify_opts),      T(test_passthrough),
        T(test_unknown_label),             T(test_load_model_thresholds),
    };
#undef T
    return cmocka_run_group_tests(tests, NULL, NULL);
}
