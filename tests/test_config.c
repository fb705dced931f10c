/*
 * test_config.c - the YAML configuration part (daemon/config/).
 *
 * Real files under tests/data/config/ (NC_TEST_CONFIG_DIR) and the shipped
 * config/newsclf.yaml (NC_SHIPPED_CONFIG). Error tests assert the exact
 * "file:line:column: " prefix and message of every line.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config/config.h"

#ifndef NC_TEST_CONFIG_DIR
#error "NC_TEST_CONFIG_DIR must name tests/data/config"
#endif
#ifndef NC_SHIPPED_CONFIG
#error "NC_SHIPPED_CONFIG must name config/newsclf.yaml"
#endif

static const char *data(const char *name, char *buf, size_t n)
{
    snprintf(buf, n, "%s/%s", NC_TEST_CONFIG_DIR, name);
    return buf;
}

/* Loads a data file expecting failure; returns the code, err filled. */
static int load_fail(const char *name, char *err, size_t errlen)
{
    char path[1024];
    nc_config *c = (nc_config *)1;
    int rc = nc_config_load(data(name, path, sizeof path), &c, err, errlen);
    assert_true(rc < 0);
    assert_null(c);
    return rc;
}

static nc_config *load_ok(const char *name)
{
    char path[1024], err[NC_CONFIG_ERRLEN];
    nc_config *c = NULL;
    int rc = nc_config_load(data(name, path, sizeof path), &c, err, sizeof err);
    if (rc != 0)
        fail_msg("%s: %s", name, err);
    assert_non_null(c);
    return c;
}

/* Asserts err is exactly these lines, each "<dir>/<file>:<rest>". */
static void expect_lines(const char *err, const char *file, const char *const *lines, size_t n)
{
    char want[4096];
    size_t o = 0;
    for (size_t i = 0; i < n; i++) {
        int w = snprintf(want + o, sizeof want - o, "%s%s/%s:%s", i ? "\n" : "", NC_TEST_CONFIG_DIR,
                         file, lines[i]);
        assert_true(w > 0 && (size_t)w < sizeof want - o);
        o += (size_t)w;
    }
    assert_string_equal(err, want);
}

#define EXPECT(err, file, ...)                                                                     \
    do {                                                                                           \
        static const char *const l_[] = {__VA_ARGS__};                                             \
        expect_lines(err, file, l_, sizeof l_ / sizeof l_[0]);                                     \
    } while (0)

static char *dump_to_string(const nc_config *c)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *fp = open_memstream(&buf, &len);
    assert_non_null(fp);
    nc_config_dump(c, fp);
    assert_int_equal(fclose(fp), 0);
    return buf;
}

/* Fails if text (a dump) holds any of the n strings. */
static void expect_hidden(const char *text, const char *const *secrets, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (strstr(text, secrets[i]))
            fail_msg("secret %s printed:\n%s", secrets[i], text);
}

/* ------------------------------------------------------------------------ */

static void test_defaults(void **state)
{
    (void)state;
    nc_config *c = nc_config_new_defaults();
    assert_non_null(c);
    assert_string_equal(c->source, "");
    assert_string_equal(c->kafka.brokers, "localhost:9092");
    assert_false(c->kafka.embedded);
    assert_string_equal(c->kafka.group, "newsclf");
    assert_string_equal(c->kafka.client_id, "newsclfd");
    assert_string_equal(c->kafka.instance_id, "");
    assert_int_equal(c->kafka.n_input_topics, 1);
    assert_string_equal(c->kafka.input_topics[0], "news.articles");
    assert_int_equal(c->kafka.delivery, NC_DELIVERY_AT_LEAST_ONCE);
    assert_int_equal(c->kafka.transaction.commit_every_messages, 1000);
    assert_int_equal(c->kafka.transaction.commit_every_ms, 100);
    assert_int_equal(c->kafka.transaction.max_attempts, 3);
    assert_true(c->kafka.static_membership);
    assert_int_equal(c->kafka.n_consumer, 0);
    assert_int_equal(c->kafka.n_producer, 0);
    assert_true(c->outputs.aggregate.enabled);
    assert_string_equal(c->outputs.aggregate.topic, "news.labeled");
    assert_true(c->outputs.labels.enabled);
    assert_string_equal(c->outputs.labels.topic_prefix, "news.labeled.");
    assert_int_equal(c->outputs.n_routes, 0);
    assert_true(c->outputs.deadletter.enabled);
    assert_string_equal(c->outputs.deadletter.topic, "news.deadletter");
    assert_int_equal(c->outputs.article_fields, NC_CONFIG_FIELDS_ALL);
    assert_int_equal(c->outputs.n_fields, 0);
    assert_false(c->outputs.create_topics);
    assert_int_equal(c->outputs.partitions, 6);
    assert_int_equal(c->outputs.replication_factor, 1);
    assert_string_equal(c->model.path, "/var/lib/newsclf/models/current");
    assert_int_equal(c->model.n_thresholds, 0);
    assert_int_equal(c->limits.max_article_bytes, 921600);
    assert_int_equal(c->limits.max_inflight_total, 10000);
    assert_int_equal(c->limits.max_inflight_per_partition, 2000);
    assert_int_equal(c->limits.queued_max_messages_kbytes, 0);
    assert_int_equal(c->limits.shutdown_timeout_ms, 20000);
    assert_int_equal(c->limits.workers, 2);
    assert_int_equal(c->logging.level, NC_LOG_INFO);
    assert_int_equal(c->logging.format, NC_LOG_TEXT);
    assert_true(c->metrics.enabled);
    assert_string_equal(c->metrics.listen, "127.0.0.1:9464");
    assert_null(nc_config_origin(c, "kafka.group"));

    char err[NC_CONFIG_ERRLEN];
    assert_int_equal(nc_config_validate(c, err, sizeof err), 0);
    assert_string_equal(err, "");
    nc_config_free(c);
    nc_config_free(NULL);
}

