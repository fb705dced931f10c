/*
 * internal.h - what the files of the config part share; private to
 * daemon/config/ (README.md there says which file does what).
 *
 * A load goes: the file's bytes (config.c) -> a tree of YAML nodes with their
 * marks (yaml.c) -> each value, after ${VAR} substitution (subst.c), parsed
 * and checked (value.c) and stored into struct nc_config (store.c) key by key
 * against the table (config_table.c, apply.c), its origin noted (origin.c)
 * -> cross-field checks (validate.c). --set (set.c) and the defaults take the
 * same parsers and setters from text. Every problem is one line in an error
 * sink (errors.c), so a user sees all of them at once.
 */
#ifndef NC_CONFIG_INTERNAL_H
#define NC_CONFIG_INTERNAL_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>

#include <yaml.h>

#include "base/log.h" /* NC_PRINTF */
#include "config/config.h"
#include "config/config_table.h"

enum {
    CFG_LABEL_MAX = 64, /* as NC_LABEL_MAX in core/model.h, NUL included */
    CFG_MSG_MAX = 512,  /* one error message */
};

/* Typed access to a key's storage inside the struct. */
#define AT(c, off, T) ((T *)(void *)((char *)(c) + (off)))
#define CAT(c, off, T) ((const T *)(const void *)((const char *)(c) + (off)))
typedef char **strlist_t; /* so CAT(..., strlist_t) is char **const * */

/* ------------------------------------------------------------------------ */
/* errors.c: the error sink, and user text in messages                      */

struct cfg_sink {
    char *buf; /* lines, each '\n'-terminated */
    size_t len, cap;
    size_t nlines;
    bool oom;
};

void cfg_sink_vadd(struct cfg_sink *s, const char *fmt, va_list ap) NC_PRINTF(2, 0);
void cfg_sink_add(struct cfg_sink *s, const char *fmt, ...) NC_PRINTF(2, 3);
/* Copies whole lines into err; when they do not all fit, the last line says
 * how many were left out. No trailing newline. */
void cfg_sink_finish(const struct cfg_sink *s, char *err, size_t errlen);
void cfg_sink_free(struct cfg_sink *s);

/* User text for a message: quoted, control bytes escaped, long text cut. */
const char *cfg_quote(const char *s, char *buf, size_t n);

/* ------------------------------------------------------------------------ */
/* keys.c: finding keys in the table                                        */

const struct nc_ckey *cfg_key_find(const char *path);
/* True if `path` names a section (a proper dotted prefix of some key). */
bool cfg_is_section(const char *path);
/* The first key of a section, or NULL. */
const struct nc_ckey *cfg_section_first(const char *section);
/* A map key (pass-through or thresholds) under which `path` is one entry:
 * "kafka.consumer.fetch.max.bytes" -> kafka.consumer, *sub = "fetch.max.bytes". */
const struct nc_ckey *cfg_key_find_map(const char *path, const char **sub);
/* "unknown key 'x'", with "(did you mean 'y'?)" when a key or section is close. */
void cfg_unknown_key_msg(const char *path, char *msg, size_t n);
/* Edits (Levenshtein) from a to b, each at most 128 bytes (else SIZE_MAX);
 * with within, from a to the closest piece of b. */
size_t cfg_edit_distance(const char *a, const char *b, bool within);

/* ------------------------------------------------------------------------ */
/* value.c: text -> typed values, and the checks on them                    */

/* A-Z a-z 0-9, whatever the locale. */
bool cfg_is_alnum(int ch);
/* True if s holds a control character (< 0x20, 0x7f). */
bool cfg_has_ctl(const char *s);
int cfg_parse_bool(const char *s, bool *out, char *msg, size_t n);
int cfg_parse_ll(const char *s, long long min, long long max, long long *out, char *msg, size_t n);
/* A probability in (0,1). */
int cfg_parse_prob(const char *s, double *out, char *msg, size_t n);
/* A ^regex that would make glibc's regcomp() or regexec() blow up. */
bool cfg_regex_too_complex(const char *s);
int cfg_check_string(enum nc_ccheck ck, const char *s, char *msg, size_t n);
int cfg_check_label(const char *s, char *msg, size_t n);
int cfg_check_field_name(const char *s, char *msg, size_t n);
/* A librdkafka property name kafka.consumer / kafka.producer may set. */
int cfg_check_prop(const char *key, char *msg, size_t n);

/* ------------------------------------------------------------------------ */
/* store.c: typed values into struct nc_config. A setter builds the new value
 * first and replaces the old one only on success.                           */

