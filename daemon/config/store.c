/*
 * store.c - typed values into struct nc_config through the key table's
 * offsets: scalars from text, lists, the pass-through and threshold maps,
 * routes; and freeing a key's value. Every setter builds the new value first
 * and replaces the old one only on success, so a failed --set leaves the
 * config unchanged.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/str.h"
#include "config/internal.h"

int cfg_strvec_push(struct strvec *sv, const char *s, size_t len)
{
    if (sv->n == sv->cap) {
        size_t ncap = sv->cap ? sv->cap * 2 : 4;
        char **nv = realloc(sv->v, ncap * sizeof *nv);
        if (!nv)
            return -1;
        sv->v = nv;
        sv->cap = ncap;
    }
    char *d = nc_xstrndup(s, len);
    if (!d)
        return -1;
    sv->v[sv->n++] = d;
    return 0;
}

static void strlist_free(char **v, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(v[i]);
    free(v);
}

void cfg_strvec_free(struct strvec *sv)
{
    strlist_free(sv->v, sv->n);
    memset(sv, 0, sizeof *sv);
}

static void kv_free(nc_kv *v, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        free(v[i].key);
        free(v[i].value);
    }
    free(v);
}

static void thresh_free(nc_threshold *v, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(v[i].label);
    free(v);
}

void cfg_routes_free(nc_route *v, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        free(v[i].label);
        free(v[i].topic);
    }
    free(v);
}

int cfg_oom(char *msg, size_t n)
{
    snprintf(msg, n, "out of memory");
    return NC_CONFIG_ENOMEM;
}

static int set_enum(nc_config *c, const struct nc_ckey *k, const char *text, char *msg, size_t n)
{
    char names[256] = "", qb[128];
    for (int i = 0; k->names[i]; i++) {
        if (strcmp(text, k->names[i]) == 0) {
            /* enums with non-negative values: int storage is compatible */
            *AT(c, k->off, int) = i;
            return 0;
        }
        size_t l = strlen(names);
        snprintf(names + l, sizeof names - l, "%s%s", i ? ", " : "", k->names[i]);
    }
    snprintf(msg, n, "expected one of %s, got %s", names, cfg_quote(text, qb, sizeof qb));
    return NC_CONFIG_EINVAL;
}

int cfg_set_scalar(nc_config *c, const struct nc_ckey *k, const char *text, char *msg, size_t n)
{
    switch (k->type) {
    case CT_STR: {
        if (cfg_check_string(k->check, text, msg, n) < 0)
            return NC_CONFIG_EINVAL;
        char *d = nc_xstrdup(text);
        if (!d)
            return cfg_oom(msg, n);
        char **slot = AT(c, k->off, char *);
        free(*slot);
        *slot = d;
        return 0;
    }
    case CT_BOOL: {
        bool b;
        if (cfg_parse_bool(text, &b, msg, n) < 0)
            return NC_CONFIG_EINVAL;
        *AT(c, k->off, bool) = b;
        return 0;
    }
    case CT_INT:
    case CT_SIZE: {
        long long v;
        if (cfg_parse_ll(text, k->min, k->max, &v, msg, n) < 0)
            return NC_CONFIG_EINVAL;
        if (k->type == CT_INT)
            *AT(c, k->off, int) = (int)v;
        else
            *AT(c, k->off, size_t) = (size_t)v;
        return 0;
    }
    case CT_ENUM:
        return set_enum(c, k, text, msg, n);
    default:
        snprintf(msg, n, "not a scalar key");
        return NC_CONFIG_EINVAL;
    }
}

int cfg_replace_strlist(nc_config *c, const struct nc_ckey *k, struct strvec *sv, char *msg,
                        size_t n)
{
    if (k->check == CK_INPUT_TOPIC && sv->n == 0) {
        snprintf(msg, n, "must list at least one topic");
        return NC_CONFIG_EINVAL;
    }
    char ***slot = AT(c, k->off, char **);
    size_t *cnt = AT(c, k->off_count, size_t);
    strlist_free(*slot, *cnt);
    *slot = sv->v;
    *cnt = sv->n;
    memset(sv, 0, sizeof *sv);
    return 0;
}

