/*
 * set.c - "dotted.key=value" overrides (--set, nc_config_set()) and the
 * defaults, both from text: scalars, comma-separated lists, one pass-through
 * property or threshold, whole threshold maps ("label:p,...") and routes
 * ("label:topic[:min_probability],..."). Same checks as the file; a failed
 * override leaves the config unchanged. nc_config_set_all() applies a list
 * and reports every failed one, one line each, as a file's errors are.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/str.h"
#include "config/internal.h"

/* Splits a --set list on commas into sv; "" is the empty list. */
static int split_csv(const char *text, struct strvec *sv)
{
    if (!*text)
        return 0;
    for (const char *p = text;;) {
        const char *e = strchr(p, ',');
        size_t l = e ? (size_t)(e - p) : strlen(p);
        if (cfg_strvec_push(sv, p, l) < 0)
            return -1;
        if (!e)
            return 0;
        p = e + 1;
    }
}

static int set_strlist(nc_config *c, const struct nc_ckey *k, const char *text, char *msg,
                       size_t n)
{
    struct strvec sv = {0};
    int rc = 0;
    if (split_csv(text, &sv) < 0) {
        rc = cfg_oom(msg, n);
        goto done;
    }
    for (size_t i = 0; i < sv.n; i++) {
        if (cfg_check_string(k->check, sv.v[i], msg, n) < 0) {
            rc = NC_CONFIG_EINVAL;
            goto done;
        }
    }
    rc = cfg_replace_strlist(c, k, &sv, msg, n);
done:
    cfg_strvec_free(&sv);
    return rc;
}

/* all | none | name,name,... */
static int set_fields(nc_config *c, const struct nc_ckey *k, const char *text, char *msg,
                      size_t n)
{
    struct strvec sv = {0};
    enum nc_config_fields mode = NC_CONFIG_FIELDS_LIST;
    int rc = 0;
    if (strcmp(text, "all") == 0) {
        mode = NC_CONFIG_FIELDS_ALL;
    } else if (strcmp(text, "none") == 0) {
        mode = NC_CONFIG_FIELDS_NONE;
    } else {
        if (split_csv(text, &sv) < 0) {
            rc = cfg_oom(msg, n);
            goto done;
        }
        for (size_t i = 0; i < sv.n; i++) {
            if (cfg_check_field_name(sv.v[i], msg, n) < 0) {
                rc = NC_CONFIG_EINVAL;
                goto done;
            }
        }
    }
    cfg_replace_fields(c, k, mode, &sv);
done:
    cfg_strvec_free(&sv);
    return rc;
}

/* kafka.consumer.NAME=VALUE (sub = NAME; "" removes it); kafka.consumer= empties the map. */
static int set_kv(nc_config *c, const struct nc_ckey *k, const char *sub, const char *text,
                  char *msg, size_t n)
{
    if (!sub) {
        if (*text) {
            snprintf(msg, n, "set one property as %s.NAME=VALUE (empty VALUE removes it)",
                     k->path);
            return NC_CONFIG_EINVAL;
        }
        cfg_key_free(c, k);
        return 0;
    }
    if (cfg_check_prop(sub, msg, n) < 0)
        return NC_CONFIG_EINVAL;
    return cfg_kv_put(c, k, sub, *text ? text : NULL, msg, n);
}

/* model.thresholds.LABEL=p ("" removes it), or model.thresholds=label:p,... (all). */
static int set_thresh(nc_config *c, const struct nc_ckey *k, const char *sub, const char *text,
                      char *msg, size_t n)
{
    struct strvec sv = {0};
    double p = 0.0;
    int rc = 0;
    if (sub) {
        if (cfg_check_label(sub, msg, n) < 0 || (*text && cfg_parse_prob(text, &p, msg, n) < 0))
            return NC_CONFIG_EINVAL;
        return cfg_thresh_put(c, k, sub, p, msg, n);
    }
    nc_config tmp;
    memset(&tmp, 0, sizeof tmp);
    if (split_csv(text, &sv) < 0) {
        rc = cfg_oom(msg, n);
        goto done;
    }
    for (size_t i = 0; i < sv.n && rc == 0; i++) {
        char *colon = strrchr(sv.v[i], ':');
        char qb[128];
        if (!colon) {
            snprintf(msg, n, "expected label:probability, got %s",
                     cfg_quote(sv.v[i], qb, sizeof qb));
            rc = NC_CONFIG_EINVAL;
            break;
        }
        *colon = '\0';
        if (cfg_check_label(sv.v[i], msg, n) < 0 || cfg_parse_prob(colon + 1, &p, msg, n) < 0)
            rc = NC_CONFIG_EINVAL;
        else
            rc = cfg_thresh_put(&tmp, k, sv.v[i], p, msg, n);
    }
    if (rc == 0) {
        cfg_key_free(c, k);
        *AT(c, k->off, nc_threshold *) = *AT(&tmp, k->off, nc_threshold *);
        *AT(c, k->off_count, size_t) = *AT(&tmp, k->off_count, size_t);
    } else {
        cfg_key_free(&tmp, k);
    }
done:
    cfg_strvec_free(&sv);
    return rc;
}

