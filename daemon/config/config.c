/*
 * config.c - a config's life cycle: the defaults (every key set from its
 * default text, through the same parsers as the file), loading a file
 * (read, YAML tree, apply, cross-field checks; every error collected),
 * freeing; and the small accessors of config.h. internal.h says which file
 * does the rest.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/str.h"
#include "base/util.h"
#include "config/internal.h"

enum { MAX_FILE_BYTES = 4 * 1024 * 1024 }; /* a config file is a few KiB */

void cfg_update_derived(nc_config *c)
{
    /* brokers is set by the defaults; the check is for the analyzer, which
     * cannot see the table's size from here. */
    c->kafka.embedded = c->kafka.brokers && strcmp(c->kafka.brokers, "embedded") == 0;
}

void nc_config_free(nc_config *c)
{
    if (!c)
        return;
    for (size_t i = 0; i < nc_nckeys; i++)
        cfg_key_free(c, &nc_ckeys[i]);
    cfg_origins_free(c->priv);
    free(c->source);
    free(c);
}

nc_config *nc_config_new_defaults(void)
{
    char msg[CFG_MSG_MAX];
    nc_config *c = calloc(1, sizeof *c);
    if (!c)
        return NULL;
    if (!(c->priv = cfg_origins_new()) || !(c->source = nc_xstrdup("")))
        goto fail;
    for (size_t i = 0; i < nc_nckeys; i++)
        if (cfg_key_set_text(c, &nc_ckeys[i], NULL, nc_ckeys[i].def, msg, sizeof msg) < 0)
            goto fail; /* only out of memory: the table's defaults are tested */
    cfg_update_derived(c);
    return c;
fail:
    nc_config_free(c);
    return NULL;
}

/* The whole file (any kind: a pipe or /dev/stdin too), or an error in s. */
static int read_config(const char *path, char **buf, size_t *len, struct cfg_sink *s)
{
    FILE *fp = fopen(path, "rb");
    if (!fp) {
        cfg_sink_add(s, "%s: cannot open: %s", path, strerror(errno));
        return NC_CONFIG_EIO;
    }
    int rc = 0;
    if (nc_read_stream(fp, MAX_FILE_BYTES - 1, buf, len) < 0) {
        if (errno == EFBIG) {
            cfg_sink_add(s, "%s: larger than %d bytes; not a config file?", path, MAX_FILE_BYTES);
            rc = NC_CONFIG_EINVAL;
        } else if (errno == ENOMEM) {
            s->oom = true;
            rc = NC_CONFIG_ENOMEM;
        } else {
            cfg_sink_add(s, "%s: read error: %s", path, strerror(errno));
            rc = NC_CONFIG_EIO;
        }
    }
    fclose(fp);
    return rc;
}

int nc_config_load(const char *path, nc_config **out, char *err, size_t errlen)
{
    struct cfg_sink s = {0};
    char *buf = NULL;
    size_t len = 0;
    struct ynode *root = NULL;
    nc_config *c = NULL;
    int rc;

    *out = NULL;
    if ((rc = read_config(path, &buf, &len, &s)) < 0)
        goto fail;
    if (!(c = nc_config_new_defaults())) {
        rc = NC_CONFIG_ENOMEM;
        goto fail;
    }
    free(c->source);
    if (!(c->source = nc_xstrdup(path))) {
        rc = NC_CONFIG_ENOMEM;
        goto fail;
    }
    struct lctx x = {c, &s, path};
    if ((rc = cfg_build_tree(&x, (const unsigned char *)buf, len, &root)) < 0)
        goto fail;
    cfg_apply_tree(&x, root);
    cfg_update_derived(c);
    /* Cross-field checks only make sense on values that passed their own. */
    if (s.nlines == 0)
        cfg_validate_into(c, &s);
    if (s.nlines || s.oom) {
        rc = s.nlines ? NC_CONFIG_EINVAL : NC_CONFIG_ENOMEM;
        goto fail;
    }
    cfg_ynode_free(root);
    free(buf);
    cfg_sink_free(&s);
    if (err && errlen)
        err[0] = '\0';
    *out = c;
    return 0;
fail:
    cfg_sink_finish(&s, err, errlen);
    if (err && errlen && !err[0])
        snprintf(err, errlen, "%s: out of memory", path);
    cfg_sink_free(&s);
    cfg_ynode_free(root);
    free(buf);
    nc_config_free(c);
    return rc;
}

double nc_config_threshold(const nc_config *c, const char *label, double fallback)
{
    for (size_t i = 0; i < c->model.n_thresholds; i++)
        if (strcmp(c->model.thresholds[i].label, label) == 0)
            return c->model.thresholds[i].probability;
    return fallback;
}

double nc_config_route_min(const nc_config *c, const nc_route *r, double model_threshold)
{
    return r->min_probability > 0.0 ? r->min_probability
                                    : nc_config_threshold(c, r->label, model_threshold);
}