void cfg_replace_fields(nc_config *c, const struct nc_ckey *k, enum nc_config_fields mode,
                        struct strvec *sv)
{
    char ***slot = AT(c, k->off_items, char **);
    size_t *cnt = AT(c, k->off_count, size_t);
    strlist_free(*slot, *cnt);
    if (mode == NC_CONFIG_FIELDS_LIST && sv->n == 0)
        mode = NC_CONFIG_FIELDS_NONE; /* an empty list copies nothing */
    *AT(c, k->off, int) = (int)mode;
    *slot = sv->v;
    *cnt = sv->n;
    memset(sv, 0, sizeof *sv);
}

void cfg_replace_routes(nc_config *c, const struct nc_ckey *k, nc_route *rv, size_t rn)
{
    cfg_key_free(c, k);
    *AT(c, k->off, nc_route *) = rv;
    *AT(c, k->off_count, size_t) = rn;
}

int cfg_kv_put(nc_config *c, const struct nc_ckey *k, const char *key, const char *value,
               char *msg, size_t n)
{
    nc_kv **slot = AT(c, k->off, nc_kv *);
    size_t *cnt = AT(c, k->off_count, size_t);
    for (size_t i = 0; i < *cnt; i++) {
        if (strcmp((*slot)[i].key, key) != 0)
            continue;
        if (!value) {
            free((*slot)[i].key);
            free((*slot)[i].value);
            memmove(&(*slot)[i], &(*slot)[i + 1], (*cnt - i - 1) * sizeof **slot);
            (*cnt)--;
            return 0;
        }
        char *d = nc_xstrdup(value);
        if (!d)
            return cfg_oom(msg, n);
        free((*slot)[i].value);
        (*slot)[i].value = d;
        return 0;
    }
    if (!value)
        return 0;
    nc_kv *nv = realloc(*slot, (*cnt + 1) * sizeof *nv);
    if (!nv)
        return cfg_oom(msg, n);
    *slot = nv;
    char *dk = nc_xstrdup(key), *dv = nc_xstrdup(value);
    if (!dk || !dv) {
        free(dk);
        free(dv);
        return cfg_oom(msg, n);
    }
    nv[*cnt].key = dk;
    nv[*cnt].value = dv;
    (*cnt)++;
    return 0;
}

int cfg_thresh_put(nc_config *c, const struct nc_ckey *k, const char *label, double p, char *msg,
                   size_t n)
{
    nc_threshold **slot = AT(c, k->off, nc_threshold *);
    size_t *cnt = AT(c, k->off_count, size_t);
    for (size_t i = 0; i < *cnt; i++) {
        if (strcmp((*slot)[i].label, label) != 0)
            continue;
        if (p == 0.0) {
            free((*slot)[i].label);
            memmove(&(*slot)[i], &(*slot)[i + 1], (*cnt - i - 1) * sizeof **slot);
            (*cnt)--;
        } else {
            (*slot)[i].probability = p;
        }
        return 0;
    }
    if (p == 0.0)
        return 0;
    nc_threshold *nv = realloc(*slot, (*cnt + 1) * sizeof *nv);
    if (!nv)
        return cfg_oom(msg, n);
    *slot = nv;
    if (!(nv[*cnt].label = nc_xstrdup(label)))
        return cfg_oom(msg, n);
    nv[*cnt].probability = p;
    (*cnt)++;
    return 0;
}

void cfg_key_free(nc_config *c, const struct nc_ckey *k)
{
    switch (k->type) {
    case CT_STR:
        free(*AT(c, k->off, char *));
        *AT(c, k->off, char *) = NULL;
        break;
    case CT_STRLIST:
        strlist_free(*AT(c, k->off, char **), *AT(c, k->off_count, size_t));
        break;
    case CT_FIELDS:
        strlist_free(*AT(c, k->off_items, char **), *AT(c, k->off_count, size_t));
        break;
    case CT_KV:
        kv_free(*AT(c, k->off, nc_kv *), *AT(c, k->off_count, size_t));
        break;
    case CT_THRESH:
        thresh_free(*AT(c, k->off, nc_threshold *), *AT(c, k->off_count, size_t));
        break;
    case CT_ROUTES:
        cfg_routes_free(*AT(c, k->off, nc_route *), *AT(c, k->off_count, size_t));
        break;
    default:
        return;
    }
    if (k->type != CT_STR) {
        *AT(c, k->type == CT_FIELDS ? k->off_items : k->off, void *) = NULL;
        *AT(c, k->off_count, size_t) = 0;
    }
}
