/*
 * dump.c - the effective config as YAML (nc_config_dump(), --dump-config),
 * every key in table order, loadable again: strings double-quoted with
 * "${" written "$${", doubles in their shortest exact form. The values of
 * secret keys (secret.c), pass-through properties included, are written as
 * "********". model.thresholds entries are probabilities whatever their
 * label is called, so they are never masked (a mask would not load again).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config/internal.h"

static const char MASK[] = "********";

/* A YAML double-quoted scalar; "${" is written "$${" so a reload keeps it. */
static void put_str(FILE *fp, const char *s)
{
    fputc('"', fp);
    for (; *s; s++) {
        unsigned char ch = (unsigned char)*s;
        if (ch == '"' || ch == '\\')
            fprintf(fp, "\\%c", ch);
        else if (ch == '\n')
            fputs("\\n", fp);
        else if (ch == '\t')
            fputs("\\t", fp);
        else if (ch < 0x20 || ch == 0x7f)
            fprintf(fp, "\\x%02x", ch);
        else if (ch == '$' && s[1] == '{')
            fputs("$$", fp);
        else
            fputc(ch, fp);
    }
    fputc('"', fp);
}

/* Shortest text that reads back as the same double. */
static void put_double(FILE *fp, double d)
{
    char b[64];
    for (int prec = 15; prec <= 17; prec++) {
        snprintf(b, sizeof b, "%.*g", prec, d);
        if (strtod(b, NULL) == d)
            break;
    }
    fputs(b, fp);
}

static void indent(FILE *fp, int level)
{
    for (int i = 0; i < level; i++)
        fputs("  ", fp);
}

/* A list key or an article_fields list, after "key:". */
static void dump_list(const nc_config *c, const struct nc_ckey *k, FILE *fp, int lvl)
{
    char *const *v = *CAT(c, k->type == CT_FIELDS ? k->off_items : k->off, strlist_t);
    size_t n = *CAT(c, k->off_count, size_t);
    if (k->type == CT_FIELDS && *CAT(c, k->off, int) != NC_CONFIG_FIELDS_LIST) {
        fprintf(fp, " %s\n", *CAT(c, k->off, int) == NC_CONFIG_FIELDS_ALL ? "all" : "none");
        return;
    }
    if (n == 0) {
        fputs(" []\n", fp);
        return;
    }
    fputc('\n', fp);
    for (size_t i = 0; i < n; i++) {
        indent(fp, lvl + 1);
        fputs("- ", fp);
        put_str(fp, v[i]);
        fputc('\n', fp);
    }
}

/* A pass-through map ("name": "value", secrets masked) or model.thresholds
 * ("label": probability). */
static void dump_map(const nc_config *c, const struct nc_ckey *k, FILE *fp, int lvl)
{
    size_t n = *CAT(c, k->off_count, size_t);
    fputs(n ? "\n" : " {}\n", fp);
    for (size_t i = 0; i < n; i++) {
        indent(fp, lvl + 1);
        if (k->type == CT_KV) {
            const nc_kv *e = &(*CAT(c, k->off, nc_kv *))[i];
            put_str(fp, e->key);
            fputs(": ", fp);
            put_str(fp, nc_config_is_secret(e->key) ? MASK : e->value);
        } else {
            const nc_threshold *e = &(*CAT(c, k->off, nc_threshold *))[i];
            put_str(fp, e->label);
            fputs(": ", fp);
            put_double(fp, e->probability);
        }
        fputc('\n', fp);
    }
}

static void dump_routes(const nc_config *c, const struct nc_ckey *k, FILE *fp, int lvl)
{
    const nc_route *v = *CAT(c, k->off, nc_route *);
    size_t n = *CAT(c, k->off_count, size_t);
    fputs(n ? "\n" : " []\n", fp);
    for (size_t i = 0; i < n; i++) {
        indent(fp, lvl + 1);
        fputs("- label: ", fp);
        put_str(fp, v[i].label);
        fputc('\n', fp);
        indent(fp, lvl + 2);
        fputs("topic: ", fp);
        put_str(fp, v[i].topic);
        fputc('\n', fp);
        if (v[i].min_probability > 0.0) {
            indent(fp, lvl + 2);
            fputs("min_probability: ", fp);
            put_double(fp, v[i].min_probability);
            fputc('\n', fp);
        }
    }
}

/* Key k's value after "key:", at indentation level lvl. */
static void dump_value(const nc_config *c, const struct nc_ckey *k, FILE *fp, int lvl)
{
    switch (k->type) {
    case CT_STR:
        fputc(' ', fp);
        put_str(fp, nc_config_is_secret(k->path) ? MASK : *CAT(c, k->off, char *));
        fputc('\n', fp);
        break;
    case CT_BOOL:
        fprintf(fp, " %s\n", *CAT(c, k->off, bool) ? "true" : "false");
        break;
    case CT_INT:
        fprintf(fp, " %d\n", *CAT(c, k->off, int));
        break;
    case CT_SIZE:
        fprintf(fp, " %zu\n", *CAT(c, k->off, size_t));
        break;
    case CT_ENUM:
        fprintf(fp, " %s\n", k->names[*CAT(c, k->off, int)]);
        break;
    case CT_STRLIST:
    case CT_FIELDS:
        dump_list(c, k, fp, lvl);
        break;
    case CT_KV:
    case CT_THRESH:
        dump_map(c, k, fp, lvl);
        break;
    case CT_ROUTES:
        dump_routes(c, k, fp, lvl);
        break;
    }
}

void nc_config_dump(const nc_config *c, FILE *fp)
{
    const char *prev = "";
    fprintf(fp, "# newsclfd effective configuration%s%s\n", c->source[0] ? " from " : "",
            c->source);
    for (size_t i = 0; i < nc_nckeys; i++) {
        const char *p = nc_ckeys[i].path;
        /* Components shared with the previous key's sections are open already. */
        size_t common = 0, lvl = 0;
        for (size_t j = 0; p[j] && p[j] == prev[j]; j++)
            if (p[j] == '.') {
                common = j + 1;
                lvl++;
            }
        const char *seg = p + common;
        for (const char *dot; (dot = strchr(seg, '.')) != NULL; seg = dot + 1) {
            if (lvl == 0)
                fputc('\n', fp);
            indent(fp, (int)lvl++);
            fprintf(fp, "%.*s:\n", (int)(dot - seg), seg);
        }
        indent(fp, (int)lvl);
        fprintf(fp, "%s:", seg);
        dump_value(c, &nc_ckeys[i], fp, (int)lvl);
        prev = p;
    }
}
