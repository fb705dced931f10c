/*
 * test_metrics.c - the metrics registry (prom.h) and newsclfd's metric set
 * (metrics.h) (cmocka):
 * the exact text format (escaping, histogram buckets) in Prometheus text
 * and OpenMetrics, the Accept negotiation, bad input to the
 * registry, the statistics parser, readiness and the STATUS line.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "service/metrics.h"

static char *render(nc_registry *r)
{
    size_t len = 0;
    char *s = nc_registry_render(r, &len);
    assert_non_null(s);
    assert_int_equal(strlen(s), len);
    return s;
}

static void test_counter_gauge_text(void **state)
{
    nc_registry *r = nc_registry_new();
    nc_family *c, *g;
    char *s;

    (void)state;
    c = nc_registry_counter(r, "x_total", "Help with \\ and\nnewline",
                            (const char *const[]){"topic", NULL});
    g = nc_registry_gauge(r, "y", "A gauge", NULL);
    assert_non_null(c);
    assert_non_null(g);
    nc_family_add(c, NC_LV("a\"b\\c\nd"), 2);
    nc_family_add(c, NC_LV("plain"), 1);
    nc_family_add(c, NC_LV("plain"), 1);
    nc_family_add(c, NC_LV("plain"), -5);  /* counters never go down */
    nc_family_set(c, NC_LV("plain"), 100); /* set is for gauges only */
    nc_family_set(g, NULL, 0.25);
    assert_true(nc_family_get(c, NC_LV("plain")) == 2);
    assert_true(nc_family_get(c, NC_LV("absent")) == 0);
    s = render(r);
    assert_string_equal(s, "# HELP x_total Help with \\\\ and\\nnewline\n"
                           "# TYPE x_total counter\n"
                           "x_total{topic=\"a\\\"b\\\\c\\nd\"} 2\n"
                           "x_total{topic=\"plain\"} 2\n"
                           "# HELP y A gauge\n"
                           "# TYPE y gauge\n"
                           "y 0.25\n");
    free(s);
    nc_registry_free(r);
}

static void test_histogram_text(void **state)
{
    nc_registry *r = nc_registry_new();
    static const double b[] = {0.1, 1};
    nc_family *h;
    char *s;

    (void)state;
    h = nc_registry_histogram(r, "lat_seconds", "Latency", NULL, b, 2);
    assert_non_null(h);
    nc_family_observe(h, NULL, 0.1); /* le is inclusive */
    nc_family_observe(h, NULL, 0.5);
    nc_family_observe(h, NULL, 7);
    s = render(r);
    assert_string_equal(s, "# HELP lat_seconds Latency\n"
                           "# TYPE lat_seconds histogram\n"
                           "lat_seconds_bucket{le=\"0.1\"} 1\n"
                           "lat_seconds_bucket{le=\"1\"} 2\n"
                           "lat_seconds_bucket{le=\"+Inf\"} 3\n"
                           "lat_seconds_sum 7.6\n"
                           "lat_seconds_count 3\n");
    free(s);
    nc_registry_free(r);
}

/* The same families in OpenMetrics: counter families without _total, a
 * counter without _total gets it on its samples, " escaped in HELP,
 * canonical bucket bounds, # EOF. */