/* One "label:topic[:min_probability]" item of --set outputs.routes. */
static int parse_route_item(const char *item, nc_route *r, char *msg, size_t n)
{
    char qb[128];
    const char *c1 = strchr(item, ':');
    const char *c2 = c1 ? strchr(c1 + 1, ':') : NULL;
    memset(r, 0, sizeof *r);
    if (!c1) {
        snprintf(msg, n, "expected label:topic[:min_probability], got %s",
                 cfg_quote(item, qb, sizeof qb));
        return NC_CONFIG_EINVAL;
    }
    r->label = nc_xstrndup(item, (size_t)(c1 - item));
    r->topic = c2 ? nc_xstrndup(c1 + 1, (size_t)(c2 - c1 - 1)) : nc_xstrdup(c1 + 1);
    if (!r->label || !r->topic)
        return cfg_oom(msg, n);
    if (cfg_check_label(r->label, msg, n) < 0 || cfg_check_string(CK_TOPIC, r->topic, msg, n) < 0)
        return NC_CONFIG_EINVAL;
    if (c2 && cfg_parse_prob(c2 + 1, &r->min_probability, msg, n) < 0)
        return NC_CONFIG_EINVAL;
    return 0;
}

static int set_routes(nc_config *c, const struct nc_ckey *k, const char *text, char *msg,
                      size_t n)
{
    struct strvec sv = {0};
    nc_route *rv = NULL;
    size_t rn = 0;
    int rc = 0;
    if (split_csv(text, &sv) < 0) {
        rc = cfg_oom(msg, n);
        goto done;
    }
    if (sv.n && !(rv = calloc(sv.n, sizeof *rv))) {
        rc = cfg_oom(msg, n);
        goto done;
    }
    for (; rn < sv.n; rn++) {
        if ((rc = parse_route_item(sv.v[rn], &rv[rn], msg, n)) < 0) {
            rn++;
            break;
        }
    }
    if (rc < 0) {
        cfg_routes_free(rv, rn);
        goto done;
    }
    cfg_replace_routes(c, k, rv, rn);
done:
    cfg_strvec_free(&sv);
    return rc;
}

int cfg_key_set_text(nc_config *c, const struct nc_ckey *k, const char *sub, const char *text,
                     char *msg, size_t n)
{
    switch (k->type) {
    case CT_STRLIST:
        return set_strlist(c, k, text, msg, n);
    case CT_FIELDS:
        return set_fields(c, k, text, msg, n);
    case CT_KV:
        return set_kv(c, k, sub, text, msg, n);
    case CT_THRESH:
        return set_thresh(c, k, sub, text, msg, n);
    case CT_ROUTES:
        return set_routes(c, k, text, msg, n);
    default:
        return cfg_set_scalar(c, k, text, msg, n);
    }
}

/* The message for a key that is not one: a section, or unknown. */
static void not_a_key_msg(const char *key, char *msg, size_t n)
{
    if (cfg_is_section(key)) {
        const struct nc_ckey *first = cfg_section_first(key);
        snprintf(msg, n, "'%s' is a section: set one of its keys, e.g. %s", key,
                 first ? first->path : key);
    } else {
        cfg_unknown_key_msg(key, msg, n);
    }
}

int nc_config_set(nc_config *c, const char *assignment, char *err, size_t errlen)
{
    char msg[CFG_MSG_MAX], qb[128];
    const char *eq = strchr(assignment, '=');
    const char *sub = NULL;
    if (!eq || eq == assignment) {
        /* "kafka.consumer.sasl.password:x" must not end up in a log */
        snprintf(err, errlen, "--set %s: expected KEY=VALUE, e.g. kafka.group=newsclf",
                 nc_config_is_secret(assignment) ? "(not shown: may hold a secret)"
                                                 : cfg_quote(assignment, qb, sizeof qb));
        return NC_CONFIG_EINVAL;
    }
    char *key = nc_xstrndup(assignment, (size_t)(eq - assignment));
    if (!key) {
        snprintf(err, errlen, "out of memory");
        return NC_CONFIG_ENOMEM;
    }
    const char *value = eq + 1;
    int rc;
    const struct nc_ckey *k = cfg_key_find(key);
    if (!k)
        k = cfg_key_find_map(key, &sub);
    if (!k) {
        not_a_key_msg(key, msg, sizeof msg);
        snprintf(err, errlen, "--set: %s", msg);
        rc = NC_CONFIG_EINVAL;
        goto done;
    }
    if ((rc = cfg_key_set_text(c, k, sub, value, msg, sizeof msg)) < 0) {
        snprintf(err, errlen, "--set %s: %s", cfg_quote(key, qb, sizeof qb), msg);
        goto done;
    }
    /* A whole list or map replaced: its items' old origins are gone. */
    if (!sub)
        cfg_origin_clear(c, key);
    if (cfg_origin_set(c, key, "--set") < 0) {
        snprintf(err, errlen, "out of memory");
        rc = NC_CONFIG_ENOMEM;
        goto done;
    }
    cfg_update_derived(c);
    if (err && errlen)
        err[0] = '\0';
done:
    free(key);
    return rc;
}

int nc_config_set_all(nc_config *c, const char *const *assignments, size_t n, char *err,
                      size_t errlen)
{
    struct cfg_sink sink = {0};
    char one[2 * CFG_MSG_MAX];
    int rc = 0;

    for (size_t i = 0; i < n; i++) {
        int r = nc_config_set(c, assignments[i], one, sizeof one);
        if (r == 0)
            continue;
        if (rc == 0 || r == NC_CONFIG_ENOMEM)
            rc = r;
        cfg_sink_add(&sink, "%s", one);
    }
    if (rc != 0) {
        cfg_sink_finish(&sink, err, errlen);
        if (sink.oom)
            rc = NC_CONFIG_ENOMEM;
    } else if (err && errlen) {
        err[0] = '\0';
    }
    cfg_sink_free(&sink);
    return rc;
}