static void test_key_table(void **state)
{
    (void)state;
    const char *def, *help;
    size_t n = 0;
    for (const char *k; (k = nc_config_key(n, &def, &help)) != NULL; n++) {
        assert_non_null(def);
        assert_true(help && *help);
    }
    assert_int_equal(n, 36);
    assert_null(nc_config_key(n, NULL, NULL));
}

/* The shipped file: loads, equals the defaults, and spells out every key. */
static void test_shipped_equals_defaults(void **state)
{
    (void)state;
    char err[NC_CONFIG_ERRLEN], diff[4096];
    nc_config *c = NULL, *d = nc_config_new_defaults();
    int rc = nc_config_load(NC_SHIPPED_CONFIG, &c, err, sizeof err);
    if (rc != 0)
        fail_msg("%s", err);
    size_t ndiff = nc_config_diff(c, d, false, diff, sizeof diff);
    if (ndiff)
        fail_msg("shipped config differs from defaults in:\n%s", diff);

    char *a = dump_to_string(c), *b = dump_to_string(d);
    const char *ab = strchr(a, '\n'), *bb = strchr(b, '\n'); /* skip source comment */
    assert_string_equal(ab, bb);
    free(a);
    free(b);

    const char *key;
    for (size_t i = 0; (key = nc_config_key(i, NULL, NULL)) != NULL; i++) {
        const char *o = nc_config_origin(c, key);
        if (!o)
            fail_msg("key %s is missing from %s", key, NC_SHIPPED_CONFIG);
        assert_int_equal(strncmp(o, NC_SHIPPED_CONFIG ":", strlen(NC_SHIPPED_CONFIG) + 1), 0);
    }
    nc_config_free(c);
    nc_config_free(d);
}

static void test_empty_file_is_defaults(void **state)
{
    (void)state;
    nc_config *c = load_ok("empty.yaml"), *d = nc_config_new_defaults();
    assert_int_equal(nc_config_diff(c, d, false, NULL, 0), 0);
    nc_config_free(c);
    nc_config_free(d);
}

static void test_full(void **state)
{
    (void)state;
    nc_config *c = load_ok("full.yaml"), *d = nc_config_new_defaults();
    assert_true(c->kafka.embedded);
    assert_string_equal(c->kafka.instance_id, "node-1");
    assert_int_equal(c->kafka.n_input_topics, 2);
    assert_string_equal(c->kafka.input_topics[1], "^in\\.b\\..*");
    assert_int_equal(c->kafka.delivery, NC_DELIVERY_EXACTLY_ONCE);
    assert_int_equal(c->kafka.transaction.commit_every_ms, 250);
    assert_false(c->kafka.static_membership);
    /* pass-through scalars of any YAML type keep their text */
    assert_int_equal(c->kafka.n_consumer, 4);
    assert_string_equal(c->kafka.consumer[0].key, "fetch.max.bytes");
    assert_string_equal(c->kafka.consumer[0].value, "1048576");
    assert_string_equal(c->kafka.consumer[1].value, "false");
    assert_string_equal(c->kafka.consumer[3].key, "session.timeout.ms");
    assert_string_equal(c->kafka.consumer[3].value, "45000");
    assert_int_equal(c->kafka.n_producer, 2);
    assert_false(c->outputs.aggregate.enabled);
    assert_string_equal(c->outputs.aggregate.topic, "out.all");
    assert_int_equal(c->outputs.n_routes, 2);
    assert_string_equal(c->outputs.routes[1].topic, "desk.alerts");
    assert_true(c->outputs.routes[0].min_probability == 0.0);
    assert_true(c->outputs.routes[1].min_probability == 0.95);
    assert_int_equal(c->outputs.article_fields, NC_CONFIG_FIELDS_LIST);
    assert_int_equal(c->outputs.n_fields, 3);
    assert_string_equal(c->outputs.fields[2], "url");
    assert_int_equal(c->model.n_thresholds, 2);
    assert_true(nc_config_threshold(c, "sports", 0.5) == 0.6);
    assert_true(nc_config_threshold(c, "weather", 0.5) == 0.5);
    assert_true(nc_config_route_min(c, &c->outputs.routes[0], 0.5) == 0.6);
    assert_true(nc_config_route_min(c, &c->outputs.routes[1], 0.5) == 0.95);
    assert_int_equal(c->limits.workers, 8);
    assert_int_equal(c->logging.level, NC_LOG_DEBUG);
    assert_string_equal(c->metrics.listen, "[::1]:9100");

    char host[64];
    int port = -1;
    char err[256];
    assert_int_equal(
        nc_config_split_hostport(c->metrics.listen, host, sizeof host, &port, err, sizeof err), 0);
    assert_string_equal(host, "::1");
    assert_int_equal(port, 9100);

    /* every key differs from its default; origins point into the file */
    assert_int_equal(nc_config_diff(c, d, false, NULL, 0), 33);
    char where[1200];
    snprintf(where, sizeof where, "%s/full.yaml:4:10", NC_TEST_CONFIG_DIR);
    assert_string_equal(nc_config_origin(c, "kafka.group"), where);
    snprintf(where, sizeof where, "%s/full.yaml:14:22", NC_TEST_CONFIG_DIR);
    assert_string_equal(nc_config_origin(c, "kafka.consumer.fetch.max.bytes"), where);
    nc_config_free(c);
    nc_config_free(d);
}

