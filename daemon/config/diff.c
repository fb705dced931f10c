/*
 * diff.c - which keys differ between two configs (nc_config_diff()), all of
 * them or only those a reload cannot apply (no KF_RELOAD in the table). Maps
 * are compared without regard to order; lists and routes in order.
 */
#include <string.h>

#include "config/internal.h"

static bool str_eq(const char *a, const char *b)
{
    return strcmp(a ? a : "", b ? b : "") == 0;
}

/* The value of pass-through property `key` in v[0..n), or NULL. */
static const char *kv_get(const nc_kv *v, size_t n, const char *key)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(v[i].key, key) == 0)
            return v[i].value;
    return NULL;
}

static bool lists_equal(const nc_config *a, const nc_config *b, const struct nc_ckey *k, size_t n)
{
    size_t off = k->type == CT_FIELDS ? k->off_items : k->off;
    char *const *va = *CAT(a, off, strlist_t), *const *vb = *CAT(b, off, strlist_t);
    for (size_t i = 0; i < n; i++)
        if (!str_eq(va[i], vb[i]))
            return false;
    return true;
}

/* Same count n in both; a map's order does not matter, a list's does. */
static bool items_equal(const nc_config *a, const nc_config *b, const struct nc_ckey *k, size_t n)
{
    switch (k->type) {
    case CT_KV: {
        const nc_kv *va = *CAT(a, k->off, nc_kv *), *vb = *CAT(b, k->off, nc_kv *);
        for (size_t i = 0; i < n; i++) {
            const char *other = kv_get(vb, n, va[i].key);
            if (!other || !str_eq(va[i].value, other))
                return false;
        }
        return true;
    }
    case CT_THRESH: { /* model.thresholds: labels are unique, probabilities > 0 */
        const nc_threshold *va = *CAT(a, k->off, nc_threshold *);
        for (size_t i = 0; i < n; i++)
            if (nc_config_threshold(b, va[i].label, 0.0) != va[i].probability)
                return false;
        return true;
    }
    case CT_ROUTES: {
        const nc_route *va = *CAT(a, k->off, nc_route *), *vb = *CAT(b, k->off, nc_route *);
        for (size_t i = 0; i < n; i++)
            if (!str_eq(va[i].label, vb[i].label) || !str_eq(va[i].topic, vb[i].topic) ||
                va[i].min_probability != vb[i].min_probability)
                return false;
        return true;
    }
    default:
        return lists_equal(a, b, k, n);
    }
}

static bool key_equal(const nc_config *a, const nc_config *b, const struct nc_ckey *k)
{
    switch (k->type) {
    case CT_STR:
        return str_eq(*CAT(a, k->off, char *), *CAT(b, k->off, char *));
    case CT_BOOL:
        return *CAT(a, k->off, bool) == *CAT(b, k->off, bool);
    case CT_INT:
    case CT_ENUM:
        return *CAT(a, k->off, int) == *CAT(b, k->off, int);
    case CT_SIZE:
        return *CAT(a, k->off, size_t) == *CAT(b, k->off, size_t);
    case CT_FIELDS:
        if (*CAT(a, k->off, int) != *CAT(b, k->off, int))
            return false;
        /* fall through */
    default: {
        size_t na = *CAT(a, k->off_count, size_t), nb = *CAT(b, k->off_count, size_t);
        return na == nb && items_equal(a, b, k, na);
    }
    }
}

size_t nc_config_diff(const nc_config *a, const nc_config *b, bool nonreloadable_only, char *buf,
                      size_t buflen)
{
    size_t count = 0, used = 0;
    if (buf && buflen)
        buf[0] = '\0';
    for (size_t i = 0; i < nc_nckeys; i++) {
        const struct nc_ckey *k = &nc_ckeys[i];
        if ((nonreloadable_only && (k->flags & KF_RELOAD)) || key_equal(a, b, k))
            continue;
        count++;
        size_t l = strlen(k->path) + 1;
        if (buf && used + l < buflen) {
            memcpy(buf + used, k->path, l - 1);
            used += l - 1;
            buf[used++] = '\n';
            buf[used] = '\0';
        }
    }
    if (buf && used)
        buf[used - 1] = '\0';
    return count;
}
