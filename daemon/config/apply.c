/*
 * apply.c - the YAML tree -> struct nc_config: walks the mappings against the
 * key table (unknown keys get a "did you mean"), and applies each value
 * through the parsers and setters that --set and the defaults use: scalars,
 * lists, field lists, the pass-through and threshold maps, routes. Each
 * problem is reported at its own position and the walk goes on; the
 * position of every value applied is recorded as its origin.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config/internal.h"

static int record(struct lctx *x, const char *path, const yaml_mark_t *m)
{
    char where[1024];
    snprintf(where, sizeof where, "%s:%zu:%zu", x->file, m->line + 1, m->column + 1);
    if (cfg_origin_set(x->c, path, where) < 0) {
        x->s->oom = true;
        return -1;
    }
    return 0;
}

/* Reports and returns true if key i of map y repeats an earlier key. */
static bool dup_key(struct lctx *x, const struct ynode *y, size_t i, const char *path)
{
    const struct ynode *k = y->kids[i];
    for (size_t j = 0; j < i; j += 2) {
        const struct ynode *e = y->kids[j];
        if (e->kind == YN_SCALAR && strcmp(e->text, k->text) == 0) {
            char qb[128];
            cfg_at(x, &k->mark, "duplicate key %s (first at line %zu column %zu)",
                   cfg_quote(path, qb, sizeof qb), e->mark.line + 1, e->mark.column + 1);
            return true;
        }
    }
    return false;
}

/* Checks that map key i is a usable scalar and builds its dotted path. */
static bool map_key(struct lctx *x, const struct ynode *y, size_t i, const char *prefix, char *path,
                    size_t pathlen)
{
    const struct ynode *k = y->kids[i];
    if (k->bad)
        return false;
    if (k->kind != YN_SCALAR) {
        cfg_at(x, &k->mark, "%s: keys must be scalars, got %s", prefix[0] ? prefix : "(top level)",
               cfg_kind_name(k));
        return false;
    }
    int n = snprintf(path, pathlen, "%s%s%s", prefix, prefix[0] ? "." : "", k->text);
    if (n < 0 || (size_t)n >= pathlen) {
        cfg_at(x, &k->mark, "key too long");
        return false;
    }
    return !dup_key(x, y, i, path);
}

/*
 * The items of sequence v (the value of k) into sv: each must be a scalar
 * that passes cfg_check_string(k->check) or, with field_names,
 * cfg_check_field_name; a bad item is reported at its own position. Item
 * positions are recorded for later cross-checks unless field_names. True
 * when every item was good.
 */
static bool seq_items(struct lctx *x, const struct nc_ckey *k, const struct ynode *v,
                      bool field_names, struct strvec *sv)
{
    char msg[CFG_MSG_MAX], ipath[600];
    bool ok = true;
    for (size_t i = 0; i < v->n; i++) {
        const struct ynode *it = v->kids[i];
        snprintf(ipath, sizeof ipath, "%s[%zu]", k->path, i);
        if (it->bad) {
            ok = false;
            continue;
        }
        if (it->kind != YN_SCALAR) {
            cfg_at(x, &it->mark, "%s: expected %s, got %s", ipath,
                   field_names ? "a field name" : "a scalar", cfg_kind_name(it));
            ok = false;
            continue;
        }
        char *t = cfg_value_text(x, it, ipath);
        if (!t) {
            ok = false;
            continue;
        }
        int bad = field_names ? cfg_check_field_name(t, msg, sizeof msg)
                              : cfg_check_string(k->check, t, msg, sizeof msg);
        if (bad < 0) {
            cfg_at(x, &it->mark, "%s: %s", ipath, msg);
            ok = false;
        } else if (cfg_strvec_push(sv, t, strlen(t)) < 0 ||
                   (!field_names && record(x, ipath, &it->mark) < 0)) {
            x->s->oom = true;
            ok = false;
        }
        free(t);
    }
    return ok;
}

static void apply_strlist(struct lctx *x, const struct nc_ckey *k, const struct ynode *v)
{
    char msg[CFG_MSG_MAX];
    struct strvec sv = {0};
    if (v->kind != YN_SEQ) {
        cfg_at(x, &v->mark, "%s: expected a list, got %s", k->path, cfg_kind_name(v));
        return;
    }
    if (seq_items(x, k, v, false, &sv) && cfg_replace_strlist(x->c, k, &sv, msg, sizeof msg) < 0)
        cfg_at(x, &v->mark, "%s: %s", k->path, msg);
    cfg_strvec_free(&sv);
}