/* Loads text (a dump) from a scratch file; fails the test if it does not load. */
static nc_config *load_text(const char *text)
{
    char err[NC_CONFIG_ERRLEN];
    char path[] = "/tmp/nc_config_dumpXXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
    close(fd);
    nc_config *r = NULL;
    int rc = nc_config_load(path, &r, err, sizeof err);
    unlink(path);
    if (rc != 0)
        fail_msg("%s\n%s", err, text);
    return r;
}

/* A dump reloads to the same config. */
static void test_dump_roundtrip(void **state)
{
    (void)state;
    nc_config *c = load_ok("full.yaml");
    char err[NC_CONFIG_ERRLEN];
    assert_int_equal(
        nc_config_set(c, "kafka.client_id=with \"quotes\" and ${dollar}", err, sizeof err), 0);
    char *text = dump_to_string(c);
    nc_config *r = load_text(text);
    char diff[1024];
    if (nc_config_diff(c, r, false, diff, sizeof diff))
        fail_msg("round trip differs in:\n%s", diff);
    assert_string_equal(r->kafka.client_id, "with \"quotes\" and ${dollar}");
    free(text);
    nc_config_free(c);
    nc_config_free(r);
}

/* ------------------------------------------------------------------------ */
/* Errors: all collected, each with file:line:column                        */

static void test_errors_all_reported(void **state)
{
    (void)state;
    char err[NC_CONFIG_ERRLEN];
    assert_int_equal(load_fail("errors.yaml", err, sizeof err), NC_CONFIG_EINVAL);
    EXPECT(err, "errors.yaml", "2:3: unknown key 'kafka.grup' (did you mean 'kafka.group'?)",
           "3:12: kafka.brokers: expected a scalar, got a list",
           "6:7: kafka.input_topics[1]: 'bad topic' is not a valid topic name (1-249 of A-Z a-z "
           "0-9 . _ -, not . or ..); a pattern must start with ^",
           "7:7: kafka.input_topics[2]: invalid regular expression '^news\\.(': Unmatched ( or \\(",
           "8:13: kafka.delivery: expected one of at-least-once, exactly-once, got 'twice'",
           "10:28: kafka.transaction.commit_every_messages: '-5' is out of range 1..1000000000",
           "11:22: kafka.static_membership: expected true or false, got 'maybe'",
           "13:5: kafka.consumer: property 'enable.auto.commit' may not be set: newsclfd controls "
           "offset commits; our delivery guarantee depends on it",
           "16:15: outputs.partitions: expected an integer from 1 to 100000, got 'lots'",
           "18:7: outputs.routes[0]: missing 'topic'",
           "21:24: outputs.routes[1].min_probability: expected a probability greater than 0 and "
           "less than 1, got '1.5'",
           "22:7: unknown key 'outputs.routes[1].colour' (a route has label, topic, "
           "min_probability)",
           "23:19: outputs.article_fields: expected all, none or a list of field names, got "
           "'some'",
           "26:13: model.thresholds.sports: expected a probability greater than 0 and less than "
           "1, got '0'",
           "28:10: logging.level: expected one of error, warn, info, debug, got 'verbose'",
           "30:11: metrics.listen: expected host:port or [ipv6]:port with port 0-65535, got "
           "'localhost'",
           "33:3: duplicate key 'limits.workers' (first at line 32 column 3)",
           "34:1: unknown key 'extra'");
}

static void test_syntax_errors(void **state)
{
    (void)state;
    char err[NC_CONFIG_ERRLEN];
    assert_int_equal(load_fail("syntax.yaml", err, sizeof err), NC_CONFIG_ESYNTAX);
    EXPECT(err, "syntax.yaml",
           "6:1: YAML syntax error: found unexpected end of stream while scanning a quoted "
           "scalar (line 3 column 12)");
    assert_int_equal(load_fail("syntax_indent.yaml", err, sizeof err), NC_CONFIG_ESYNTAX);
    EXPECT(err, "syntax_indent.yaml",
           "3:2: YAML syntax error: did not find expected key while parsing a block mapping "
           "(line 1 column 1)");
    assert_int_equal(load_fail("not_a_map.yaml", err, sizeof err), NC_CONFIG_EINVAL);
    EXPECT(err, "not_a_map.yaml",
           "1:1: expected a mapping of sections (kafka, outputs, ...), got a list");
    assert_int_equal(load_fail("two_docs.yaml", err, sizeof err), NC_CONFIG_EINVAL);
    EXPECT(err, "two_docs.yaml", "3:1: only one YAML document is allowed");
    assert_int_equal(load_fail("alias.yaml", err, sizeof err), NC_CONFIG_EINVAL);
    EXPECT(err, "alias.yaml", "3:14: YAML aliases are not supported");
}