static void test_openmetrics_text(void **state)
{
    nc_registry *r = nc_registry_new();
    const double bounds[] = {0.5, 1, 10};
    nc_family *c = nc_registry_counter(r, "x_total", "say \"hi\"", NULL);
    nc_family *n = nc_registry_counter(r, "events", "no suffix", NULL);
    nc_family *h = nc_registry_histogram(r, "d_seconds", "h", NULL, bounds, 3);
    size_t len = 0;
    char *s;

    (void)state;
    assert_non_null(c);
    assert_non_null(n);
    assert_non_null(h);
    nc_family_add(c, NULL, 3);
    nc_family_observe(h, NULL, 0.75);
    s = nc_registry_render_as(r, NC_PROM_OPENMETRICS, &len);
    assert_non_null(s);
    assert_int_equal(strlen(s), len);
    assert_string_equal(s, "# HELP x say \\\"hi\\\"\n"
                           "# TYPE x counter\n"
                           "x_total 3\n"
                           "# HELP events no suffix\n"
                           "# TYPE events counter\n"
                           "events_total 0\n"
                           "# HELP d_seconds h\n"
                           "# TYPE d_seconds histogram\n"
                           "d_seconds_bucket{le=\"0.5\"} 0\n"
                           "d_seconds_bucket{le=\"1.0\"} 1\n"
                           "d_seconds_bucket{le=\"10.0\"} 1\n"
                           "d_seconds_bucket{le=\"+Inf\"} 1\n"
                           "d_seconds_sum 0.75\n"
                           "d_seconds_count 1\n"
                           "# EOF\n");
    free(s);
    /* The Prometheus text is unchanged by the other format. */
    s = render(r);
    assert_non_null(strstr(s, "# TYPE x_total counter\nx_total 3\n"));
    assert_non_null(strstr(s, "d_seconds_bucket{le=\"1\"} 1\n"));
    assert_null(strstr(s, "# EOF"));
    free(s);
    nc_registry_free(r);
}

static void test_accept(void **state)
{
    (void)state;
    assert_int_equal(nc_prom_format_for(NULL), NC_PROM_TEXT);
    assert_int_equal(nc_prom_format_for(""), NC_PROM_TEXT);
    assert_int_equal(nc_prom_format_for("*/*"), NC_PROM_TEXT);
    assert_int_equal(nc_prom_format_for("text/plain;version=0.0.4"), NC_PROM_TEXT);
    assert_int_equal(nc_prom_format_for("application/openmetrics-text"), NC_PROM_OPENMETRICS);
    /* What Prometheus 2.x sends. */
    assert_int_equal(nc_prom_format_for("application/openmetrics-text;version=1.0.0,"
                                        "application/openmetrics-text;version=0.0.1;q=0.75,"
                                        "text/plain;version=0.0.4;q=0.5,*/*;q=0.1"),
                     NC_PROM_OPENMETRICS);
    assert_int_equal(nc_prom_format_for("text/plain, Application/OpenMetrics-Text ; q=0.2"),
                     NC_PROM_OPENMETRICS);
    assert_int_equal(nc_prom_format_for("application/openmetrics-text; q=0, text/plain"),
                     NC_PROM_TEXT);
    assert_int_equal(nc_prom_format_for("application/openmetrics-textual"), NC_PROM_TEXT);
    assert_string_equal(nc_prom_content_type(NC_PROM_TEXT),
                        "text/plain; version=0.0.4; charset=utf-8");
    assert_string_equal(nc_prom_content_type(NC_PROM_OPENMETRICS),
                        "application/openmetrics-text; version=1.0.0; charset=utf-8");
}

static void test_bad_registrations(void **state)
{
    nc_registry *r = nc_registry_new();
    static const double down[] = {1, 0.5};

    (void)state;
    assert_null(nc_registry_counter(r, "9starts_with_digit", "", NULL));
    assert_null(nc_registry_counter(r, "has-dash", "", NULL));
    assert_null(nc_registry_gauge(r, "ok", "", (const char *const[]){"bad:label", NULL}));
    assert_null(nc_registry_histogram(r, "h", "", (const char *const[]){"le", NULL}, NULL, 0));
    assert_null(nc_registry_histogram(r, "h", "", NULL, down, 2));
    assert_null(nc_registry_counter(NULL, "x", "", NULL));
    /* NULL families are ignored by the updates */
    nc_family_add(NULL, NULL, 1);
    nc_family_observe(NULL, NULL, 1);
    nc_registry_free(r);
}

