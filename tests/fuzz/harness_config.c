/*
 * harness_config.c - fuzz target "config": the input is one YAML config file.
 *
 * nc_config_load() only takes a path, so the input is written to a file in a
 * scratch directory first. Checked besides memory safety: a failure returns
 * a known code, no config and a non-empty error text whose lines name the
 * file; a success returns a config whose strings are non-NULL and that
 * passes nc_config_validate(); and the effective config written by
 * nc_config_dump() loads again to the same values (secrets, dumped as
 * "********", excepted) - the daemon's --dump-config promises that.
 *
 * ${VAR} references see a fixed environment: NC_FUZZ_SET=value,
 * NC_FUZZ_EMPTY="" and NC_FUZZ_UNSET unset.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config/config.h"
#include "harness.h"

#define T "config"

static char path[4200], path2[4200];

int fuzz_config_init(void)
{
    if (path[0])
        return 0;
    const char *dir = nc_fuzz_scratch_dir("config");
    if (!dir)
        return -1;
    snprintf(path, sizeof(path), "%s/newsclf.yaml", dir);
    snprintf(path2, sizeof(path2), "%s/dumped.yaml", dir);
    setenv("NC_FUZZ_SET", "value", 1);
    setenv("NC_FUZZ_EMPTY", "", 1);
    unsetenv("NC_FUZZ_UNSET");
    return 0;
}

/* Every error line starts with the file name or another known origin. */
static void check_error_text(const char *err, const char *file)
{
    FUZZ_CHECK(T, err[0] != '\0', "failure without an error message");
    FUZZ_CHECK(T, strlen(err) < NC_CONFIG_ERRLEN, "error text overflows its buffer");
    size_t fl = strlen(file);
    for (const char *l = err; *l;) {
        const char *nl = strchr(l, '\n');
        size_t n = nl ? (size_t)(nl - l) : strlen(l);
        int ok = (n > fl && memcmp(l, file, fl) == 0 && l[fl] == ':') ||
                 (n >= 9 && memcmp(l, "defaults:", 9) == 0) ||
                 (n >= 4 && memcmp(l, "... ", 4) == 0);
        if (!ok)
            nc_fuzz_fail(T, "error line does not name its origin: \"%.*s\"", (int)n, l);
        l += n + (nl ? 1 : 0);
    }
}

static void check_strings(const nc_config *c)
{
    const char *s[] = {c->source,
                       c->kafka.brokers,
                       c->kafka.group,
                       c->kafka.client_id,
                       c->kafka.instance_id,
                       c->outputs.aggregate.topic,
                       c->outputs.labels.topic_prefix,
                       c->outputs.deadletter.topic,
                       c->model.path,
                       c->metrics.listen};
    for (size_t i = 0; i < sizeof(s) / sizeof(s[0]); i++)
        FUZZ_CHECK(T, s[i] != NULL, "string field %zu is NULL", i);
    for (size_t i = 0; i < c->kafka.n_input_topics; i++)
        FUZZ_CHECK(T, c->kafka.input_topics[i], "input_topics[%zu] is NULL", i);
    for (size_t i = 0; i < c->kafka.n_consumer; i++)
        FUZZ_CHECK(T, c->kafka.consumer[i].key && c->kafka.consumer[i].value, "consumer[%zu]", i);
    for (size_t i = 0; i < c->kafka.n_producer; i++)
        FUZZ_CHECK(T, c->kafka.producer[i].key && c->kafka.producer[i].value, "producer[%zu]", i);
    for (size_t i = 0; i < c->outputs.n_routes; i++)
        FUZZ_CHECK(T, c->outputs.routes[i].label && c->outputs.routes[i].topic, "routes[%zu]", i);
    for (size_t i = 0; i < c->model.n_thresholds; i++) {
        double p = c->model.thresholds[i].probability;
        FUZZ_CHECK(T, c->model.thresholds[i].label && p > 0 && p < 1, "thresholds[%zu]", i);
    }
    if (c->outputs.article_fields == NC_CONFIG_FIELDS_LIST)
        for (size_t i = 0; i < c->outputs.n_fields; i++)
            FUZZ_CHECK(T, c->outputs.fields[i], "fields[%zu] is NULL", i);
    FUZZ_CHECK(T, c->kafka.embedded == (strcmp(c->kafka.brokers, "embedded") == 0),
               "kafka.embedded disagrees with kafka.brokers");
}