static void test_missing_file(void **state)
{
    (void)state;
    char err[NC_CONFIG_ERRLEN];
    assert_int_equal(load_fail("no-such-file.yaml", err, sizeof err), NC_CONFIG_EIO);
    char want[1200];
    snprintf(want, sizeof want, "%s/no-such-file.yaml: cannot open: No such file or directory",
             NC_TEST_CONFIG_DIR);
    assert_string_equal(err, want);
}

/* A small buffer gets whole lines and a count of the rest. */
static void test_error_truncation(void **state)
{
    (void)state;
    char big[NC_CONFIG_ERRLEN], small[300];
    load_fail("errors.yaml", big, sizeof big);
    load_fail("errors.yaml", small, sizeof small);
    assert_true(strlen(small) < sizeof small);
    const char *tail = strrchr(small, '\n');
    assert_non_null(tail);
    size_t shown = 0;
    for (const char *p = small; (p = strchr(p, '\n')) != NULL; p++)
        shown++;
    char want[64];
    snprintf(want, sizeof want, "\n... %zu more errors", (size_t)18 - shown);
    assert_string_equal(tail, want);
    assert_int_equal(strncmp(small, big, (size_t)(tail - small)), 0);

    char tiny[8];
    load_fail("errors.yaml", tiny, sizeof tiny);
    assert_true(strlen(tiny) < sizeof tiny);
    load_fail("errors.yaml", NULL, 0); /* no buffer at all is fine */
}

/* ------------------------------------------------------------------------ */
/* Environment substitution                                                  */

static void test_env(void **state)
{
    (void)state;
    setenv("NC_TEST_HOST", "broker1", 1);
    setenv("NC_TEST_GROUP", "from-env", 1);
    setenv("NC_TEST_PASSWORD", "s3cret-from-env", 1);
    setenv("NC_TEST_EMPTY", "", 1);
    unsetenv("NC_TEST_UNSET_CLIENT");
    nc_config *c = load_ok("env.yaml");
    assert_string_equal(c->kafka.brokers, "broker1:9092");
    assert_string_equal(c->kafka.group, "from-env");
    assert_string_equal(c->kafka.client_id, "fallback-client");
    assert_string_equal(c->kafka.instance_id, "node-7"); /* :- also covers empty */
    assert_string_equal(c->kafka.consumer[0].value, "s3cret-from-env");
    assert_string_equal(c->kafka.consumer[1].value, "${literal}");
    nc_config_free(c);

    setenv("NC_TEST_UNSET_CLIENT", "explicit", 1);
    c = load_ok("env.yaml");
    assert_string_equal(c->kafka.client_id, "explicit");
    nc_config_free(c);
    unsetenv("NC_TEST_UNSET_CLIENT");
}

static void test_env_missing(void **state)
{
    (void)state;
    char err[NC_CONFIG_ERRLEN];
    unsetenv("NC_TEST_MISSING");
    unsetenv("NC_TEST_MISSING_TOO");
    assert_int_equal(load_fail("env_missing.yaml", err, sizeof err), NC_CONFIG_EINVAL);
    EXPECT(err, "env_missing.yaml",
           "3:14: kafka.client_id: environment variable NC_TEST_MISSING is not set (use "
           "${NC_TEST_MISSING:-default})",
           "5:20: kafka.producer.sasl.username: environment variable NC_TEST_MISSING_TOO is not "
           "set (use ${NC_TEST_MISSING_TOO:-default})",
           "6:16: kafka.instance_id: malformed variable reference: expected ${NAME} or "
           "${NAME:-default}");
}

/* ------------------------------------------------------------------------ */
/* librdkafka pass-through                                                    */

static void test_refused_properties(void **state)
{
    (void)state;
    char err[NC_CONFIG_ERRLEN];
    assert_int_equal(load_fail("refused.yaml", err, sizeof err), NC_CONFIG_EINVAL);
    EXPECT(err, "refused.yaml",
           "3:5: kafka.consumer: property 'enable.auto.offset.store' may not be set: newsclfd "
           "stores offsets itself, only after the output is delivered; our delivery guarantee "
           "depends on it",
           "4:5: kafka.consumer: property 'enable.auto.commit' may not be set: newsclfd controls "
           "offset commits; our delivery guarantee depends on it",
           "5:5: kafka.consumer: property 'isolation.level' may not be set: newsclfd sets it "
           "from kafka.delivery; our delivery guarantee depends on it",
           "6:5: kafka.consumer: property 'partition.assignment.strategy' may not be set: "
           "newsclfd's rebalance handling (offset watermarks) depends on the strategy it sets",
           "9:5: kafka.producer: property 'enable.idempotence' may not be set: newsclfd always "
           "uses the idempotent producer; our delivery guarantee depends on it",
           "10:5: kafka.producer: property 'acks' may not be set: newsclfd requires acks=all; "
           "our delivery guarantee depends on it",
           "11:5: kafka.producer: property 'transactional.id' may not be set: newsclfd derives it "
           "from kafka.instance_id for exactly-once; our delivery guarantee depends on it");

    /* the same list through --set, aliases and case included */
    nc_config *c = nc_config_new_defaults();
    static const char *const refused[] = {
        "kafka.consumer.enable.auto.offset.store=false",
        "kafka.consumer.enable.auto.commit=true",
        "kafka.producer.enable.idempotence=false",
        "kafka.producer.acks=1",
        "kafka.producer.request.required.acks=1",
        "kafka.consumer.isolation.level=x",
        "kafka.producer.transactional.id=x",
        "kafka.consumer.ENABLE.AUTO.COMMIT=true",
        "kafka.consumer.partition.assignment.strategy=range",
        "kafka.consumer.group.id=other",
        "kafka.consumer.bootstrap.servers=x:1",
    };
    for (size_t i = 0; i < sizeof refused / sizeof refused[0]; i++) {
        assert_int_equal(nc_config_set(c, refused[i], err, sizeof err), NC_CONFIG_EINVAL);
        assert_non_null(strstr(err, "may not be set"));
    }
    assert_int_equal(c->kafka.n_consumer, 0);
    assert_int_equal(c->kafka.n_producer, 0);
    nc_config_free(c);
}

