/*
 * yaml.c - libyaml's events -> a small tree of nodes, each with its mark
 * (line, column). A config file is small; a tree lets the walk (apply.c)
 * report duplicate keys and missing route fields at the right place. Refused
 * here, each at its position: YAML syntax and encoding errors, aliases, NUL
 * characters in scalars, more than one document, nesting deeper than
 * MAX_DEPTH.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/str.h"
#include "config/internal.h"

enum { MAX_DEPTH = 32 }; /* our deepest key is 4 levels */

void cfg_ynode_free(struct ynode *y)
{
    if (!y)
        return;
    for (size_t i = 0; i < y->n; i++)
        cfg_ynode_free(y->kids[i]);
    free(y->kids);
    free(y->text);
    free(y);
}

const char *cfg_kind_name(const struct ynode *y)
{
    return y->kind == YN_MAP ? "a mapping" : y->kind == YN_SEQ ? "a list" : "a scalar";
}

bool cfg_is_null(const struct ynode *y)
{
    return y->kind == YN_SCALAR && y->plain &&
           (!y->text[0] || !strcmp(y->text, "~") || !strcmp(y->text, "null") ||
            !strcmp(y->text, "Null") || !strcmp(y->text, "NULL"));
}

void cfg_at(struct lctx *x, const yaml_mark_t *m, const char *fmt, ...)
{
    char msg[CFG_MSG_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    cfg_sink_add(x->s, "%s:%zu:%zu: %s", x->file, m->line + 1, m->column + 1, msg);
}

static int yattach(struct ynode **root, struct ynode *cur, struct ynode *y)
{
    y->parent = cur;
    if (!cur) {
        *root = y;
        return 0; // NOLINT(clang-analyzer-unix.Malloc): y now belongs to *root
    }
    if (cur->n == cur->cap) {
        size_t ncap = cur->cap ? cur->cap * 2 : 8;
        struct ynode **nk = realloc(cur->kids, ncap * sizeof(struct ynode *));
        if (!nk) /* the caller frees y (not yet attached) */
            return -1; // NOLINT(clang-analyzer-unix.Malloc)
        cur->kids = nk;
        cur->cap = ncap;
    }
    cur->kids[cur->n++] = y;
    return 0;
}

/* Line and column (0-based) of a byte offset, for reader (encoding) errors. */
static yaml_mark_t mark_of_offset(const unsigned char *buf, size_t len, size_t off)
{
    yaml_mark_t m = {0, 0, 0};
    for (size_t i = 0; i < off && i < len; i++) {
        if (buf[i] == '\n') {
            m.line++;
            m.column = 0;
        } else if ((buf[i] & 0xc0) != 0x80) {
            m.column++;
        }
    }
    m.index = off;
    return m;
}

/* Reports the parser's error; NC_CONFIG_ESYNTAX, or _ENOMEM. */
static int parse_error(struct lctx *x, const yaml_parser_t *p, const unsigned char *buf,
                       size_t len)
{
    if (p->error == YAML_MEMORY_ERROR) {
        x->s->oom = true;
        return NC_CONFIG_ENOMEM;
    }
    yaml_mark_t m =
        p->error == YAML_READER_ERROR ? mark_of_offset(buf, len, p->problem_offset) : p->problem_mark;
    if (p->context)
        cfg_at(x, &m, "YAML syntax error: %s %s (line %zu column %zu)",
               p->problem ? p->problem : "error", p->context, p->context_mark.line + 1,
               p->context_mark.column + 1);
    else
        cfg_at(x, &m, "YAML syntax error: %s", p->problem ? p->problem : "error");
    return NC_CONFIG_ESYNTAX;
}

/* A node for a scalar, alias, sequence or mapping start event; NULL when out
 * of memory. Aliases and scalars holding a NUL are reported and marked bad. */
static struct ynode *node_of_event(struct lctx *x, const yaml_event_t *ev)
{
    struct ynode *y = calloc(1, sizeof *y);
    if (!y)
        return NULL;
    y->mark = ev->start_mark;
    if (ev->type == YAML_SEQUENCE_START_EVENT || ev->type == YAML_MAPPING_START_EVENT) {
        y->kind = ev->type == YAML_MAPPING_START_EVENT ? YN_MAP : YN_SEQ;
        return y;
    }
    y->kind = YN_SCALAR;
    if (ev->type == YAML_ALIAS_EVENT) {
        cfg_at(x, &ev->start_mark, "YAML aliases are not supported");
        y->bad = true;
        y->text = nc_xstrdup("");
    } else {
        y->text = nc_xstrndup((const char *)ev->data.scalar.value, ev->data.scalar.length);
        y->plain = ev->data.scalar.style == YAML_PLAIN_SCALAR_STYLE;
        if (y->text && strlen(y->text) != ev->data.scalar.length) {
            cfg_at(x, &ev->start_mark, "a value contains a NUL character");
            y->bad = true;
        }
    }
    if (!y->text) {
        free(y);
        return NULL;
    }
    return y;
}

int cfg_build_tree(struct lctx *x, const unsigned char *buf, size_t len, struct ynode **out)
{
    yaml_parser_t p;
    yaml_event_t ev;
    struct ynode *root = NULL, *cur = NULL;
    int depth = 0, docs = 0, rc = 0;
    bool done = false;

    *out = NULL;
    if (!yaml_parser_initialize(&p)) {
        x->s->oom = true;
        return NC_CONFIG_ENOMEM;
    }
    yaml_parser_set_input_string(&p, buf, len);
    while (!done) {
        if (!yaml_parser_parse(&p, &ev)) {
            rc = parse_error(x, &p, buf, len);
            goto fail;
        }
        struct ynode *y = NULL;
        switch (ev.type) {
        case YAML_STREAM_END_EVENT:
            done = true;
            break;
        case YAML_DOCUMENT_START_EVENT:
            if (++docs > 1) {
                cfg_at(x, &ev.start_mark, "only one YAML document is allowed");
                rc = NC_CONFIG_EINVAL;
                yaml_event_delete(&ev);
                goto fail;
            }
            break;
        case YAML_ALIAS_EVENT:
        case YAML_SCALAR_EVENT:
        case YAML_SEQUENCE_START_EVENT:
        case YAML_MAPPING_START_EVENT:
            if (!(y = node_of_event(x, &ev)))
                goto nomem;
            if (yattach(&root, cur, y) < 0) {
                cfg_ynode_free(y);
                goto nomem;
            }
            if (y->kind != YN_SCALAR) {
                if (++depth > MAX_DEPTH) {
                    cfg_at(x, &ev.start_mark, "nesting deeper than %d levels", MAX_DEPTH);
                    rc = NC_CONFIG_EINVAL;
                    yaml_event_delete(&ev);
                    goto fail;
                }
                cur = y;
            }
            break;
        case YAML_SEQUENCE_END_EVENT:
        case YAML_MAPPING_END_EVENT:
            depth--;
            cur = cur ? cur->parent : NULL;
            break;
        default:
            break;
        }
        yaml_event_delete(&ev);
    }
    yaml_parser_delete(&p);
    *out = root;
    return 0;
nomem:
    yaml_event_delete(&ev);
    x->s->oom = true;
    rc = NC_CONFIG_ENOMEM;
fail:
    yaml_parser_delete(&p);
    cfg_ynode_free(root);
    return rc;
}