static void apply_fields(struct lctx *x, const struct nc_ckey *k, const struct ynode *v)
{
    char msg[CFG_MSG_MAX];
    struct strvec sv = {0};
    if (v->kind == YN_SCALAR) {
        char *t = cfg_value_text(x, v, k->path);
        if (!t)
            return;
        if (strcmp(t, "all") == 0)
            cfg_replace_fields(x->c, k, NC_CONFIG_FIELDS_ALL, &sv);
        else if (strcmp(t, "none") == 0)
            cfg_replace_fields(x->c, k, NC_CONFIG_FIELDS_NONE, &sv);
        else
            cfg_at(x, &v->mark, "%s: expected all, none or a list of field names, got %s",
                   k->path, cfg_quote(t, msg, sizeof msg));
        free(t);
        return;
    }
    if (v->kind != YN_SEQ) {
        cfg_at(x, &v->mark, "%s: expected all, none or a list of field names, got %s", k->path,
               cfg_kind_name(v));
        return;
    }
    if (seq_items(x, k, v, true, &sv))
        cfg_replace_fields(x->c, k, NC_CONFIG_FIELDS_LIST, &sv);
    cfg_strvec_free(&sv);
}

/* One entry (key kn, value vn) of a pass-through or threshold map. */
static void apply_map_entry(struct lctx *x, const struct nc_ckey *k, const struct ynode *kn,
                            const struct ynode *vn, const char *epath)
{
    char msg[CFG_MSG_MAX];
    if (k->type == CT_KV ? cfg_check_prop(kn->text, msg, sizeof msg) < 0
                         : cfg_check_label(kn->text, msg, sizeof msg) < 0) {
        cfg_at(x, &kn->mark, "%s: %s", k->path, msg);
        return;
    }
    if (vn->kind != YN_SCALAR) {
        cfg_at(x, &vn->mark, "%s: expected a scalar value, got %s", epath, cfg_kind_name(vn));
        return;
    }
    char *t = cfg_value_text(x, vn, epath);
    if (!t)
        return;
    int rc;
    if (k->type == CT_KV) {
        if (!*t) {
            cfg_at(x, &vn->mark, "%s: missing value", epath);
            free(t);
            return;
        }
        rc = cfg_kv_put(x->c, k, kn->text, t, msg, sizeof msg);
    } else {
        double p;
        rc = cfg_parse_prob(t, &p, msg, sizeof msg) < 0
                 ? NC_CONFIG_EINVAL
                 : cfg_thresh_put(x->c, k, kn->text, p, msg, sizeof msg);
    }
    free(t);
    if (rc < 0)
        cfg_at(x, &vn->mark, "%s: %s", epath, msg);
    else
        record(x, epath, &vn->mark);
}

/* kafka.consumer, kafka.producer and model.thresholds: a map of entries. */
static void apply_map(struct lctx *x, const struct nc_ckey *k, const struct ynode *v)
{
    char epath[600];
    if (cfg_is_null(v))
        return; /* "consumer:" with nothing under it */
    if (v->kind != YN_MAP) {
        cfg_at(x, &v->mark, "%s: expected a mapping, got %s", k->path, cfg_kind_name(v));
        return;
    }
    for (size_t i = 0; i + 1 < v->n; i += 2) {
        const struct ynode *kn = v->kids[i], *vn = v->kids[i + 1];
        if (map_key(x, v, i, k->path, epath, sizeof epath) && !vn->bad)
            apply_map_entry(x, k, kn, vn, epath);
    }
}

/* One field (key kn, value vn) of a route into r; false after reporting. */
static bool route_field(struct lctx *x, const struct ynode *kn, const struct ynode *vn,
                        const char *fpath, nc_route *r)
{
    char msg[CFG_MSG_MAX];
    bool is_label = !strcmp(kn->text, "label"), is_topic = !strcmp(kn->text, "topic");
    bool is_min = !strcmp(kn->text, "min_probability");
    if (!is_label && !is_topic && !is_min) {
        char qb[128];
        cfg_at(x, &kn->mark, "unknown key %s (a route has label, topic, min_probability)",
               cfg_quote(fpath, qb, sizeof qb));
        return false;
    }
    if (vn->kind != YN_SCALAR) {
        cfg_at(x, &vn->mark, "%s: expected a scalar, got %s", fpath, cfg_kind_name(vn));
        return false;
    }
    char *t = cfg_value_text(x, vn, fpath);
    if (!t)
        return false;
    int bad = is_label   ? cfg_check_label(t, msg, sizeof msg)
              : is_topic ? cfg_check_string(CK_TOPIC, t, msg, sizeof msg)
                         : cfg_parse_prob(t, &r->min_probability, msg, sizeof msg);
    if (bad < 0) {
        cfg_at(x, &vn->mark, "%s: %s", fpath, msg);
        free(t);
        return false;
    }
    if (is_label)
        r->label = t;
    else if (is_topic)
        r->topic = t;
    else
        free(t);
    return true;
}