struct strvec {
    char **v;
    size_t n, cap;
};

int cfg_strvec_push(struct strvec *sv, const char *s, size_t len);
void cfg_strvec_free(struct strvec *sv);
void cfg_routes_free(nc_route *v, size_t n);
/* msg = "out of memory"; returns NC_CONFIG_ENOMEM. */
int cfg_oom(char *msg, size_t n);

/* CT_STR, CT_BOOL, CT_INT, CT_SIZE, CT_ENUM from text. */
int cfg_set_scalar(nc_config *c, const struct nc_ckey *k, const char *text, char *msg, size_t n);
/* Moves sv's items into the list (sv is left empty). */
int cfg_replace_strlist(nc_config *c, const struct nc_ckey *k, struct strvec *sv, char *msg,
                        size_t n);
void cfg_replace_fields(nc_config *c, const struct nc_ckey *k, enum nc_config_fields mode,
                        struct strvec *sv);
/* Takes rv[0..rn) as the new routes. */
void cfg_replace_routes(nc_config *c, const struct nc_ckey *k, nc_route *rv, size_t rn);
/* Sets (or, value NULL, removes) one entry of a pass-through map. */
int cfg_kv_put(nc_config *c, const struct nc_ckey *k, const char *key, const char *value,
               char *msg, size_t n);
/* Sets (p > 0) or removes (p == 0) one label's threshold. */
int cfg_thresh_put(nc_config *c, const struct nc_ckey *k, const char *label, double p, char *msg,
                   size_t n);
/* Frees key k's value and leaves it empty (NULL, count 0). */
void cfg_key_free(nc_config *c, const struct nc_ckey *k);

/* ------------------------------------------------------------------------ */
/* origin.c: where each key's value came from ("file:line:col" or "--set")  */

struct nc_config_priv *cfg_origins_new(void);
void cfg_origins_free(struct nc_config_priv *p);
int cfg_origin_set(nc_config *c, const char *path, const char *where);
/* Forgets the origins of path and everything under it (path.x, path[i]). */
void cfg_origin_clear(nc_config *c, const char *path);

/* ------------------------------------------------------------------------ */
/* yaml.c: libyaml events -> a tree of nodes                                 */

enum { YN_SCALAR, YN_MAP, YN_SEQ };

struct ynode {
    int kind;
    yaml_mark_t mark;
    char *text;          /* YN_SCALAR */
    bool plain;          /* YN_SCALAR: unquoted (null detection) */
    bool bad;            /* an alias or a refused scalar: already reported */
    struct ynode **kids; /* YN_MAP: key, value, key, value...; YN_SEQ: items */
    size_t n, cap;
    struct ynode *parent;
};

/* One load: the config being filled, its errors, the file name for them. */
struct lctx {
    nc_config *c;
    struct cfg_sink *s;
    const char *file;
};

/* Reports "file:line:column: message" at mark m. */
void cfg_at(struct lctx *x, const yaml_mark_t *m, const char *fmt, ...) NC_PRINTF(3, 4);
/* The tree of the document in buf (*out NULL for an empty stream); 0 or a
 * negative NC_CONFIG_E* code after reporting. */
int cfg_build_tree(struct lctx *x, const unsigned char *buf, size_t len, struct ynode **out);
void cfg_ynode_free(struct ynode *y);
/* "a mapping", "a list" or "a scalar". */
const char *cfg_kind_name(const struct ynode *y);
/* A plain "", "~" or "null" scalar. */
bool cfg_is_null(const struct ynode *y);

/* subst.c: the text of a scalar value, ${VAR} substituted ("" for a null);
 * NULL after reporting the error (at the node, naming path). */
char *cfg_value_text(struct lctx *x, const struct ynode *y, const char *path);

/* apply.c: the tree's values into x->c, every error reported. */
void cfg_apply_tree(struct lctx *x, const struct ynode *root);

/* ------------------------------------------------------------------------ */
/* The rest                                                                 */

/* set.c: key k from --set text (also the defaults). `sub` is the entry name
 * for kafka.consumer.NAME / model.thresholds.LABEL, else NULL. */
int cfg_key_set_text(nc_config *c, const struct nc_ckey *k, const char *sub, const char *text,
                     char *msg, size_t n);

/* validate.c: the cross-field checks into s. */
void cfg_validate_into(const nc_config *c, struct cfg_sink *s);

/* config.c: fields computed from others (kafka.embedded). */
void cfg_update_derived(nc_config *c);

#endif