static int has_secret(const nc_kv *kv, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (nc_config_is_secret(kv[i].key))
            return 1;
    return 0;
}

/* nc_config_dump() -> file -> nc_config_load(): the same config. */
static void check_dump_roundtrip(const nc_config *c)
{
    char *text = NULL;
    size_t len = 0;
    FILE *fp = open_memstream(&text, &len);
    FUZZ_CHECK(T, fp, "open_memstream failed");
    nc_config_dump(c, fp);
    FUZZ_CHECK(T, fclose(fp) == 0, "dump failed");
    FUZZ_CHECK(T, nc_fuzz_write(path2, text, len) == 0, "cannot write %s", path2);
    nc_config *c2 = NULL;
    char err[NC_CONFIG_ERRLEN];
    int rc = nc_config_load(path2, &c2, err, sizeof(err));
    if (rc != 0) {
        fprintf(stderr, "fuzz " T ": dumped config:\n%s\n", text);
        nc_fuzz_fail(T, "the dumped config does not load again (%d): %s", rc, err);
    }
    char diff[4096];
    size_t nd = nc_config_diff(c, c2, false, diff, sizeof(diff));
    if (nd) {
        /* Only maps holding a secret may differ (their values are masked). */
        int ok = 1;
        for (char *line = strtok(diff, "\n"); line; line = strtok(NULL, "\n"))
            if (!((strcmp(line, "kafka.consumer") == 0 &&
                   has_secret(c->kafka.consumer, c->kafka.n_consumer)) ||
                  (strcmp(line, "kafka.producer") == 0 &&
                   has_secret(c->kafka.producer, c->kafka.n_producer))))
                ok = 0;
        if (!ok) {
            fprintf(stderr, "fuzz " T ": dumped config:\n%s\n", text);
            nc_config_diff(c, c2, false, diff, sizeof(diff));
            nc_fuzz_fail(T, "dump + load changed: %s", diff);
        }
    }
    nc_config_free(c2);
    free(text);
}

int fuzz_config(const uint8_t *data, size_t size)
{
    if (fuzz_config_init() != 0)
        nc_fuzz_fail(T, "set-up failed");
    FUZZ_CHECK(T, nc_fuzz_write(path, data, size) == 0, "cannot write %s", path);
    nc_config *c = (nc_config *)1;
    char err[NC_CONFIG_ERRLEN];
    memset(err, 'x', sizeof(err));
    int rc = nc_config_load(path, &c, err, sizeof(err));
    if (rc != 0) {
        FUZZ_CHECK(T, rc == NC_CONFIG_EIO || rc == NC_CONFIG_ESYNTAX || rc == NC_CONFIG_EINVAL,
                   "unexpected return code %d", rc);
        FUZZ_CHECK(T, c == NULL, "failure left *out set");
        FUZZ_CHECK(T, memchr(err, '\0', sizeof(err)), "error text not terminated");
        check_error_text(err, path);
        return 0;
    }
    FUZZ_CHECK(T, c != NULL, "success without a config");
    check_strings(c);
    FUZZ_CHECK(T, nc_config_validate(c, err, sizeof(err)) == 0,
               "a loaded config fails validation: %s", err);
    if (nc_fuzz_enabled("dump-roundtrip"))
        check_dump_roundtrip(c);
    /* The accessors on whatever was loaded. */
    char diff[256];
    nc_config *d = nc_config_new_defaults();
    FUZZ_CHECK(T, d, "out of memory");
    nc_config_diff(d, c, true, diff, sizeof(diff));
    FUZZ_CHECK(T, memchr(diff, '\0', sizeof(diff)), "diff text not terminated");
    nc_config_free(d);
    for (size_t i = 0; i < c->outputs.n_routes; i++) {
        double p = nc_config_route_min(c, &c->outputs.routes[i], 0.5);
        FUZZ_CHECK(T, p > 0 && p < 1, "route %zu minimum %g", i, p);
    }
    for (size_t i = 0;; i++) {
        const char *key = nc_config_key(i, NULL, NULL);
        if (!key)
            break;
        (void)nc_config_origin(c, key);
    }
    char host[256];
    int port;
    if (c->metrics.enabled)
        FUZZ_CHECK(T,
                   nc_config_split_hostport(c->metrics.listen, host, sizeof(host), &port, err,
                                            sizeof(err)) == 0,
                   "accepted metrics.listen \"%s\" does not split: %s", c->metrics.listen, err);
    nc_config_free(c);
    return 0;
}