/* Item it (at rpath) of outputs.routes into r; false after reporting. */
static bool route_item(struct lctx *x, const struct ynode *it, const char *rpath, nc_route *r)
{
    char fpath[700];
    if (it->bad)
        return false;
    if (it->kind != YN_MAP) {
        cfg_at(x, &it->mark, "%s: expected a mapping {label, topic, min_probability}, got %s",
               rpath, cfg_kind_name(it));
        return false;
    }
    bool ok = true;
    for (size_t j = 0; j + 1 < it->n; j += 2) {
        const struct ynode *kn = it->kids[j], *vn = it->kids[j + 1];
        if (!map_key(x, it, j, rpath, fpath, sizeof fpath) || vn->bad ||
            !route_field(x, kn, vn, fpath, r))
            ok = false;
    }
    if (ok && (!r->label || !r->topic)) {
        cfg_at(x, &it->mark, "%s: missing '%s'", rpath, !r->label ? "label" : "topic");
        ok = false;
    }
    if (ok)
        record(x, rpath, &it->mark);
    return ok;
}

static void apply_routes(struct lctx *x, const struct nc_ckey *k, const struct ynode *v)
{
    char rpath[600];
    nc_route *rv = NULL;
    size_t rn = 0;
    bool ok = true;
    if (!cfg_is_null(v)) {
        if (v->kind != YN_SEQ) {
            cfg_at(x, &v->mark, "%s: expected a list of {label, topic, min_probability}, got %s",
                   k->path, cfg_kind_name(v));
            return;
        }
        if (v->n && !(rv = calloc(v->n, sizeof *rv))) {
            x->s->oom = true;
            return;
        }
        for (; rn < v->n; rn++) {
            snprintf(rpath, sizeof rpath, "%s[%zu]", k->path, rn);
            if (!route_item(x, v->kids[rn], rpath, &rv[rn]))
                ok = false;
        }
    }
    if (!ok) {
        cfg_routes_free(rv, rn);
        return;
    }
    cfg_replace_routes(x->c, k, rv, rn);
}

static void apply_scalar(struct lctx *x, const struct nc_ckey *k, const struct ynode *v)
{
    char msg[CFG_MSG_MAX];
    if (v->kind != YN_SCALAR) {
        cfg_at(x, &v->mark, "%s: expected a scalar, got %s", k->path, cfg_kind_name(v));
        return;
    }
    char *t = cfg_value_text(x, v, k->path);
    if (!t)
        return;
    if (!*t && k->type != CT_STR)
        snprintf(msg, sizeof msg, "missing value");
    int rc = *t || k->type == CT_STR ? cfg_set_scalar(x->c, k, t, msg, sizeof msg)
                                     : NC_CONFIG_EINVAL;
    free(t);
    if (rc < 0) {
        cfg_at(x, &v->mark, "%s: %s", k->path, msg);
        return;
    }
    record(x, k->path, &v->mark);
}

static void apply_key(struct lctx *x, const struct nc_ckey *k, const struct ynode *v)
{
    typedef void apply_fn(struct lctx *, const struct nc_ckey *, const struct ynode *);
    static apply_fn *const by_type[] = {
        [CT_STRLIST] = apply_strlist, [CT_FIELDS] = apply_fields, [CT_KV] = apply_map,
        [CT_THRESH] = apply_map,      [CT_ROUTES] = apply_routes,
    };
    if (v->bad)
        return;
    if (!by_type[k->type]) {
        apply_scalar(x, k, v); /* records its origin on success only */
        return;
    }
    by_type[k->type](x, k, v);
    record(x, k->path, &v->mark);
}

static void walk_map(struct lctx *x, const struct ynode *y, const char *prefix)
{
    char path[512], msg[CFG_MSG_MAX];
    for (size_t i = 0; i + 1 < y->n; i += 2) {
        const struct ynode *kn = y->kids[i], *vn = y->kids[i + 1];
        if (!map_key(x, y, i, prefix, path, sizeof path))
            continue;
        const struct nc_ckey *k = cfg_key_find(path);
        if (k) {
            apply_key(x, k, vn);
        } else if (cfg_is_section(path)) {
            if (vn->kind == YN_MAP)
                walk_map(x, vn, path);
            else if (!cfg_is_null(vn) && !vn->bad)
                cfg_at(x, &vn->mark, "%s: expected a mapping (a section), got %s", path,
                       cfg_kind_name(vn));
        } else {
            cfg_unknown_key_msg(path, msg, sizeof msg);
            cfg_at(x, &kn->mark, "%s", msg);
        }
    }
}

void cfg_apply_tree(struct lctx *x, const struct ynode *root)
{
    if (root && root->kind == YN_MAP)
        walk_map(x, root, "");
    else if (root && !cfg_is_null(root) && !root->bad)
        cfg_at(x, &root->mark, "expected a mapping of sections (kafka, outputs, ...), got %s",
               cfg_kind_name(root));
}