/* ------------------------------------------------------------------------ */
/* Input topics that would consume our own output                            */

static void test_loops_refused(void **state)
{
    (void)state;
    char err[NC_CONFIG_ERRLEN];
    assert_int_equal(load_fail("loop_regex.yaml", err, sizeof err), NC_CONFIG_EINVAL);
    EXPECT(err, "loop_regex.yaml",
           "4:7: kafka.input_topics[1] pattern '^news\\..*' matches our output topic "
           "'news.labeled' (outputs.aggregate.topic): newsclfd would consume its own output");
    assert_int_equal(load_fail("loop_prefix.yaml", err, sizeof err), NC_CONFIG_EINVAL);
    EXPECT(err, "loop_prefix.yaml",
           "3:7: kafka.input_topics[0] pattern '^news\\.labeled\\.[a-z]+$' matches per-label "
           "output topics such as 'news.labeled.x' (outputs.labels.topic_prefix): newsclfd "
           "would consume its own output");
    assert_int_equal(load_fail("loop_plain.yaml", err, sizeof err), NC_CONFIG_EINVAL);
    EXPECT(err, "loop_plain.yaml",
           "2:33: kafka.input_topics[1] 'news.deadletter' is also our output topic "
           "(outputs.deadletter.topic): newsclfd would consume its own output",
           "2:50: kafka.input_topics[2] 'news.labeled.sports' is a per-label output topic "
           "(outputs.labels.topic_prefix 'news.labeled.'): newsclfd would consume its own output");
    assert_int_equal(load_fail("loop_route.yaml", err, sizeof err), NC_CONFIG_EINVAL);
    EXPECT(err, "loop_route.yaml",
           "3:7: kafka.input_topics[0] pattern '^desk\\.' matches our output topic "
           "'desk.sports' (outputs.routes[0]): newsclfd would consume its own output");

    nc_config *c = load_ok("regex_ok.yaml");
    assert_int_equal(c->kafka.n_input_topics, 2);
    nc_config_free(c);
}

static void test_cross_field(void **state)
{
    (void)state;
    char err[NC_CONFIG_ERRLEN];
    assert_int_equal(load_fail("inflight.yaml", err, sizeof err), NC_CONFIG_EINVAL);
    EXPECT(err, "inflight.yaml",
           "3:31: limits.max_inflight_per_partition (200) exceeds limits.max_inflight_total "
           "(100)");

    nc_config *c = nc_config_new_defaults();
    assert_int_equal(nc_config_set(c, "outputs.aggregate.topic=news.deadletter", err, sizeof err),
                     0);
    assert_int_equal(nc_config_validate(c, err, sizeof err), NC_CONFIG_EINVAL);
    assert_string_equal(err, "--set: outputs.aggregate.topic 'news.deadletter' is also "
                             "outputs.deadletter.topic");
    nc_config_free(c);
}

/* ------------------------------------------------------------------------ */
/* --set                                                                      */

static void test_set_overrides(void **state)
{
    (void)state;
    char err[NC_CONFIG_ERRLEN];
    nc_config *c = load_ok("full.yaml");
    static const char *const ok[] = {
        "kafka.group=override",
        "kafka.brokers=b1:9092,b2:9092",
        "kafka.input_topics=a.one,^b\\..*",
        "kafka.consumer.fetch.max.bytes=2097152",
        "kafka.consumer.auto.offset.reset=",
        "kafka.producer.sasl.password=pw",
        "kafka.static_membership=true",
        "kafka.delivery=at-least-once",
        "kafka.transaction.commit_every_ms=7",
        "outputs.routes=crime:desk.crime:0.9,sports:desk.sports",
        "outputs.article_fields=none",
        "model.thresholds.sports=0.7",
        "model.thresholds.politics=",
        "limits.workers=4",
        "logging.level=warn",
        "metrics.listen=0.0.0.0:0",
    };
    for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++)
        if (nc_config_set(c, ok[i], err, sizeof err) != 0)
            fail_msg("%s: %s", ok[i], err);
    assert_int_equal(nc_config_validate(c, err, sizeof err), 0);
    assert_string_equal(c->kafka.group, "override");
    assert_false(c->kafka.embedded);
    assert_int_equal(c->kafka.n_input_topics, 2);
    assert_string_equal(c->kafka.input_topics[1], "^b\\..*");
    assert_int_equal(c->kafka.n_consumer, 3); /* one replaced, one removed */
    assert_string_equal(c->kafka.consumer[0].value, "2097152");
    assert_int_equal(c->kafka.n_producer, 3);
    assert_true(c->kafka.static_membership);
    assert_int_equal(c->kafka.transaction.commit_every_ms, 7);
    assert_int_equal(c->outputs.n_routes, 2);
    assert_string_equal(c->outputs.routes[0].label, "crime");
    assert_true(c->outputs.routes[0].min_probability == 0.9);
    assert_true(c->outputs.routes[1].min_probability == 0.0);
    assert_int_equal(c->outputs.article_fields, NC_CONFIG_FIELDS_NONE);
    assert_int_equal(c->model.n_thresholds, 1);
    assert_true(nc_config_threshold(c, "sports", 0) == 0.7);
    assert_int_equal(c->limits.workers, 4);
    assert_int_equal(c->logging.level, NC_LOG_WARN);
    assert_string_equal(nc_config_origin(c, "kafka.group"), "--set");
    assert_string_equal(nc_config_origin(c, "kafka.input_topics[0]"), "--set");

    assert_int_equal(nc_config_set(c, "outputs.article_fields=id,title", err, sizeof err), 0);
    assert_int_equal(c->outputs.article_fields, NC_CONFIG_FIELDS_LIST);
    assert_int_equal(c->outputs.n_fields, 2);
    assert_int_equal(nc_config_set(c, "kafka.brokers=embedded", err, sizeof err), 0);
    assert_true(c->kafka.embedded);
    assert_int_equal(nc_config_set(c, "model.thresholds=a:0.25,b:0.5", err, sizeof err), 0);
    assert_int_equal(c->model.n_thresholds, 2);
    assert_true(nc_config_threshold(c, "b", 0) == 0.5);
    assert_int_equal(nc_config_set(c, "model.thresholds=", err, sizeof err), 0);
    assert_int_equal(c->model.n_thresholds, 0);
    nc_config_free(c);
}

