/*
 * props.c - every kafka.consumer / kafka.producer key checked against
 * librdkafka (rd_kafka_conf_set on a scratch conf says which it does not
 * know), with the closest known property as a suggestion (see props.h).
 */
#include "kafka/props.h"

#include <librdkafka/rdkafka.h>
#include <stdlib.h>
#include <string.h>

/* Every property name librdkafka knows (global and topic), from its own
 * table (rd_kafka_conf_properties_show: "name | C/P | ..." rows). The
 * names point into *text; free both. 0, or -1 when out of memory. */
static int known_names(char **text, const char ***names, size_t *n)
{
    size_t len = 0, cap = 0;
    FILE *fp = open_memstream(text, &len);
    char *line, *save = NULL;

    *names = NULL;
    *n = 0;
    if (!fp)
        return -1;
    rd_kafka_conf_properties_show(fp);
    if (fclose(fp) != 0)
        return -1;
    for (line = strtok_r(*text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
        size_t w = strcspn(line, " |");
        if (w == 0 || line[w] == '\0' || !strchr(line, '|') || !strncmp(line, "Property", w))
            continue;
        if (*n == cap) {
            const char **g = realloc(*names, (cap = cap ? cap * 2 : 256) * sizeof(*g));
            if (!g)
                return -1;
            *names = g;
        }
        line[w] = '\0';
        (*names)[(*n)++] = line;
    }
    return 0;
}

/* The unknown keys of one map; the number of them. */
static int check_map(const nc_config *cfg, const char *section, const nc_kv *kvs, size_t nkv,
                     const char *const *names, size_t nnames, FILE *out)
{
    int bad = 0;

    for (size_t i = 0; i < nkv; i++) {
        rd_kafka_conf_t *conf = rd_kafka_conf_new();
        char errstr[512], key[300];
        const char *where, *near;
        rd_kafka_conf_res_t r;

        if (!conf)
            return bad + 1;
        r = rd_kafka_conf_set(conf, kvs[i].key, kvs[i].value, errstr, sizeof(errstr));
        rd_kafka_conf_destroy(conf);
        if (r != RD_KAFKA_CONF_UNKNOWN)
            continue;
        snprintf(key, sizeof(key), "%s.%s", section, kvs[i].key);
        where = nc_config_origin(cfg, key);
        near = nc_config_closest(kvs[i].key, names, nnames);
        fprintf(out, "%s%s%s: unknown librdkafka property%s%s%s\n", where ? where : "",
                where ? ": " : "", key, near ? " (did you mean '" : "", near ? near : "",
                near ? "'?)" : "");
        bad++;
    }
    return bad;
}

int nc_kafka_props_check(const nc_config *cfg, FILE *out)
{
    char *text = NULL;
    const char **names = NULL;
    size_t n = 0;
    int bad;

    if (known_names(&text, &names, &n) != 0)
        n = 0; /* no suggestions, the check itself still runs */
    bad = check_map(cfg, "kafka.consumer", cfg->kafka.consumer, cfg->kafka.n_consumer, names, n,
                    out);
    bad += check_map(cfg, "kafka.producer", cfg->kafka.producer, cfg->kafka.n_producer, names, n,
                     out);
    free(names);
    free(text);
    return bad;
}
