/*
 * keys.c - finding keys in the table (config_table.c) by dotted path: a key,
 * a section, an entry of a map; and, for a path that is none of these, the
 * closest key or section to suggest. nc_config_key() lists the table.
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "config/internal.h"

const struct nc_ckey *cfg_key_find(const char *path)
{
    for (size_t i = 0; i < nc_nckeys; i++)
        if (strcmp(nc_ckeys[i].path, path) == 0)
            return &nc_ckeys[i];
    return NULL;
}

bool cfg_is_section(const char *path)
{
    size_t n = strlen(path);
    for (size_t i = 0; i < nc_nckeys; i++)
        if (strncmp(nc_ckeys[i].path, path, n) == 0 && nc_ckeys[i].path[n] == '.')
            return true;
    return false;
}

const struct nc_ckey *cfg_section_first(const char *section)
{
    size_t n = strlen(section);
    for (size_t i = 0; i < nc_nckeys; i++)
        if (strncmp(nc_ckeys[i].path, section, n) == 0)
            return &nc_ckeys[i];
    return NULL;
}

const struct nc_ckey *cfg_key_find_map(const char *path, const char **sub)
{
    for (size_t i = 0; i < nc_nckeys; i++) {
        const struct nc_ckey *k = &nc_ckeys[i];
        size_t n = strlen(k->path);
        if ((k->type == CT_KV || k->type == CT_THRESH) && strncmp(k->path, path, n) == 0 &&
            path[n] == '.' && path[n + 1]) {
            *sub = path + n + 1;
            return k;
        }
    }
    return NULL;
}

size_t cfg_edit_distance(const char *a, const char *b, bool within)
{
    size_t la = strlen(a), lb = strlen(b);
    size_t row[129] = {0};
    if (la > 128 || lb > 128)
        return SIZE_MAX;
    /* row[j]: edits from a[0..i) to b[0..j) or, within, to the best piece
     * of b ending at j (a piece may start anywhere: row 0 is all 0). */
    for (size_t j = 0; j <= lb; j++)
        row[j] = within ? 0 : j;
    for (size_t i = 1; i <= la; i++) {
        size_t diag = row[0];
        row[0] = i;
        for (size_t j = 1; j <= lb; j++) {
            size_t up = row[j];
            /* j <= lb = strlen(b): the analyzer does not follow strlen. */
            size_t best = diag + (a[i - 1] != b[j - 1]); // NOLINT(clang-analyzer-core.UndefinedBinaryOperatorResult)
            if (up + 1 < best)
                best = up + 1;
            if (row[j - 1] + 1 < best)
                best = row[j - 1] + 1;
            row[j] = best;
            diag = up;
        }
    }
    size_t best = row[lb];
    for (size_t j = 0; within && j < lb; j++)
        if (row[j] < best)
            best = row[j];
    return best;
}

/* The closest key or section name to a mistyped path, or NULL. */
static const char *suggest(const char *path, char *buf, size_t n)
{
    size_t best = 3; /* at most 2 edits */
    buf[0] = '\0';
    for (size_t i = 0; i < nc_nckeys; i++) {
        const char *kp = nc_ckeys[i].path;
        /* the key itself and each of its section prefixes */
        for (size_t e = 0;; e++) {
            if (kp[e] == '.' || kp[e] == '\0') {
                char cand[128];
                if (e < sizeof cand) {
                    memcpy(cand, kp, e);
                    cand[e] = '\0';
                    size_t d = cfg_edit_distance(path, cand, false);
                    if (d < best) {
                        best = d;
                        snprintf(buf, n, "%s", cand);
                    }
                }
            }
            if (kp[e] == '\0')
                break;
        }
    }
    return buf[0] ? buf : NULL;
}

void cfg_unknown_key_msg(const char *path, char *msg, size_t n)
{
    char qb[128], sb[128];
    const char *s = suggest(path, sb, sizeof sb);
    if (s)
        snprintf(msg, n, "unknown key %s (did you mean '%s'?)", cfg_quote(path, qb, sizeof qb), s);
    else
        snprintf(msg, n, "unknown key %s", cfg_quote(path, qb, sizeof qb));
}

const char *nc_config_closest(const char *word, const char *const *cands, size_t n)
{
    const char *best = NULL;
    size_t bd = 3; /* at most 2 edits, as for our own keys */
    for (size_t i = 0; i < n; i++) {
        size_t d = cfg_edit_distance(word, cands[i], false);
        if (d < bd) {
            bd = d;
            best = cands[i];
        }
    }
    return best;
}

const char *nc_config_key(size_t i, const char **def, const char **help)
{
    if (i >= nc_nckeys)
        return NULL;
    if (def)
        *def = nc_ckeys[i].def;
    if (help)
        *help = nc_ckeys[i].help;
    return nc_ckeys[i].path;
}
