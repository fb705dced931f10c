/*
 * subst.c - ${VAR} and ${VAR:-default} in the file's scalar values (the
 * default is used when VAR is unset or empty; "$${" is a literal "${"), so
 * secrets can stay in the environment. --set values get no substitution:
 * the shell did it already.
 */
#include <stdlib.h>
#include <string.h>

#include "base/str.h"
#include "config/internal.h"

/* Returns a malloc'd copy of the scalar with variables substituted, or NULL
 * after reporting the error. */
static char *subst(struct lctx *x, const struct ynode *y, const char *path)
{
    const char *s = y->text;
    size_t cap = strlen(s) + 1, len = 0;
    char *out = malloc(cap);
    if (!out)
        goto nomem;
    for (size_t i = 0; s[i];) {
        const char *piece = s + i;
        size_t plen = 1;
        char *val_owned = NULL;
        if (s[i] == '$' && s[i + 1] == '$' && s[i + 2] == '{') {
            piece = "${";
            plen = 2;
            i += 3;
        } else if (s[i] == '$' && s[i + 1] == '{') {
            size_t j = i + 2;
            if ((s[j] >= 'A' && s[j] <= 'Z') || (s[j] >= 'a' && s[j] <= 'z') || s[j] == '_')
                while (cfg_is_alnum((unsigned char)s[j]) || s[j] == '_')
                    j++;
            size_t nl = j - (i + 2);
            char name[256];
            if (nl == 0 || nl >= sizeof name || (s[j] != '}' && !(s[j] == ':' && s[j + 1] == '-')))
                goto malformed;
            memcpy(name, s + i + 2, nl);
            name[nl] = '\0';
            const char *v = getenv(name);
            if (s[j] == '}') {
                if (!v) {
                    cfg_at(x, &y->mark,
                           "%s: environment variable %s is not set (use ${%s:-default})", path,
                           name, name);
                    free(out);
                    return NULL;
                }
                i = j + 1;
            } else {
                const char *close = strchr(s + j + 2, '}');
                if (!close)
                    goto malformed;
                if (!v || !*v) {
                    if (!(val_owned = nc_xstrndup(s + j + 2, (size_t)(close - (s + j + 2)))))
                        goto nomem;
                    v = val_owned;
                }
                i = (size_t)(close - s) + 1;
            }
            piece = v;
            /* v is the variable's value or, when unset/empty, the default. */
            // cppcheck-suppress nullPointerRedundantCheck
            plen = strlen(v);
        } else {
            i++;
        }
        if (len + plen + 1 > cap) {
            while (len + plen + 1 > cap)
                cap *= 2;
            char *no = realloc(out, cap);
            if (!no) {
                free(val_owned);
                goto nomem;
            }
            out = no;
        }
        memcpy(out + len, piece, plen);
        len += plen;
        free(val_owned);
    }
    out[len] = '\0';
    return out;
malformed:
    cfg_at(x, &y->mark, "%s: malformed variable reference: expected ${NAME} or ${NAME:-default}",
           path);
    free(out);
    return NULL;
nomem:
    free(out);
    x->s->oom = true;
    return NULL;
}

char *cfg_value_text(struct lctx *x, const struct ynode *y, const char *path)
{
    if (!cfg_is_null(y))
        return subst(x, y, path);
    char *t = nc_xstrdup("");
    if (!t)
        x->s->oom = true;
    return t;
}