static void test_retain_and_clear(void **state)
{
    nc_registry *r = nc_registry_new();
    nc_family *g = nc_registry_gauge(r, "lag", "", (const char *const[]){"p", NULL});
    char *s;

    (void)state;
    nc_family_set(g, NC_LV("0"), 1);
    nc_family_set(g, NC_LV("1"), 2);
    nc_family_retain_touched(g);
    nc_family_set(g, NC_LV("1"), 3);
    nc_family_retain_touched(g); /* "0" was not reported again: gone */
    s = render(r);
    assert_string_equal(s, "# HELP lag \n# TYPE lag gauge\nlag{p=\"1\"} 3\n");
    free(s);
    nc_family_clear(g);
    nc_family_set(g, NC_LV("2"), 4); /* the tail is consistent after a drop */
    s = render(r);
    assert_string_equal(s, "# HELP lag \n# TYPE lag gauge\nlag{p=\"2\"} 4\n");
    free(s);
    nc_registry_free(r);
}

static const char consumer_stats[] =
    "{\"name\":\"c#consumer-1\",\"type\":\"consumer\","
    "\"brokers\":{\"127.0.0.1:9/bootstrap\":{\"state\":\"INIT\",\"nodeid\":-1},"
    "\"127.0.0.1:9/1\":{\"state\":\"UP\",\"nodeid\":1}},"
    "\"topics\":{\"news.articles\":{\"partitions\":{"
    "\"0\":{\"consumer_lag\":5},\"1\":{\"consumer_lag\":-1},\"-1\":{\"consumer_lag\":7},"
    "\"2\":{\"consumer_lag\":10}}}}}";

static const char producer_stats[] = "{\"type\":\"producer\",\"msg_cnt\":3,\"msg_size\":300}";

static const char consumer_down[] =
    "{\"brokers\":{\"127.0.0.1:9/1\":{\"state\":\"DOWN\",\"nodeid\":1}},\"topics\":{}}";

static int contains(const char *hay, const char *needle)
{
    return strstr(hay, needle) != NULL;
}

