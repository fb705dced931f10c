/*
 * origin.c - where each key's value came from: "file:line:column" for a value
 * from the file (list items and map entries each have their own), "--set" for
 * an override, nothing for a default. Validation errors and the daemon's own
 * messages (nc_config_origin()) point the user there.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/str.h"
#include "config/internal.h"

struct nc_config_priv {
    struct origin {
        char *path;
        char *where;
    } * v;
    size_t n, cap;
};

struct nc_config_priv *cfg_origins_new(void)
{
    return calloc(1, sizeof(struct nc_config_priv));
}

void cfg_origins_free(struct nc_config_priv *p)
{
    if (!p)
        return;
    for (size_t i = 0; i < p->n; i++) {
        free(p->v[i].path);
        free(p->v[i].where);
    }
    free(p->v);
    free(p);
}

int cfg_origin_set(nc_config *c, const char *path, const char *where)
{
    struct nc_config_priv *p = c->priv;
    for (size_t i = 0; i < p->n; i++) {
        if (strcmp(p->v[i].path, path) == 0) {
            char *w = nc_xstrdup(where);
            if (!w)
                return -1;
            /* where is copied before the old string is freed, so
             * where == p->v[i].where is safe too. */
            free(p->v[i].where); // NOLINT(clang-analyzer-unix.Malloc)
            p->v[i].where = w;
            return 0;
        }
    }
    if (p->n == p->cap) {
        size_t ncap = p->cap ? p->cap * 2 : 32;
        struct origin *nv = realloc(p->v, ncap * sizeof *nv);
        if (!nv)
            return -1;
        p->v = nv;
        p->cap = ncap;
    }
    char *dp = nc_xstrdup(path), *dw = nc_xstrdup(where);
    if (!dp || !dw) {
        free(dp);
        free(dw);
        return -1;
    }
    p->v[p->n].path = dp;
    p->v[p->n].where = dw;
    p->n++;
    return 0;
}

void cfg_origin_clear(nc_config *c, const char *path)
{
    struct nc_config_priv *p = c->priv;
    size_t pl = strlen(path), o = 0;
    for (size_t i = 0; i < p->n; i++) {
        const char *ip = p->v[i].path;
        if (strncmp(ip, path, pl) == 0 && (ip[pl] == '\0' || ip[pl] == '.' || ip[pl] == '[')) {
            free(p->v[i].path);
            free(p->v[i].where);
        } else {
            p->v[o++] = p->v[i];
        }
    }
    p->n = o;
}

const char *nc_config_origin(const nc_config *c, const char *key)
{
    if (!c || !c->priv || !key)
        return NULL;
    const struct nc_config_priv *p = c->priv;
    char buf[512];
    snprintf(buf, sizeof buf, "%s", key);
    /* exact, then the enclosing list or map: kafka.input_topics[2] ->
     * kafka.input_topics, kafka.consumer.fetch.max.bytes -> kafka.consumer */
    for (;;) {
        for (size_t i = 0; i < p->n; i++)
            if (strcmp(p->v[i].path, buf) == 0)
                return p->v[i].where;
        char *cut = strrchr(buf, '[');
        char *dot = strrchr(buf, '.');
        if (dot && (!cut || dot > cut))
            cut = dot;
        if (!cut)
            return NULL;
        *cut = '\0';
        if (strchr(buf, '.') == NULL)
            return NULL; /* never attribute a key to a whole section */
    }
}