/* Every bad --set is reported, one line each, in order; the good ones apply. */
static void test_set_all_errors(void **state)
{
    (void)state;
    char err[NC_CONFIG_ERRLEN];
    nc_config *c = nc_config_new_defaults();
    const char *const sets[] = {"kafka.grop=x", "kafka.group=mine", "limits.workers=0",
                                "metrics.enabled=yes"};
    assert_non_null(c);
    assert_int_equal(nc_config_set_all(c, sets, 4, err, sizeof err), NC_CONFIG_EINVAL);
    assert_string_equal(err, "--set: unknown key 'kafka.grop' (did you mean 'kafka.group'?)\n"
                             "--set 'limits.workers': '0' is out of range 1..256\n"
                             "--set 'metrics.enabled': expected true or false, got 'yes'");
    assert_string_equal(c->kafka.group, "mine");
    assert_int_equal(nc_config_set_all(c, sets + 1, 1, err, sizeof err), 0);
    assert_string_equal(err, "");
    assert_int_equal(nc_config_set_all(c, NULL, 0, err, sizeof err), 0);
    nc_config_free(c);
}

static void test_set_errors(void **state)
{
    (void)state;
    char err[NC_CONFIG_ERRLEN];
    nc_config *c = nc_config_new_defaults(), *d = nc_config_new_defaults();
    static const struct {
        const char *set, *want;
    } bad[] = {
        {"kafka.group", "--set 'kafka.group': expected KEY=VALUE, e.g. kafka.group=newsclf"},
        {"kafka.grop=x", "--set: unknown key 'kafka.grop' (did you mean 'kafka.group'?)"},
        {"kafka=x", "--set: 'kafka' is a section: set one of its keys, e.g. kafka.brokers"},
        {"kafka.group=", "--set 'kafka.group': must not be empty"},
        {"kafka.group=a b",
         "--set 'kafka.group': 'a b' is not a valid Kafka name (1-249 of A-Z a-z 0-9 . _ -)"},
        {"kafka.input_topics=", "--set 'kafka.input_topics': must list at least one topic"},
        {"kafka.input_topics=ok,^(", "--set 'kafka.input_topics': invalid regular expression "
                                     "'^(': Unmatched ( or \\("},
        {"limits.workers=0", "--set 'limits.workers': '0' is out of range 1..256"},
        {"limits.workers=2x",
         "--set 'limits.workers': expected an integer from 1 to 256, got '2x'"},
        {"metrics.enabled=yes", "--set 'metrics.enabled': expected true or false, got 'yes'"},
        {"model.thresholds.sports=1", "--set 'model.thresholds.sports': expected a probability "
                                      "greater than 0 and less than 1, got '1'"},
        {"outputs.routes=sports", "--set 'outputs.routes': expected "
                                  "label:topic[:min_probability], got 'sports'"},
        {"outputs.routes=sports:x:0", "--set 'outputs.routes': expected a probability greater "
                                      "than 0 and less than 1, got '0'"},
        {"kafka.consumer=x",
         "--set 'kafka.consumer': set one property as kafka.consumer.NAME=VALUE (empty VALUE "
         "removes it)"},
        {"metrics.listen=[::1]", "--set 'metrics.listen': expected host:port or [ipv6]:port "
                                 "with port 0-65535, got '[::1]'"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        assert_int_equal(nc_config_set(c, bad[i].set, err, sizeof err), NC_CONFIG_EINVAL);
        assert_string_equal(err, bad[i].want);
    }
    /* nothing changed */
    assert_int_equal(nc_config_diff(c, d, false, NULL, 0), 0);

    /* a loop created on the command line is caught by validate */
    assert_int_equal(nc_config_set(c, "kafka.input_topics=news.articles,^news\\.", err, sizeof err),
                     0);
    assert_int_equal(nc_config_validate(c, err, sizeof err), NC_CONFIG_EINVAL);
    assert_string_equal(err, "--set: kafka.input_topics[1] pattern '^news\\.' matches our output "
                             "topic 'news.labeled' (outputs.aggregate.topic): newsclfd would "
                             "consume its own output");
    /* a narrower pattern is fine */
    assert_int_equal(nc_config_set(c, "kafka.input_topics=^news\\.a", err, sizeof err), 0);
    assert_int_equal(nc_config_validate(c, err, sizeof err), 0);
    nc_config_free(c);
    nc_config_free(d);
}

/* ------------------------------------------------------------------------ */
/* Secrets never printed                                                     */

static void test_dump_masks_secrets(void **state)
{
    (void)state;
    nc_config *c = load_ok("secrets.yaml");
    char err[NC_CONFIG_ERRLEN];
    assert_int_equal(
        nc_config_set(c, "kafka.consumer.ssl.keystore.password=ks-pass-9", err, sizeof err), 0);
    char *text = dump_to_string(c);
    static const char *const secrets[] = {"hunter2-consumer",  "hunter2-producer", "keypass-1",
                                          "BEGIN PRIVATE KEY", "oauth-secret-3",   "ks-pass-9"};
    expect_hidden(text, secrets, sizeof secrets / sizeof secrets[0]);
    assert_non_null(strstr(text, "\"sasl.password\": \"********\""));
    assert_non_null(strstr(text, "\"ssl.key.pem\": \"********\""));
    assert_non_null(strstr(text, "\"sasl.oauthbearer.client.secret\": \"********\""));
    assert_non_null(strstr(text, "\"sasl.username\": \"newsclf\""));
    assert_non_null(strstr(text, "\"ssl.ca.location\": \"/etc/newsclf/ca.pem\""));
    free(text);

    assert_true(nc_config_is_secret("sasl.password"));
    assert_true(nc_config_is_secret("ssl.key.location"));
    assert_true(nc_config_is_secret("SSL.KEY.PEM"));
    assert_false(nc_config_is_secret("sasl.username"));
    assert_false(nc_config_is_secret("ssl.ca.location"));

    /* an error about a secret property never echoes its value */
    assert_int_equal(nc_config_set(c, "kafka.consumer.sasl.password:hunter2", err, sizeof err),
                     NC_CONFIG_EINVAL);
    assert_null(strstr(err, "hunter2"));
    assert_int_equal(nc_config_set(c, "kafka.consumer.sasl pass=hunter2", err, sizeof err),
                     NC_CONFIG_EINVAL);
    assert_null(strstr(err, "hunter2"));
    nc_config_free(c);
}

/* Pass-through keys librdkafka does not know - misspelt, or newer than any
 * list - are masked by how their name looks; the others stay readable. */
static void test_dump_masks_unknown_secrets(void **state)
{
    (void)state;
    nc_config *c = load_ok("secrets_unknown.yaml");
    char err[NC_CONFIG_ERRLEN];
    assert_int_equal(nc_config_set(c, "kafka.producer.my.session_token=tok-7", err, sizeof err),
                     0);
    char *text = dump_to_string(c);
    static const char *const secrets[] = {"hunter2-misspelt", "hunter2-passwd", "tok-4",
                                          "apikey-5",         "s-6",            "tok-7"};
    expect_hidden(text, secrets, sizeof secrets / sizeof secrets[0]);
    static const char *const shown[] = {
        "\"sasl.pasword\": \"********\"",          "\"sasl.passwd\": \"********\"",
        "\"Sasl.Oauthbearer.Token\": \"********\"", "\"x.api_key\": \"********\"",
        "\"custom.client_SECRT\": \"********\"",    "\"my.session_token\": \"********\"",
        "\"sasl.kerberos.keytab\": \"********\"",   "\"fetch.max.bytes\": \"1048576\"",
        "\"sasl.mechanism\": \"PLAIN\"",            "\"linger.ms\": \"5\""};
    for (size_t i = 0; i < sizeof shown / sizeof shown[0]; i++)
        if (!strstr(text, shown[i]))
            fail_msg("%s missing from:\n%s", shown[i], text);

    /* The masked dump still loads; only the maps holding a secret differ. */
    nc_config *r = load_text(text);
    char diff[256];
    assert_int_equal(nc_config_diff(c, r, false, diff, sizeof diff), 2);
    assert_string_equal(diff, "kafka.consumer\nkafka.producer");
    assert_string_equal(r->kafka.consumer[0].key, "sasl.pasword");
    assert_string_equal(r->kafka.consumer[0].value, "********");
    free(text);
    nc_config_free(r);
    nc_config_free(c);

    /* The rule: the last component, any case, known key or not. */
    static const char *const yes[] = {"sasl.pasword", "SASL.PASWORD", "sasl.passwd",
                                      "a.b.pssword",  "x.api_key",    "Client.Secret",
                                      "x.secrt",      "x.token",      "KEY"};
    static const char *const no[] = {"sasl.mechanism", "security.protocol", "fetch.max.bytes",
                                     "sasl.oauthbearer.token.endpoint.url", "pass.word.count",
                                     "kafka.group"};
    for (size_t i = 0; i < sizeof yes / sizeof yes[0]; i++)
        if (!nc_config_is_secret(yes[i]))
            fail_msg("%s is not taken for a secret", yes[i]);
    for (size_t i = 0; i < sizeof no / sizeof no[0]; i++)
        if (nc_config_is_secret(no[i]))
            fail_msg("%s is taken for a secret", no[i]);
}

/* ------------------------------------------------------------------------ */
/* Reload support                                                            */

static void test_diff_reloadable(void **state)
{
    (void)state;
    char err[NC_CONFIG_ERRLEN], buf[512];
    nc_config *a = nc_config_new_defaults(), *b = nc_config_new_defaults();
    assert_int_equal(nc_config_set(b, "model.path=/m2", err, sizeof err), 0);
    assert_int_equal(nc_config_set(b, "logging.level=debug", err, sizeof err), 0);
    assert_int_equal(nc_config_set(b, "outputs.routes=x:y", err, sizeof err), 0);
    assert_int_equal(nc_config_diff(a, b, true, buf, sizeof buf), 0);
    assert_string_equal(buf, "");
    assert_int_equal(nc_config_diff(a, b, false, buf, sizeof buf), 3);
    assert_string_equal(buf, "outputs.routes\nmodel.path\nlogging.level");
    assert_int_equal(nc_config_set(b, "kafka.group=g2", err, sizeof err), 0);
    assert_int_equal(nc_config_set(b, "limits.workers=3", err, sizeof err), 0);
    assert_int_equal(nc_config_diff(a, b, true, buf, sizeof buf), 2);
    assert_string_equal(buf, "kafka.group\nlimits.workers");
    /* map order does not matter */
    assert_int_equal(nc_config_set(a, "kafka.consumer.a=1", err, sizeof err), 0);
    assert_int_equal(nc_config_set(a, "kafka.consumer.b=2", err, sizeof err), 0);
    assert_int_equal(nc_config_set(b, "kafka.consumer.b=2", err, sizeof err), 0);
    assert_int_equal(nc_config_set(b, "kafka.consumer.a=1", err, sizeof err), 0);
    assert_int_equal(nc_config_diff(a, b, true, buf, sizeof buf), 2);
    nc_config_free(a);
    nc_config_free(b);
}

/* ------------------------------------------------------------------------ */
/* Robustness: mutated copies of the shipped file never crash or leak        */

static void test_mutations(void **state)
{
    (void)state;
    FILE *fp = fopen(NC_SHIPPED_CONFIG, "rb");
    assert_non_null(fp);
    char orig[16384];
    size_t len = fread(orig, 1, sizeof orig, fp);
    fclose(fp);
    assert_true(len > 0 && len < sizeof orig);

    static const char junk[] = {':', '-', '[',  ']',  '{',        '}',       '\t', '\n',
                                ' ', '"', '\'', '&',  '*',        '!',       '#',  '$',
                                '%', '|', '>',  '\0', (char)0xff, (char)0xc3};
    char path[] = "/tmp/nc_config_mutXXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    close(fd);
    uint64_t rng = 0x9e3779b97f4a7c15u;
    char buf[16384], err[NC_CONFIG_ERRLEN];
    for (int iter = 0; iter < 1500; iter++) {
        memcpy(buf, orig, len);
        size_t n = len;
        int edits = 1 + iter % 4;
        for (int e = 0; e < edits && n > 1; e++) {
            rng ^= rng << 13;
            rng ^= rng >> 7;
            rng ^= rng << 17;
            size_t pos = (size_t)(rng % n);
            switch ((rng >> 32) % 3) {
            case 0:
                buf[pos] = junk[(rng >> 40) % sizeof junk];
                break;
            case 1:
                n = pos + 1; /* truncate */
                break;
            default:
                memmove(buf + pos, buf + pos + 1, n - pos - 1); /* delete */
                n--;
                break;
            }
        }
        fp = fopen(path, "wb");
        assert_non_null(fp);
        assert_int_equal(fwrite(buf, 1, n, fp), n);
        fclose(fp);
        nc_config *c = NULL;
        int rc = nc_config_load(path, &c, err, sizeof err);
        if (rc == 0) {
            assert_non_null(c);
            char *text = dump_to_string(c);
            free(text);
            nc_config_free(c);
        } else {
            assert_null(c);
            assert_true(err[0] != '\0');
            assert_non_null(strstr(err, path));
        }
    }
    unlink(path);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_defaults),
        cmocka_unit_test(test_key_table),
        cmocka_unit_test(test_shipped_equals_defaults),
        cmocka_unit_test(test_empty_file_is_defaults),
        cmocka_unit_test(test_full),
        cmocka_unit_test(test_dump_roundtrip),
        cmocka_unit_test(test_errors_all_reported),
        cmocka_unit_test(test_syntax_errors),
        cmocka_unit_test(test_missing_file),
        cmocka_unit_test(test_error_truncation),
        cmocka_unit_test(test_env),
        cmocka_unit_test(test_env_missing),
        cmocka_unit_test(test_refused_properties),
        cmocka_unit_test(test_loops_refused),
        cmocka_unit_test(test_cross_field),
        cmocka_unit_test(test_set_overrides),
        cmocka_unit_test(test_set_errors),
        cmocka_unit_test(test_set_all_errors),
        cmocka_unit_test(test_dump_masks_secrets),
        cmocka_unit_test(test_dump_masks_unknown_secrets),
        cmocka_unit_test(test_diff_reloadable),
        cmocka_unit_test(test_mutations),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