static void test_daemon_set(void **state)
{
    char why[256], status[512];
    size_t len;
    char *s;
    nc_metrics *m = nc_metrics_new("9.9.9");

    (void)state;
    assert_non_null(m);
    assert_false(nc_metrics_ready(m, why, sizeof(why)));
    assert_string_equal(why, "no model loaded");
    nc_metrics_model(m, "m", "m-1");
    assert_false(nc_metrics_ready(m, why, sizeof(why)));
    assert_true(contains(why, "waiting for broker"));
    nc_metrics_status_line(m, status, sizeof(status));
    assert_true(contains(status, "waiting for broker"));

    /* statistics: lag per partition (not -1, not unknown), broker up */
    nc_metrics_kafka_stats(m, 1, consumer_stats, strlen(consumer_stats));
    assert_true(nc_metrics_ready(m, why, sizeof(why)));
    nc_metrics_kafka_stats(m, 0, producer_stats, strlen(producer_stats));
    nc_metrics_kafka_stats(m, 1, "not json", 8); /* ignored */
    nc_metrics_rebalance(m, "assigned", 3);
    nc_metrics_consumed(m, "news.articles");
    nc_metrics_consumed(m, "news.articles");
    nc_metrics_classified(m, "trade,sanctions");
    nc_metrics_classified(m, "");
    nc_metrics_deadlettered(m, "invalid_json");
    nc_metrics_produced(m, "news.labeled");
    nc_metrics_model(m, "m", "m-2"); /* a reload replaces the info series */
    nc_metrics_reload(m, 1);
    nc_metrics_reload(m, 0);
    s = nc_metrics_render(m, &len);
    assert_non_null(s);
    assert_true(contains(s, "newsclf_build_info{version=\"9.9.9\"} 1\n"));
    assert_true(contains(s, "newsclf_consumer_lag_messages{topic=\"news.articles\","
                            "partition=\"0\"} 5\n"));
    assert_true(contains(s, "partition=\"2\"} 10\n"));
    assert_false(contains(s, "partition=\"1\""));
    assert_false(contains(s, "partition=\"-1\""));
    assert_true(contains(s, "newsclf_producer_queue_messages 3\n"));
    assert_true(contains(s, "newsclf_producer_queue_bytes 300\n"));
    assert_true(contains(s, "newsclf_articles_consumed_total{topic=\"news.articles\"} 2\n"));
    assert_true(contains(s, "newsclf_articles_classified_total 2\n"));
    assert_true(contains(s, "newsclf_articles_labeled_total{label=\"trade\"} 1\n"));
    assert_true(contains(s, "newsclf_articles_labeled_total{label=\"sanctions\"} 1\n"));
    assert_true(contains(s, "newsclf_articles_deadlettered_total{reason=\"invalid_json\"} 1\n"));
    assert_true(contains(s, "newsclf_model_info{name=\"m\",version=\"m-2\"} 1\n"));
    assert_false(contains(s, "version=\"m-1\""));
    assert_true(contains(s, "newsclf_reloads_total 1\n"));
    assert_true(contains(s, "newsclf_reload_failures_total 1\n"));
    assert_true(contains(s, "newsclf_assigned_partitions 3\n"));
    free(s);
    nc_metrics_status_line(m, status, sizeof(status));
    assert_true(contains(status, "articles/s, lag 15, 3 partitions, model m-2"));

    /* broker gone but partitions still assigned: still ready (spec) */
    nc_metrics_kafka_stats(m, 1, consumer_down, strlen(consumer_down));
    assert_true(nc_metrics_ready(m, why, sizeof(why)));
    nc_metrics_rebalance(m, "lost", 3);
    assert_false(nc_metrics_ready(m, why, sizeof(why)));
    assert_true(contains(why, "waiting for broker"));
    nc_metrics_broker_reachable(m, 1);
    assert_true(nc_metrics_ready(m, why, sizeof(why)));
    nc_metrics_stopping(m);
    assert_false(nc_metrics_ready(m, why, sizeof(why)));
    assert_string_equal(why, "stopping");
    nc_metrics_fatal(m, "producer: sequence desynchronization");
    assert_false(nc_metrics_ready(m, why, sizeof(why)));
    assert_true(contains(why, "fatal error: producer: sequence"));
    nc_metrics_free(m);
    /* hooks on no set are no-ops */
    nc_metrics_consumed(NULL, "x");
    assert_null(nc_metrics_render(NULL, &len));
    assert_false(nc_metrics_ready(NULL, why, sizeof(why)));
    assert_string_equal(why, "starting");
}

/* Two sets share nothing (no process-wide state). */
static void test_two_sets(void **state)
{
    nc_metrics *a = nc_metrics_new("1"), *b = nc_metrics_new("2");
    char why[256];
    size_t len;
    char *sa, *sb;

    (void)state;
    assert_non_null(a);
    assert_non_null(b);
    nc_metrics_consumed(a, "only.a");
    nc_metrics_model(a, "m", "m-1");
    nc_metrics_broker_reachable(a, 1);
    assert_true(nc_metrics_ready(a, why, sizeof(why)));
    assert_false(nc_metrics_ready(b, why, sizeof(why)));
    assert_string_equal(why, "no model loaded");
    sa = nc_metrics_render(a, &len);
    sb = nc_metrics_render(b, &len);
    assert_true(contains(sa, "topic=\"only.a\"} 1\n"));
    assert_false(contains(sb, "only.a"));
    assert_true(contains(sb, "newsclf_build_info{version=\"2\"} 1\n"));
    free(sa);
    free(sb);
    nc_metrics_free(a);
    nc_metrics_free(b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_counter_gauge_text), cmocka_unit_test(test_histogram_text),
        cmocka_unit_test(test_openmetrics_text),   cmocka_unit_test(test_accept),
        cmocka_unit_test(test_bad_registrations),  cmocka_unit_test(test_retain_and_clear),
        cmocka_unit_test(test_daemon_set),         cmocka_unit_test(test_two_sets),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
