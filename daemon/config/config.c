/*
 * config.c - newsclfd's YAML configuration: load (libyaml events), --set
 * overrides, cross-field validation, dump, diff.
 *
 * Loading has two passes. The first turns libyaml's events into a small tree
 * of nodes with their marks (a config file is small; a tree lets us report
 * duplicate keys and missing route fields at the right place). The second
 * walks the tree against the key table (config_table.h) and applies each
 * value through the same parsers that --set and the defaults use. Every
 * problem becomes one "file:line:column: message" line in an error sink, and
 * the walk goes on, so a user sees all of them at once.
 */
#include "config/config.h"

#include <errno.h>
#include <limits.h>
#include <math.h>
#include <regex.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <yaml.h>

#include "config/config_table.h"

#define NC_FMT(a, b) __attribute__((format(printf, a, b)))

enum {
    MAX_FILE_BYTES = 4 * 1024 * 1024, /* a config file is a few KiB */
    MAX_DEPTH = 32,                   /* our deepest key is 4 levels */
    MAX_SINK_BYTES = 256 * 1024,      /* error text kept before counting only */
    LABEL_MAX = 64,                   /* as NC_LABEL_MAX in model.h, NUL included */
    MSG_MAX = 512,
};

/* ------------------------------------------------------------------------ */
/* Error sink: collects every error line, then hands them to the caller.     */

struct sink {
    char *buf; /* lines, each '\n'-terminated */
    size_t len, cap;
    size_t nlines;
    bool oom;
};

static NC_FMT(2, 0) void sink_vadd(struct sink *s, const char *fmt, va_list ap)
{
    char line[1024];
    int n = vsnprintf(line, sizeof line, fmt, ap);
    if (n < 0)
        return;
    size_t ln = strlen(line);
    /* One error per line, whatever the message contains. */
    for (size_t i = 0; i < ln; i++)
        if (line[i] == '\n' || line[i] == '\r')
            line[i] = ' ';
    s->nlines++;
    if (s->len + ln + 1 > MAX_SINK_BYTES)
        return; /* counted as "more errors" */
    if (s->len + ln + 2 > s->cap) {
        size_t ncap = s->cap ? s->cap * 2 : 1024;
        while (ncap < s->len + ln + 2)
            ncap *= 2;
        char *nb = realloc(s->buf, ncap);
        if (!nb) {
            s->oom = true;
            return;
        }
        s->buf = nb;
        s->cap = ncap;
    }
    memcpy(s->buf + s->len, line, ln);
    s->len += ln;
    s->buf[s->len++] = '\n';
    s->buf[s->len] = '\0';
}

static NC_FMT(2, 3) void sink_add(struct sink *s, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    sink_vadd(s, fmt, ap);
    va_end(ap);
}

/* Copies whole lines into err; when they do not all fit, the last line says
 * how many were left out. No trailing newline. */
static void sink_finish(const struct sink *s, char *err, size_t errlen)
{
    if (!err || errlen == 0)
        return;
    err[0] = '\0';
    if (s->nlines == 0) {
        if (s->oom)
            snprintf(err, errlen, "out of memory");
        return;
    }
    size_t used = 0, shown = 0;
    const char *p = s->buf ? s->buf : "";
    char tail[64];
    while (*p) {
        const char *nl = strchr(p, '\n');
        size_t ll = nl ? (size_t)(nl - p) : strlen(p);
        size_t need = (used ? 1 : 0) + ll;
        size_t rest = s->nlines - shown - 1;
        size_t reserve = rest ? sizeof tail : 0;
        if (used + need + reserve >= errlen)
            break;
        if (used)
            err[used++] = '\n';
        memcpy(err + used, p, ll);
        used += ll;
        err[used] = '\0';
        shown++;
        p = nl ? nl + 1 : p + ll;
    }
    if (shown < s->nlines) {
        size_t more = s->nlines - shown;
        snprintf(tail, sizeof tail, "%s... %zu more error%s", used ? "\n" : "", more,
                 more == 1 ? "" : "s");
        if (used + strlen(tail) < errlen)
            memcpy(err + used, tail, strlen(tail) + 1);
        else if (used == 0)
            snprintf(err, errlen, "%s", s->buf ? s->buf : "error");
    }
}

static void sink_free(struct sink *s)
{
    free(s->buf);
    memset(s, 0, sizeof *s);
}

/* ------------------------------------------------------------------------ */
/* Small helpers                                                             */

static char *xstrdup(const char *s)
{
    size_t n = strlen(s) + 1;
    char *d = malloc(n);
    if (d)
        memcpy(d, s, n);
    return d;
}

static char *xstrndup(const char *s, size_t n)
{
    char *d = malloc(n + 1);
    if (d) {
        memcpy(d, s, n);
        d[n] = '\0';
    }
    return d;
}

/* User text for a message: quoted, control bytes escaped, long text cut. */
static const char *q(const char *s, char *buf, size_t n)
{
    size_t o = 0;
    if (n < 8) {
        if (n)
            buf[0] = '\0';
        return buf;
    }
    buf[o++] = '\'';
    for (size_t i = 0; s[i]; i++) {
        unsigned char ch = (unsigned char)s[i];
        if (o + 8 >= n || i >= 80) {
            memcpy(buf + o, "...", 3);
            o += 3;
            break;
        }
        if (ch < 0x20 || ch == 0x7f) {
            o += (size_t)snprintf(buf + o, n - o, "\\x%02x", ch);
        } else {
            buf[o++] = (char)ch;
        }
    }
    buf[o++] = '\'';
    buf[o] = '\0';
    return buf;
}

static bool is_alnum_ascii(int ch)
{
    return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9');
}

static bool has_ctl(const char *s)
{
    for (; *s; s++)
        if ((unsigned char)*s < 0x20 || *s == 0x7f)
            return true;
    return false;
}

struct strvec {
    char **v;
    size_t n, cap;
};

static int strvec_push(struct strvec *sv, const char *s, size_t len)
{
    if (sv->n == sv->cap) {
        size_t ncap = sv->cap ? sv->cap * 2 : 4;
        char **nv = realloc(sv->v, ncap * sizeof *nv);
        if (!nv)
            return -1;
        sv->v = nv;
        sv->cap = ncap;
    }
    char *d = xstrndup(s, len);
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

static void strvec_free(struct strvec *sv)
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

static void routes_free(nc_route *v, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        free(v[i].label);
        free(v[i].topic);
    }
    free(v);
}

/* Typed access to a key's storage inside the struct. */
#define AT(c, off, T) ((T *)(void *)((char *)(c) + (off)))
#define CAT(c, off, T) ((const T *)(const void *)((const char *)(c) + (off)))
typedef char **strlist_t; /* so CAT(..., strlist_t) is char **const * */

static const struct nc_ckey *key_find(const char *path)
{
    for (size_t i = 0; i < NC_NCKEYS; i++)
        if (strcmp(nc_ckeys[i].path, path) == 0)
            return &nc_ckeys[i];
    return NULL;
}

/* True if `path` names a section (a proper dotted prefix of some key). */
static bool is_section(const char *path)
{
    size_t n = strlen(path);
    for (size_t i = 0; i < NC_NCKEYS; i++)
        if (strncmp(nc_ckeys[i].path, path, n) == 0 && nc_ckeys[i].path[n] == '.')
            return true;
    return false;
}

/* A map key (pass-through or thresholds) under which `path` is one entry:
 * "kafka.consumer.fetch.max.bytes" -> kafka.consumer, *sub = "fetch.max.bytes". */
static const struct nc_ckey *key_find_map(const char *path, const char **sub)
{
    for (size_t i = 0; i < NC_NCKEYS; i++) {
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

static size_t edit_distance(const char *a, const char *b)
{
    size_t la = strlen(a), lb = strlen(b);
    size_t row[129] = {0};
    if (la > 128 || lb > 128)
        return SIZE_MAX;
    for (size_t j = 0; j <= lb; j++)
        row[j] = j;
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
    return row[lb];
}

/* The closest key or section name to a mistyped path, or NULL. */
static const char *suggest(const char *path, char *buf, size_t n)
{
    size_t best = 3; /* at most 2 edits */
    buf[0] = '\0';
    for (size_t i = 0; i < NC_NCKEYS; i++) {
        const char *kp = nc_ckeys[i].path;
        /* the key itself and each of its section prefixes */
        for (size_t e = 0;; e++) {
            if (kp[e] == '.' || kp[e] == '\0') {
                char cand[128];
                if (e < sizeof cand) {
                    memcpy(cand, kp, e);
                    cand[e] = '\0';
                    size_t d = edit_distance(path, cand);
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

static void unknown_key_msg(const char *path, char *msg, size_t n)
{
    char qb[128], sb[128];
    const char *s = suggest(path, sb, sizeof sb);
    if (s)
        snprintf(msg, n, "unknown key %s (did you mean '%s'?)", q(path, qb, sizeof qb), s);
    else
        snprintf(msg, n, "unknown key %s", q(path, qb, sizeof qb));
}

/* ------------------------------------------------------------------------ */
/* Value parsers and checks, shared by the file, --set and the defaults.     */

static int parse_bool(const char *s, bool *out, char *msg, size_t n)
{
    static const char *const t[] = {"true", "True", "TRUE"}, *const f[] = {"false", "False",
                                                                           "FALSE"};
    for (size_t i = 0; i < 3; i++) {
        if (strcmp(s, t[i]) == 0) {
            *out = true;
            return 0;
        }
        if (strcmp(s, f[i]) == 0) {
            *out = false;
            return 0;
        }
    }
    char qb[128];
    snprintf(msg, n, "expected true or false, got %s", q(s, qb, sizeof qb));
    return -1;
}

static int parse_ll(const char *s, long long min, long long max, long long *out, char *msg,
                    size_t n)
{
    char qb[128];
    const char *p = s;
    if (*p == '+' || *p == '-')
        p++;
    bool digits = *p != '\0';
    for (; *p; p++)
        if (*p < '0' || *p > '9')
            digits = false;
    if (!digits) {
        snprintf(msg, n, "expected an integer from %lld to %lld, got %s", min, max,
                 q(s, qb, sizeof qb));
        return -1;
    }
    errno = 0;
    long long v = strtoll(s, NULL, 10);
    if (errno == ERANGE || v < min || v > max) {
        snprintf(msg, n, "%s is out of range %lld..%lld", q(s, qb, sizeof qb), min, max);
        return -1;
    }
    *out = v;
    return 0;
}

static int parse_prob(const char *s, double *out, char *msg, size_t n)
{
    char qb[128];
    char *end = NULL;
    errno = 0;
    double v = *s ? strtod(s, &end) : 0.0;
    if (!*s || !end || *end || errno == ERANGE || !isfinite(v) || !(v > 0.0 && v < 1.0)) {
        snprintf(msg, n, "expected a probability greater than 0 and less than 1, got %s",
                 q(s, qb, sizeof qb));
        return -1;
    }
    *out = v;
    return 0;
}

static bool kafka_name_ok(const char *s, size_t maxlen)
{
    size_t len = strlen(s);
    if (len == 0 || len > maxlen)
        return false;
    for (; *s; s++)
        if (!is_alnum_ascii((unsigned char)*s) && *s != '.' && *s != '_' && *s != '-')
            return false;
    return true;
}

int nc_config_split_hostport(const char *s, char *host, size_t hostlen, int *port, char *err,
                             size_t errlen)
{
    char qb[128];
    const char *h, *he, *ps;
    if (s[0] == '[') {
        h = s + 1;
        he = strchr(h, ']');
        if (!he || he[1] != ':')
            goto bad;
        for (const char *p = h; p < he; p++)
            if (!is_alnum_ascii((unsigned char)*p) && *p != ':' && *p != '.' && *p != '%')
                goto bad;
        ps = he + 2;
    } else {
        h = s;
        he = strrchr(s, ':');
        if (!he)
            goto bad;
        for (const char *p = h; p < he; p++)
            if (!is_alnum_ascii((unsigned char)*p) && *p != '.' && *p != '-' && *p != '_')
                goto bad;
        ps = he + 1;
    }
    if (he == h || strlen(ps) == 0 || strlen(ps) > 5)
        goto bad;
    for (const char *p = ps; *p; p++)
        if (*p < '0' || *p > '9')
            goto bad;
    long v = strtol(ps, NULL, 10);
    if (v > 65535)
        goto bad;
    if (host) {
        size_t hl = (size_t)(he - h);
        if (hl >= hostlen) {
            snprintf(err, errlen, "host name too long in %s", q(s, qb, sizeof qb));
            return NC_CONFIG_EINVAL;
        }
        memcpy(host, h, hl);
        host[hl] = '\0';
    }
    if (port)
        *port = (int)v;
    return 0;
bad:
    snprintf(err, errlen, "expected host:port or [ipv6]:port with port 0-65535, got %s",
             q(s, qb, sizeof qb));
    return NC_CONFIG_EINVAL;
}

/*
 * glibc's regcomp() expands bounded repetitions: nested {m,n} multiply, and
 * "^(((a{1,100}){1,100}){1,100})" takes gigabytes and half a minute. A topic
 * pattern needs nothing of the kind, so the product of all repetition upper
 * bounds is limited.
 */
#define NC_REGEX_MAX_REPEAT 1000

static int regex_too_complex(const char *s)
{
    double product = 1;
    int prev_quant = 0;
    for (const char *p = s; *p; p++) {
        if (*p == '\\' && p[1]) {
            p++;
            prev_quant = 0;
            continue;
        }
        int quant = *p == '*' || *p == '+' || *p == '?';
        if (*p == '{') {
            const char *q = p + 1;
            unsigned long lo = 0, hi;
            while (*q >= '0' && *q <= '9')
                lo = lo * 10 + (unsigned long)(*q++ - '0') % 1000000;
            hi = lo;
            if (*q == ',') {
                q++;
                if (*q == '}')
                    hi = 255; /* {m,}: bounded like glibc's RE_DUP_MAX */
                else
                    for (hi = 0; *q >= '0' && *q <= '9'; q++)
                        hi = hi * 10 + (unsigned long)(*q - '0') % 1000000;
            }
            if (*q == '}' && q > p + 1) {
                if (hi > 1)
                    product *= (double)hi;
                quant = 1;
                p = q;
            }
        }
        /* Stacked quantifiers ("a**", "a{2}+") make glibc's matcher exponential. */
        if (quant && prev_quant)
            return 1;
        prev_quant = quant;
    }
    return product > NC_REGEX_MAX_REPEAT;
}

static int check_regex(const char *s, char *msg, size_t n)
{
    char qb[128], rb[128];
    regex_t re;
    if (regex_too_complex(s)) {
        snprintf(msg, n, "regular expression %s is too complex (stacked quantifiers, or bounded "
                         "repetitions multiplying to more than %d)",
                 q(s, qb, sizeof qb), NC_REGEX_MAX_REPEAT);
        return -1;
    }
    int rc = regcomp(&re, s, REG_EXTENDED | REG_NOSUB);
    if (rc != 0) {
        regerror(rc, &re, rb, sizeof rb);
        snprintf(msg, n, "invalid regular expression %s: %s", q(s, qb, sizeof qb), rb);
        return -1;
    }
    regfree(&re);
    return 0;
}

static int check_string(enum nc_ccheck ck, const char *s, char *msg, size_t n)
{
    char qb[128];
    if (has_ctl(s)) {
        snprintf(msg, n, "%s contains a control character", q(s, qb, sizeof qb));
        return -1;
    }
    switch (ck) {
    case CK_ANY:
        return 0;
    case CK_NONEMPTY:
        break;
    case CK_KAFKA_NAME0:
        if (!*s)
            return 0;
        /* fall through */
    case CK_KAFKA_NAME:
        if (*s && !kafka_name_ok(s, 249)) {
            snprintf(msg, n, "%s is not a valid Kafka name (1-249 of A-Z a-z 0-9 . _ -)",
                     q(s, qb, sizeof qb));
            return -1;
        }
        break;
    case CK_INPUT_TOPIC:
        if (s[0] == '^')
            return check_regex(s, msg, n);
        /* fall through */
    case CK_TOPIC:
        if (*s && (!kafka_name_ok(s, 249) || !strcmp(s, ".") || !strcmp(s, ".."))) {
            snprintf(
                msg, n, "%s is not a valid topic name (1-249 of A-Z a-z 0-9 . _ -, not . or ..)%s",
                q(s, qb, sizeof qb), ck == CK_INPUT_TOPIC ? "; a pattern must start with ^" : "");
            return -1;
        }
        break;
    case CK_TOPIC_PREFIX:
        if (*s && !kafka_name_ok(s, 248)) {
            snprintf(msg, n, "%s is not a valid topic name prefix (A-Z a-z 0-9 . _ -)",
                     q(s, qb, sizeof qb));
            return -1;
        }
        break;
    case CK_HOSTPORT:
        if (*s)
            return nc_config_split_hostport(s, NULL, 0, NULL, msg, n) < 0 ? -1 : 0;
        break;
    }
    if (!*s) {
        snprintf(msg, n, "must not be empty");
        return -1;
    }
    return 0;
}

static int check_label(const char *s, char *msg, size_t n)
{
    char qb[128];
    if (!*s) {
        snprintf(msg, n, "a label must not be empty");
        return -1;
    }
    if (strlen(s) >= LABEL_MAX || has_ctl(s)) {
        snprintf(msg, n, "%s is not a valid label (at most %d bytes, no control characters)",
                 q(s, qb, sizeof qb), LABEL_MAX - 1);
        return -1;
    }
    return 0;
}

static int check_field_name(const char *s, char *msg, size_t n)
{
    char qb[128];
    if (!*s || strlen(s) > 256 || has_ctl(s)) {
        snprintf(msg, n, "%s is not a valid article field name", q(s, qb, sizeof qb));
        return -1;
    }
    return 0;
}

/* A librdkafka property name for kafka.consumer / kafka.producer. */
static int check_prop(const char *key, char *msg, size_t n)
{
    char qb[128];
    if (!*key) {
        snprintf(msg, n, "a property name must not be empty");
        return -1;
    }
    for (const char *p = key; *p; p++) {
        if (!is_alnum_ascii((unsigned char)*p) && *p != '.' && *p != '_' && *p != '-') {
            snprintf(msg, n, "%s is not a librdkafka property name", q(key, qb, sizeof qb));
            return -1;
        }
    }
    for (size_t i = 0; i < sizeof nc_refused_props / sizeof nc_refused_props[0]; i++) {
        if (strcasecmp(key, nc_refused_props[i].prop) == 0) {
            snprintf(msg, n, "property '%s' may not be set: %s", nc_refused_props[i].prop,
                     nc_refused_props[i].why);
            return -1;
        }
    }
    return 0;
}

bool nc_config_is_secret(const char *key)
{
    static const char *const pats[] = {"password", "secret", "key.pem", "ssl.key",
                                       "sasl.oauthbearer.config"};
    for (size_t i = 0; i < sizeof pats / sizeof pats[0]; i++) {
        size_t pl = strlen(pats[i]);
        for (const char *p = key; *p; p++)
            if (strncasecmp(p, pats[i], pl) == 0)
                return true;
    }
    return false;
}

/* ------------------------------------------------------------------------ */
/* Setting one key. Every setter builds the new value first and replaces the
 * old one only on success, so a failed --set leaves the config unchanged.   */

static int oom(char *msg, size_t n)
{
    snprintf(msg, n, "out of memory");
    return NC_CONFIG_ENOMEM;
}

static int set_scalar(nc_config *c, const struct nc_ckey *k, const char *text, char *msg, size_t n)
{
    char qb[128];
    switch (k->type) {
    case CT_STR: {
        if (check_string(k->check, text, msg, n) < 0)
            return NC_CONFIG_EINVAL;
        char *d = xstrdup(text);
        if (!d)
            return oom(msg, n);
        char **slot = AT(c, k->off, char *);
        free(*slot);
        *slot = d;
        return 0;
    }
    case CT_BOOL: {
        bool b;
        if (parse_bool(text, &b, msg, n) < 0)
            return NC_CONFIG_EINVAL;
        *AT(c, k->off, bool) = b;
        return 0;
    }
    case CT_INT:
    case CT_SIZE: {
        long long v;
        if (parse_ll(text, k->min, k->max, &v, msg, n) < 0)
            return NC_CONFIG_EINVAL;
        if (k->type == CT_INT)
            *AT(c, k->off, int) = (int)v;
        else
            *AT(c, k->off, size_t) = (size_t)v;
        return 0;
    }
    case CT_ENUM: {
        char names[256] = "";
        for (int i = 0; k->names[i]; i++) {
            if (strcmp(text, k->names[i]) == 0) {
                /* enums with non-negative values: int storage is compatible */
                *AT(c, k->off, int) = i;
                return 0;
            }
            size_t l = strlen(names);
            snprintf(names + l, sizeof names - l, "%s%s", i ? ", " : "", k->names[i]);
        }
        snprintf(msg, n, "expected one of %s, got %s", names, q(text, qb, sizeof qb));
        return NC_CONFIG_EINVAL;
    }
    default:
        snprintf(msg, n, "not a scalar key");
        return NC_CONFIG_EINVAL;
    }
}

static int replace_strlist(nc_config *c, const struct nc_ckey *k, struct strvec *sv, char *msg,
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

static void replace_fields(nc_config *c, const struct nc_ckey *k, enum nc_config_fields mode,
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

/* Sets (or, value NULL, removes) one entry of a pass-through map. */
static int kv_put(nc_config *c, const struct nc_ckey *k, const char *key, const char *value,
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
        char *d = xstrdup(value);
        if (!d)
            return oom(msg, n);
        free((*slot)[i].value);
        (*slot)[i].value = d;
        return 0;
    }
    if (!value)
        return 0;
    nc_kv *nv = realloc(*slot, (*cnt + 1) * sizeof *nv);
    if (!nv)
        return oom(msg, n);
    *slot = nv;
    char *dk = xstrdup(key), *dv = xstrdup(value);
    if (!dk || !dv) {
        free(dk);
        free(dv);
        return oom(msg, n);
    }
    nv[*cnt].key = dk;
    nv[*cnt].value = dv;
    (*cnt)++;
    return 0;
}

/* Sets (p > 0) or removes (p == 0) one label's threshold. */
static int thresh_put(nc_config *c, const struct nc_ckey *k, const char *label, double p, char *msg,
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
        return oom(msg, n);
    *slot = nv;
    if (!(nv[*cnt].label = xstrdup(label)))
        return oom(msg, n);
    nv[*cnt].probability = p;
    (*cnt)++;
    return 0;
}

static void key_free(nc_config *c, const struct nc_ckey *k)
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
        routes_free(*AT(c, k->off, nc_route *), *AT(c, k->off_count, size_t));
        break;
    default:
        return;
    }
    if (k->type != CT_STR) {
        *AT(c, k->type == CT_FIELDS ? k->off_items : k->off, void *) = NULL;
        *AT(c, k->off_count, size_t) = 0;
    }
}

/* Splits a --set list on commas into sv; "" is the empty list. */
static int split_csv(const char *text, struct strvec *sv)
{
    if (!*text)
        return 0;
    for (const char *p = text;;) {
        const char *e = strchr(p, ',');
        size_t l = e ? (size_t)(e - p) : strlen(p);
        if (strvec_push(sv, p, l) < 0)
            return -1;
        if (!e)
            return 0;
        p = e + 1;
    }
}

/* One "label:topic[:min_probability]" item of --set outputs.routes. */
static int parse_route_item(const char *item, nc_route *r, char *msg, size_t n)
{
    char qb[128];
    const char *c1 = strchr(item, ':');
    const char *c2 = c1 ? strchr(c1 + 1, ':') : NULL;
    memset(r, 0, sizeof *r);
    if (!c1) {
        snprintf(msg, n, "expected label:topic[:min_probability], got %s", q(item, qb, sizeof qb));
        return NC_CONFIG_EINVAL;
    }
    r->label = xstrndup(item, (size_t)(c1 - item));
    r->topic = c2 ? xstrndup(c1 + 1, (size_t)(c2 - c1 - 1)) : xstrdup(c1 + 1);
    if (!r->label || !r->topic)
        return oom(msg, n);
    if (check_label(r->label, msg, n) < 0 || check_string(CK_TOPIC, r->topic, msg, n) < 0)
        return NC_CONFIG_EINVAL;
    if (c2 && parse_prob(c2 + 1, &r->min_probability, msg, n) < 0)
        return NC_CONFIG_EINVAL;
    return 0;
}

/*
 * Sets key k from --set text (also used for the defaults). `sub` is the entry
 * name for kafka.consumer.NAME / model.thresholds.LABEL, else NULL.
 */
static int key_set_text(nc_config *c, const struct nc_ckey *k, const char *sub, const char *text,
                        char *msg, size_t n)
{
    struct strvec sv = {0};
    int rc = 0;

    switch (k->type) {
    case CT_STR:
    case CT_BOOL:
    case CT_INT:
    case CT_SIZE:
    case CT_ENUM:
        return set_scalar(c, k, text, msg, n);

    case CT_STRLIST:
        if (split_csv(text, &sv) < 0) {
            rc = oom(msg, n);
            goto done;
        }
        for (size_t i = 0; i < sv.n; i++) {
            if (check_string(k->check, sv.v[i], msg, n) < 0) {
                rc = NC_CONFIG_EINVAL;
                goto done;
            }
        }
        rc = replace_strlist(c, k, &sv, msg, n);
        goto done;

    case CT_FIELDS: {
        enum nc_config_fields mode = NC_CONFIG_FIELDS_LIST;
        if (strcmp(text, "all") == 0) {
            mode = NC_CONFIG_FIELDS_ALL;
        } else if (strcmp(text, "none") == 0) {
            mode = NC_CONFIG_FIELDS_NONE;
        } else {
            if (split_csv(text, &sv) < 0) {
                rc = oom(msg, n);
                goto done;
            }
            for (size_t i = 0; i < sv.n; i++) {
                if (check_field_name(sv.v[i], msg, n) < 0) {
                    rc = NC_CONFIG_EINVAL;
                    goto done;
                }
            }
        }
        replace_fields(c, k, mode, &sv);
        goto done;
    }

    case CT_KV:
        if (!sub) {
            if (*text) {
                snprintf(msg, n, "set one property as %s.NAME=VALUE (empty VALUE removes it)",
                         k->path);
                return NC_CONFIG_EINVAL;
            }
            key_free(c, k);
            return 0;
        }
        if (check_prop(sub, msg, n) < 0)
            return NC_CONFIG_EINVAL;
        return kv_put(c, k, sub, *text ? text : NULL, msg, n);

    case CT_THRESH: {
        double p = 0.0;
        if (sub) {
            if (check_label(sub, msg, n) < 0 || (*text && parse_prob(text, &p, msg, n) < 0))
                return NC_CONFIG_EINVAL;
            return thresh_put(c, k, sub, p, msg, n);
        }
        /* label:p,label:p - replaces all */
        nc_config tmp;
        memset(&tmp, 0, sizeof tmp);
        if (split_csv(text, &sv) < 0) {
            rc = oom(msg, n);
            goto done;
        }
        for (size_t i = 0; i < sv.n && rc == 0; i++) {
            char *colon = strrchr(sv.v[i], ':');
            char qb[128];
            if (!colon) {
                snprintf(msg, n, "expected label:probability, got %s", q(sv.v[i], qb, sizeof qb));
                rc = NC_CONFIG_EINVAL;
                break;
            }
            *colon = '\0';
            if (check_label(sv.v[i], msg, n) < 0 || parse_prob(colon + 1, &p, msg, n) < 0)
                rc = NC_CONFIG_EINVAL;
            else
                rc = thresh_put(&tmp, k, sv.v[i], p, msg, n);
        }
        if (rc == 0) {
            key_free(c, k);
            *AT(c, k->off, nc_threshold *) = *AT(&tmp, k->off, nc_threshold *);
            *AT(c, k->off_count, size_t) = *AT(&tmp, k->off_count, size_t);
        } else {
            key_free(&tmp, k);
        }
        goto done;
    }

    case CT_ROUTES: {
        nc_route *rv = NULL;
        size_t rn = 0;
        if (split_csv(text, &sv) < 0) {
            rc = oom(msg, n);
            goto done;
        }
        if (sv.n && !(rv = calloc(sv.n, sizeof *rv))) {
            rc = oom(msg, n);
            goto done;
        }
        for (; rn < sv.n; rn++) {
            if ((rc = parse_route_item(sv.v[rn], &rv[rn], msg, n)) < 0) {
                rn++;
                break;
            }
        }
        if (rc < 0) {
            routes_free(rv, rn);
            goto done;
        }
        key_free(c, k);
        *AT(c, k->off, nc_route *) = rv;
        *AT(c, k->off_count, size_t) = rn;
        goto done;
    }
    }
done:
    strvec_free(&sv);
    return rc;
}

/* ------------------------------------------------------------------------ */
/* Origins: where each key's value came from ("file:line:col" or "--set").   */

struct nc_config_priv {
    struct origin {
        char *path;
        char *where;
    } * v;
    size_t n, cap;
};

static int origin_set(nc_config *c, const char *path, const char *where)
{
    struct nc_config_priv *p = c->priv;
    for (size_t i = 0; i < p->n; i++) {
        if (strcmp(p->v[i].path, path) == 0) {
            char *w = xstrdup(where);
            if (!w)
                return -1;
            /* where is copied before the old string is freed, so
             * where == p->v[i].where is safe too. */
            free(p->v[i].where); // NOLINT(clang-analyzer-unix.Malloc)
            p->v[i].where = w;
            return 0;
        }
    }
    if (p->n == p->cap) {
        size_t ncap = p->cap ? p->cap * 2 : 32;
        struct origin *nv = realloc(p->v, ncap * sizeof *nv);
        if (!nv)
            return -1;
        p->v = nv;
        p->cap = ncap;
    }
    char *dp = xstrdup(path), *dw = xstrdup(where);
    if (!dp || !dw) {
        free(dp);
        free(dw);
        return -1;
    }
    p->v[p->n].path = dp;
    p->v[p->n].where = dw;
    p->n++;
    return 0;
}

/* Forgets the origins of path and everything under it (path.x, path[i]). */
static void origin_clear(nc_config *c, const char *path)
{
    struct nc_config_priv *p = c->priv;
    size_t pl = strlen(path), o = 0;
    for (size_t i = 0; i < p->n; i++) {
        const char *ip = p->v[i].path;
        if (strncmp(ip, path, pl) == 0 && (ip[pl] == '\0' || ip[pl] == '.' || ip[pl] == '[')) {
            free(p->v[i].path);
            free(p->v[i].where);
        } else {
            p->v[o++] = p->v[i];
        }
    }
    p->n = o;
}

const char *nc_config_origin(const nc_config *c, const char *key)
{
    if (!c || !c->priv || !key)
        return NULL;
    const struct nc_config_priv *p = c->priv;
    char buf[512];
    snprintf(buf, sizeof buf, "%s", key);
    /* exact, then the enclosing list or map: kafka.input_topics[2] ->
     * kafka.input_topics, kafka.consumer.fetch.max.bytes -> kafka.consumer */
    for (;;) {
        for (size_t i = 0; i < p->n; i++)
            if (strcmp(p->v[i].path, buf) == 0)
                return p->v[i].where;
        char *cut = strrchr(buf, '[');
        char *dot = strrchr(buf, '.');
        if (dot && (!cut || dot > cut))
            cut = dot;
        if (!cut)
            return NULL;
        *cut = '\0';
        if (strchr(buf, '.') == NULL)
            return NULL; /* never attribute a key to a whole section */
    }
}

/* ------------------------------------------------------------------------ */
/* Life cycle                                                                */

static void update_derived(nc_config *c)
{
    c->kafka.embedded = strcmp(c->kafka.brokers, "embedded") == 0;
}

void nc_config_free(nc_config *c)
{
    if (!c)
        return;
    for (size_t i = 0; i < NC_NCKEYS; i++)
        key_free(c, &nc_ckeys[i]);
    if (c->priv) {
        for (size_t i = 0; i < c->priv->n; i++) {
            free(c->priv->v[i].path);
            free(c->priv->v[i].where);
        }
        free(c->priv->v);
        free(c->priv);
    }
    free(c->source);
    free(c);
}

nc_config *nc_config_new_defaults(void)
{
    char msg[MSG_MAX];
    nc_config *c = calloc(1, sizeof *c);
    if (!c)
        return NULL;
    if (!(c->priv = calloc(1, sizeof *c->priv)) || !(c->source = xstrdup("")))
        goto fail;
    for (size_t i = 0; i < NC_NCKEYS; i++)
        if (key_set_text(c, &nc_ckeys[i], NULL, nc_ckeys[i].def, msg, sizeof msg) < 0)
            goto fail; /* only out of memory: the table's defaults are tested */
    update_derived(c);
    return c;
fail:
    nc_config_free(c);
    return NULL;
}

/* ------------------------------------------------------------------------ */
/* YAML events -> node tree                                                  */

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

static void ynode_free(struct ynode *y)
{
    if (!y)
        return;
    for (size_t i = 0; i < y->n; i++)
        ynode_free(y->kids[i]);
    free(y->kids);
    free(y->text);
    free(y);
}

static const char *kind_name(const struct ynode *y)
{
    return y->kind == YN_MAP ? "a mapping" : y->kind == YN_SEQ ? "a list" : "a scalar";
}

static bool is_null(const struct ynode *y)
{
    return y->kind == YN_SCALAR && y->plain &&
           (!y->text[0] || !strcmp(y->text, "~") || !strcmp(y->text, "null") ||
            !strcmp(y->text, "Null") || !strcmp(y->text, "NULL"));
}

struct lctx {
    nc_config *c;
    struct sink *s;
    const char *file;
};

static NC_FMT(3, 4) void at(struct lctx *x, const yaml_mark_t *m, const char *fmt, ...)
{
    char msg[MSG_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    sink_add(x->s, "%s:%zu:%zu: %s", x->file, m->line + 1, m->column + 1, msg);
}

static int record(struct lctx *x, const char *path, const yaml_mark_t *m)
{
    char where[1024];
    snprintf(where, sizeof where, "%s:%zu:%zu", x->file, m->line + 1, m->column + 1);
    if (origin_set(x->c, path, where) < 0) {
        x->s->oom = true;
        return -1;
    }
    return 0;
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

static int build_tree(struct lctx *x, const unsigned char *buf, size_t len, struct ynode **out)
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
            if (p.error == YAML_MEMORY_ERROR) {
                x->s->oom = true;
                rc = NC_CONFIG_ENOMEM;
            } else {
                yaml_mark_t m = p.error == YAML_READER_ERROR
                                    ? mark_of_offset(buf, len, p.problem_offset)
                                    : p.problem_mark;
                if (p.context)
                    at(x, &m, "YAML syntax error: %s %s (line %zu column %zu)",
                       p.problem ? p.problem : "error", p.context, p.context_mark.line + 1,
                       p.context_mark.column + 1);
                else
                    at(x, &m, "YAML syntax error: %s", p.problem ? p.problem : "error");
                rc = NC_CONFIG_ESYNTAX;
            }
            goto fail;
        }
        struct ynode *y = NULL;
        switch (ev.type) {
        case YAML_STREAM_END_EVENT:
            done = true;
            break;
        case YAML_DOCUMENT_START_EVENT:
            if (++docs > 1) {
                at(x, &ev.start_mark, "only one YAML document is allowed");
                rc = NC_CONFIG_EINVAL;
                yaml_event_delete(&ev);
                goto fail;
            }
            break;
        case YAML_ALIAS_EVENT:
        case YAML_SCALAR_EVENT:
        case YAML_SEQUENCE_START_EVENT:
        case YAML_MAPPING_START_EVENT:
            if (!(y = calloc(1, sizeof *y)))
                goto nomem;
            y->mark = ev.start_mark;
            if (ev.type == YAML_SEQUENCE_START_EVENT || ev.type == YAML_MAPPING_START_EVENT) {
                y->kind = ev.type == YAML_MAPPING_START_EVENT ? YN_MAP : YN_SEQ;
            } else {
                y->kind = YN_SCALAR;
                if (ev.type == YAML_ALIAS_EVENT) {
                    at(x, &ev.start_mark, "YAML aliases are not supported");
                    y->bad = true;
                    y->text = xstrdup("");
                } else {
                    y->text = xstrndup((const char *)ev.data.scalar.value, ev.data.scalar.length);
                    y->plain = ev.data.scalar.style == YAML_PLAIN_SCALAR_STYLE;
                    if (y->text && strlen(y->text) != ev.data.scalar.length) {
                        at(x, &ev.start_mark, "a value contains a NUL character");
                        y->bad = true;
                    }
                }
                if (!y->text) {
                    free(y);
                    goto nomem;
                }
            }
            if (yattach(&root, cur, y) < 0) {
                ynode_free(y);
                goto nomem;
            }
            if (y->kind != YN_SCALAR) {
                if (++depth > MAX_DEPTH) {
                    at(x, &ev.start_mark, "nesting deeper than %d levels", MAX_DEPTH);
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
    ynode_free(root);
    return rc;
}

/* ------------------------------------------------------------------------ */
/* ${VAR} and ${VAR:-default} in scalar values                               */

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
                while (is_alnum_ascii((unsigned char)s[j]) || s[j] == '_')
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
                    at(x, &y->mark, "%s: environment variable %s is not set (use ${%s:-default})",
                       path, name, name);
                    free(out);
                    return NULL;
                }
                i = j + 1;
            } else {
                const char *close = strchr(s + j + 2, '}');
                if (!close)
                    goto malformed;
                if (!v || !*v) {
                    if (!(val_owned = xstrndup(s + j + 2, (size_t)(close - (s + j + 2)))))
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
    at(x, &y->mark, "%s: malformed variable reference: expected ${NAME} or ${NAME:-default}", path);
    free(out);
    return NULL;
nomem:
    free(out);
    x->s->oom = true;
    return NULL;
}

/* The substituted text of a scalar value; null scalars are "". */
static char *value_text(struct lctx *x, const struct ynode *y, const char *path)
{
    if (is_null(y))
        return xstrdup("");
    return subst(x, y, path);
}

/* ------------------------------------------------------------------------ */
/* Tree -> config                                                            */

/* Reports and returns true if key i of map y repeats an earlier key. */
static bool dup_key(struct lctx *x, const struct ynode *y, size_t i, const char *path)
{
    const struct ynode *k = y->kids[i];
    for (size_t j = 0; j < i; j += 2) {
        const struct ynode *e = y->kids[j];
        if (e->kind == YN_SCALAR && strcmp(e->text, k->text) == 0) {
            char qb[128];
            at(x, &k->mark, "duplicate key %s (first at line %zu column %zu)",
               q(path, qb, sizeof qb), e->mark.line + 1, e->mark.column + 1);
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
        at(x, &k->mark, "%s: keys must be scalars, got %s", prefix[0] ? prefix : "(top level)",
           kind_name(k));
        return false;
    }
    int n = snprintf(path, pathlen, "%s%s%s", prefix, prefix[0] ? "." : "", k->text);
    if (n < 0 || (size_t)n >= pathlen) {
        at(x, &k->mark, "key too long");
        return false;
    }
    return !dup_key(x, y, i, path);
}

/*
 * The items of sequence v (the value of k) into sv: each must be a scalar
 * that passes check_string(k->check) or, with field_names, check_field_name;
 * a bad item is reported at its own position. Item positions are recorded
 * for later cross-checks unless field_names. True when every item was good.
 */
static bool seq_items(struct lctx *x, const struct nc_ckey *k, const struct ynode *v,
                      bool field_names, struct strvec *sv)
{
    char msg[MSG_MAX], ipath[600];
    bool ok = true;
    for (size_t i = 0; i < v->n; i++) {
        const struct ynode *it = v->kids[i];
        snprintf(ipath, sizeof ipath, "%s[%zu]", k->path, i);
        if (it->bad) {
            ok = false;
            continue;
        }
        if (it->kind != YN_SCALAR) {
            at(x, &it->mark, "%s: expected %s, got %s", ipath,
               field_names ? "a field name" : "a scalar", kind_name(it));
            ok = false;
            continue;
        }
        char *t = value_text(x, it, ipath);
        if (!t) {
            ok = false;
            continue;
        }
        int bad = field_names ? check_field_name(t, msg, sizeof msg)
                              : check_string(k->check, t, msg, sizeof msg);
        if (bad < 0) {
            at(x, &it->mark, "%s: %s", ipath, msg);
            ok = false;
        } else if (strvec_push(sv, t, strlen(t)) < 0 ||
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
    char msg[MSG_MAX];
    struct strvec sv = {0};
    if (v->kind != YN_SEQ) {
        at(x, &v->mark, "%s: expected a list, got %s", k->path, kind_name(v));
        return;
    }
    if (seq_items(x, k, v, false, &sv) && replace_strlist(x->c, k, &sv, msg, sizeof msg) < 0)
        at(x, &v->mark, "%s: %s", k->path, msg);
    strvec_free(&sv);
}

static void apply_fields(struct lctx *x, const struct nc_ckey *k, const struct ynode *v)
{
    char msg[MSG_MAX];
    struct strvec sv = {0};
    if (v->kind == YN_SCALAR) {
        char *t = value_text(x, v, k->path);
        if (!t)
            return;
        if (strcmp(t, "all") == 0)
            replace_fields(x->c, k, NC_CONFIG_FIELDS_ALL, &sv);
        else if (strcmp(t, "none") == 0)
            replace_fields(x->c, k, NC_CONFIG_FIELDS_NONE, &sv);
        else
            at(x, &v->mark, "%s: expected all, none or a list of field names, got %s", k->path,
               q(t, msg, sizeof msg));
        free(t);
        return;
    }
    if (v->kind != YN_SEQ) {
        at(x, &v->mark, "%s: expected all, none or a list of field names, got %s", k->path,
           kind_name(v));
        return;
    }
    if (seq_items(x, k, v, true, &sv))
        replace_fields(x->c, k, NC_CONFIG_FIELDS_LIST, &sv);
    strvec_free(&sv);
}

/* kafka.consumer, kafka.producer and model.thresholds: a map of entries. */
static void apply_map(struct lctx *x, const struct nc_ckey *k, const struct ynode *v)
{
    char msg[MSG_MAX], epath[600];
    if (is_null(v))
        return; /* "consumer:" with nothing under it */
    if (v->kind != YN_MAP) {
        at(x, &v->mark, "%s: expected a mapping, got %s", k->path, kind_name(v));
        return;
    }
    for (size_t i = 0; i + 1 < v->n; i += 2) {
        const struct ynode *kn = v->kids[i], *vn = v->kids[i + 1];
        if (!map_key(x, v, i, k->path, epath, sizeof epath) || vn->bad)
            continue;
        if (k->type == CT_KV ? check_prop(kn->text, msg, sizeof msg) < 0
                             : check_label(kn->text, msg, sizeof msg) < 0) {
            at(x, &kn->mark, "%s: %s", k->path, msg);
            continue;
        }
        if (vn->kind != YN_SCALAR) {
            at(x, &vn->mark, "%s: expected a scalar value, got %s", epath, kind_name(vn));
            continue;
        }
        char *t = value_text(x, vn, epath);
        if (!t)
            continue;
        int rc;
        if (k->type == CT_KV) {
            if (!*t) {
                at(x, &vn->mark, "%s: missing value", epath);
                free(t);
                continue;
            }
            rc = kv_put(x->c, k, kn->text, t, msg, sizeof msg);
        } else {
            double p;
            rc = parse_prob(t, &p, msg, sizeof msg) < 0
                     ? NC_CONFIG_EINVAL
                     : thresh_put(x->c, k, kn->text, p, msg, sizeof msg);
        }
        free(t);
        if (rc < 0)
            at(x, &vn->mark, "%s: %s", epath, msg);
        else
            record(x, epath, &vn->mark);
    }
}

static void apply_routes(struct lctx *x, const struct nc_ckey *k, const struct ynode *v)
{
    char msg[MSG_MAX], rpath[600], fpath[700];
    nc_route *rv = NULL;
    size_t rn = 0;
    bool ok = true;
    if (is_null(v))
        goto replace;
    if (v->kind != YN_SEQ) {
        at(x, &v->mark, "%s: expected a list of {label, topic, min_probability}, got %s", k->path,
           kind_name(v));
        return;
    }
    if (v->n && !(rv = calloc(v->n, sizeof *rv))) {
        x->s->oom = true;
        return;
    }
    for (size_t i = 0; i < v->n; i++) {
        const struct ynode *it = v->kids[i];
        nc_route *r = &rv[rn++];
        snprintf(rpath, sizeof rpath, "%s[%zu]", k->path, i);
        if (it->bad) {
            ok = false;
            continue;
        }
        if (it->kind != YN_MAP) {
            at(x, &it->mark, "%s: expected a mapping {label, topic, min_probability}, got %s",
               rpath, kind_name(it));
            ok = false;
            continue;
        }
        bool item_ok = true;
        for (size_t j = 0; j + 1 < it->n; j += 2) {
            const struct ynode *kn = it->kids[j], *vn = it->kids[j + 1];
            if (!map_key(x, it, j, rpath, fpath, sizeof fpath) || vn->bad) {
                item_ok = false;
                continue;
            }
            bool is_label = !strcmp(kn->text, "label"), is_topic = !strcmp(kn->text, "topic");
            bool is_min = !strcmp(kn->text, "min_probability");
            if (!is_label && !is_topic && !is_min) {
                char qb[128];
                at(x, &kn->mark, "unknown key %s (a route has label, topic, min_probability)",
                   q(fpath, qb, sizeof qb));
                item_ok = false;
                continue;
            }
            if (vn->kind != YN_SCALAR) {
                at(x, &vn->mark, "%s: expected a scalar, got %s", fpath, kind_name(vn));
                item_ok = false;
                continue;
            }
            char *t = value_text(x, vn, fpath);
            if (!t) {
                item_ok = false;
                continue;
            }
            int bad = is_label   ? check_label(t, msg, sizeof msg)
                      : is_topic ? check_string(CK_TOPIC, t, msg, sizeof msg)
                                 : parse_prob(t, &r->min_probability, msg, sizeof msg);
            if (bad < 0) {
                at(x, &vn->mark, "%s: %s", fpath, msg);
                item_ok = false;
                free(t);
            } else if (is_label) {
                r->label = t;
            } else if (is_topic) {
                r->topic = t;
            } else {
                free(t);
            }
        }
        if (item_ok && (!r->label || !r->topic)) {
            at(x, &it->mark, "%s: missing '%s'", rpath, !r->label ? "label" : "topic");
            item_ok = false;
        }
        if (item_ok)
            record(x, rpath, &it->mark);
        ok = ok && item_ok;
    }
    if (!ok) {
        routes_free(rv, rn);
        return;
    }
replace:
    key_free(x->c, k);
    *AT(x->c, k->off, nc_route *) = rv;
    *AT(x->c, k->off_count, size_t) = rn;
}

static void apply_key(struct lctx *x, const struct nc_ckey *k, const struct ynode *v)
{
    char msg[MSG_MAX];
    if (v->bad)
        return;
    switch (k->type) {
    case CT_STRLIST:
        apply_strlist(x, k, v);
        break;
    case CT_FIELDS:
        apply_fields(x, k, v);
        break;
    case CT_KV:
    case CT_THRESH:
        apply_map(x, k, v);
        break;
    case CT_ROUTES:
        apply_routes(x, k, v);
        break;
    default: {
        if (v->kind != YN_SCALAR) {
            at(x, &v->mark, "%s: expected a scalar, got %s", k->path, kind_name(v));
            return;
        }
        char *t = value_text(x, v, k->path);
        if (!t)
            return;
        if (!*t && k->type != CT_STR)
            snprintf(msg, sizeof msg, "missing value");
        int rc =
            *t || k->type == CT_STR ? set_scalar(x->c, k, t, msg, sizeof msg) : NC_CONFIG_EINVAL;
        free(t);
        if (rc < 0) {
            at(x, &v->mark, "%s: %s", k->path, msg);
            return;
        }
        break;
    }
    }
    record(x, k->path, &v->mark);
}

static void walk_map(struct lctx *x, const struct ynode *y, const char *prefix)
{
    char path[512], msg[MSG_MAX];
    for (size_t i = 0; i + 1 < y->n; i += 2) {
        const struct ynode *kn = y->kids[i], *vn = y->kids[i + 1];
        if (!map_key(x, y, i, prefix, path, sizeof path))
            continue;
        const struct nc_ckey *k = key_find(path);
        if (k) {
            apply_key(x, k, vn);
        } else if (is_section(path)) {
            if (vn->kind == YN_MAP)
                walk_map(x, vn, path);
            else if (!is_null(vn) && !vn->bad)
                at(x, &vn->mark, "%s: expected a mapping (a section), got %s", path, kind_name(vn));
        } else {
            unknown_key_msg(path, msg, sizeof msg);
            at(x, &kn->mark, "%s", msg);
        }
    }
}

/* ------------------------------------------------------------------------ */
/* Cross-field validation                                                    */

struct vctx {
    const nc_config *c;
    struct sink *s;
};

/* Prefixes a validation error with where `key` came from. */
static NC_FMT(3, 4) void verr(struct vctx *v, const char *key, const char *fmt, ...)
{
    char msg[MSG_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    const char *where = nc_config_origin(v->c, key);
    sink_add(v->s, "%s: %s", where ? where : "defaults", msg);
}

struct outtopic {
    const char *topic;
    char key[64];
};

/* Of two keys in one error, the one the user wrote (file or --set). */
static const char *blame(const nc_config *c, const char *a, const char *b)
{
    return nc_config_origin(c, a) || !nc_config_origin(c, b) ? a : b;
}

static void validate_into(const nc_config *c, struct sink *s)
{
    struct vctx v = {c, s};
    const struct nc_config_outputs *o = &c->outputs;
    char qa[128], qb[128], ikey[64];
    size_t nout = 0;
    struct outtopic *outs = calloc(2 + o->n_routes, sizeof *outs);
    if (!outs) {
        s->oom = true;
        return;
    }
    if (o->aggregate.enabled) {
        outs[nout].topic = o->aggregate.topic;
        snprintf(outs[nout++].key, sizeof outs[0].key, "outputs.aggregate.topic");
    }
    if (o->deadletter.enabled) {
        outs[nout].topic = o->deadletter.topic;
        snprintf(outs[nout++].key, sizeof outs[0].key, "outputs.deadletter.topic");
    }
    for (size_t i = 0; i < o->n_routes; i++) {
        outs[nout].topic = o->routes[i].topic;
        snprintf(outs[nout++].key, sizeof outs[0].key, "outputs.routes[%zu]", i);
    }

    /* Dead letters mixed into labeled output would break its consumers. */
    if (o->deadletter.enabled) {
        for (size_t i = 0; i < nout; i++) {
            if (strcmp(outs[i].key, "outputs.deadletter.topic") != 0 &&
                strcmp(outs[i].topic, o->deadletter.topic) == 0)
                verr(&v, blame(c, outs[i].key, "outputs.deadletter.topic"),
                     "%s %s is also outputs.deadletter.topic", outs[i].key,
                     q(outs[i].topic, qa, sizeof qa));
        }
    }
    for (size_t i = 0; i < o->n_routes; i++)
        for (size_t j = 0; j < i; j++)
            if (!strcmp(o->routes[i].label, o->routes[j].label) &&
                !strcmp(o->routes[i].topic, o->routes[j].topic)) {
                snprintf(ikey, sizeof ikey, "outputs.routes[%zu]", i);
                verr(&v, ikey, "%s repeats outputs.routes[%zu] (label %s, topic %s)", ikey, j,
                     q(o->routes[i].label, qa, sizeof qa), q(o->routes[i].topic, qb, sizeof qb));
            }

    /* The transactional.id is group + instance_id: it must be stable and unique. */
    if (c->kafka.delivery == NC_DELIVERY_EXACTLY_ONCE && c->kafka.instance_id[0] == '\0')
        verr(&v, blame(c, "kafka.delivery", "kafka.instance_id"),
             "kafka.delivery exactly-once needs kafka.instance_id: a stable id, unique in the "
             "group (it becomes the transactional.id)");

    if (c->limits.max_inflight_per_partition > c->limits.max_inflight_total)
        verr(&v, blame(c, "limits.max_inflight_per_partition", "limits.max_inflight_total"),
             "limits.max_inflight_per_partition (%zu) exceeds limits.max_inflight_total (%zu)",
             c->limits.max_inflight_per_partition, c->limits.max_inflight_total);

    /*
     * Consuming our own output would classify it again, forever. A pattern is
     * tried on every output topic and on the label prefix followed by sample
     * suffixes and the labels we know of; POSIX regexec, like librdkafka.
     */
    static const char *const samples[] = {"x", "a",      "z",          "0",   "_",  "-",
                                          "X", "sports", "world-news", "a.b", "A_1"};
    const char *prefix = o->labels.enabled ? o->labels.topic_prefix : NULL;
    size_t pl = prefix ? strlen(prefix) : 0;
    for (size_t i = 0; i < c->kafka.n_input_topics; i++) {
        const char *in = c->kafka.input_topics[i];
        snprintf(ikey, sizeof ikey, "kafka.input_topics[%zu]", i);
        if (in[0] != '^') {
            for (size_t j = 0; j < nout; j++) {
                if (strcmp(in, outs[j].topic) == 0) {
                    verr(&v, blame(c, ikey, outs[j].key),
                         "%s %s is also our output topic (%s): newsclfd would consume its own "
                         "output",
                         ikey, q(in, qa, sizeof qa), outs[j].key);
                    goto next;
                }
            }
            if (prefix && strncmp(in, prefix, pl) == 0 && in[pl]) {
                verr(&v, blame(c, ikey, "outputs.labels.topic_prefix"),
                     "%s %s is a per-label output topic (outputs.labels.topic_prefix %s): "
                     "newsclfd would consume its own output",
                     ikey, q(in, qa, sizeof qa), q(prefix, qb, sizeof qb));
            }
            goto next;
        }
        regex_t re;
        if (regex_too_complex(in) || regcomp(&re, in, REG_EXTENDED | REG_NOSUB) != 0)
            goto next; /* reported when the value was set */
        for (size_t j = 0; j < nout; j++) {
            if (regexec(&re, outs[j].topic, 0, NULL, 0) == 0) {
                verr(&v, blame(c, ikey, outs[j].key),
                     "%s pattern %s matches our output topic %s (%s): newsclfd would consume "
                     "its own output",
                     ikey, q(in, qa, sizeof qa), q(outs[j].topic, qb, sizeof qb), outs[j].key);
                goto nextre;
            }
        }
        if (prefix) {
            size_t ns = sizeof samples / sizeof samples[0];
            size_t total = ns + c->model.n_thresholds + o->n_routes;
            for (size_t j = 0; j < total; j++) {
                const char *suf = j < ns ? samples[j]
                                  : j < ns + c->model.n_thresholds
                                      ? c->model.thresholds[j - ns].label
                                      : o->routes[j - ns - c->model.n_thresholds].label;
                char name[600];
                snprintf(name, sizeof name, "%s%s", prefix, suf);
                if (regexec(&re, name, 0, NULL, 0) == 0) {
                    verr(&v, blame(c, ikey, "outputs.labels.topic_prefix"),
                         "%s pattern %s matches per-label output topics such as %s "
                         "(outputs.labels.topic_prefix): newsclfd would consume its own output",
                         ikey, q(in, qa, sizeof qa), q(name, qb, sizeof qb));
                    break;
                }
            }
        }
    nextre:
        regfree(&re);
    next:;
    }
    free(outs);
}

int nc_config_validate(const nc_config *c, char *err, size_t errlen)
{
    struct sink s = {0};
    validate_into(c, &s);
    int rc = s.nlines ? NC_CONFIG_EINVAL : s.oom ? NC_CONFIG_ENOMEM : 0;
    if (rc)
        sink_finish(&s, err, errlen);
    else if (err && errlen)
        err[0] = '\0';
    sink_free(&s);
    return rc;
}

/* ------------------------------------------------------------------------ */
/* Load                                                                      */

static int read_file(const char *path, unsigned char **buf, size_t *len, struct sink *s)
{
    FILE *fp = fopen(path, "rb");
    size_t cap = 8192, n = 0;
    unsigned char *b = NULL;
    if (!fp) {
        sink_add(s, "%s: cannot open: %s", path, strerror(errno));
        return NC_CONFIG_EIO;
    }
    if (!(b = malloc(cap)))
        goto nomem;
    for (;;) {
        if (n == cap) {
            if (cap >= MAX_FILE_BYTES) {
                sink_add(s, "%s: larger than %d bytes; not a config file?", path, MAX_FILE_BYTES);
                free(b);
                fclose(fp);
                return NC_CONFIG_EINVAL;
            }
            unsigned char *nb = realloc(b, cap * 2);
            if (!nb)
                goto nomem;
            b = nb;
            cap *= 2;
        }
        size_t r = fread(b + n, 1, cap - n, fp);
        n += r;
        if (r == 0)
            break;
    }
    if (ferror(fp)) {
        sink_add(s, "%s: read error: %s", path, strerror(errno));
        free(b);
        fclose(fp);
        return NC_CONFIG_EIO;
    }
    fclose(fp);
    *buf = b;
    *len = n;
    return 0;
nomem:
    free(b);
    fclose(fp);
    s->oom = true;
    return NC_CONFIG_ENOMEM;
}

int nc_config_load(const char *path, nc_config **out, char *err, size_t errlen)
{
    struct sink s = {0};
    unsigned char *buf = NULL;
    size_t len = 0;
    struct ynode *root = NULL;
    nc_config *c = NULL;
    int rc;

    *out = NULL;
    if ((rc = read_file(path, &buf, &len, &s)) < 0)
        goto fail;
    if (!(c = nc_config_new_defaults())) {
        rc = NC_CONFIG_ENOMEM;
        goto fail;
    }
    free(c->source);
    if (!(c->source = xstrdup(path))) {
        rc = NC_CONFIG_ENOMEM;
        goto fail;
    }
    struct lctx x = {c, &s, path};
    if ((rc = build_tree(&x, buf, len, &root)) < 0)
        goto fail;
    if (root && root->kind == YN_MAP) {
        walk_map(&x, root, "");
    } else if (root && !is_null(root) && !root->bad) {
        at(&x, &root->mark, "expected a mapping of sections (kafka, outputs, ...), got %s",
           kind_name(root));
    }
    update_derived(c);
    /* Cross-field checks only make sense on values that passed their own. */
    if (s.nlines == 0)
        validate_into(c, &s);
    if (s.nlines || s.oom) {
        rc = s.nlines ? NC_CONFIG_EINVAL : NC_CONFIG_ENOMEM;
        goto fail;
    }
    ynode_free(root);
    free(buf);
    sink_free(&s);
    if (err && errlen)
        err[0] = '\0';
    *out = c;
    return 0;
fail:
    sink_finish(&s, err, errlen);
    if (err && errlen && !err[0])
        snprintf(err, errlen, "%s: out of memory", path);
    sink_free(&s);
    ynode_free(root);
    free(buf);
    nc_config_free(c);
    return rc;
}

/* ------------------------------------------------------------------------ */
/* --set                                                                     */

int nc_config_set(nc_config *c, const char *assignment, char *err, size_t errlen)
{
    char msg[MSG_MAX], qb[128];
    const char *eq = strchr(assignment, '=');
    const char *sub = NULL;
    if (!eq || eq == assignment) {
        /* "kafka.consumer.sasl.password:x" must not end up in a log */
        snprintf(err, errlen, "--set %s: expected KEY=VALUE, e.g. kafka.group=newsclf",
                 nc_config_is_secret(assignment) ? "(not shown: may hold a secret)"
                                                 : q(assignment, qb, sizeof qb));
        return NC_CONFIG_EINVAL;
    }
    char *key = xstrndup(assignment, (size_t)(eq - assignment));
    if (!key) {
        snprintf(err, errlen, "out of memory");
        return NC_CONFIG_ENOMEM;
    }
    const char *value = eq + 1;
    int rc;
    const struct nc_ckey *k = key_find(key);
    if (!k)
        k = key_find_map(key, &sub);
    if (!k) {
        if (is_section(key)) {
            const struct nc_ckey *first = NULL;
            for (size_t i = 0; i < NC_NCKEYS && !first; i++)
                if (!strncmp(nc_ckeys[i].path, key, strlen(key)))
                    first = &nc_ckeys[i];
            snprintf(msg, sizeof msg, "'%s' is a section: set one of its keys, e.g. %s", key,
                     first ? first->path : key);
        } else {
            unknown_key_msg(key, msg, sizeof msg);
        }
        snprintf(err, errlen, "--set: %s", msg);
        rc = NC_CONFIG_EINVAL;
        goto done;
    }
    if ((rc = key_set_text(c, k, sub, value, msg, sizeof msg)) < 0) {
        snprintf(err, errlen, "--set %s: %s", q(key, qb, sizeof qb), msg);
        goto done;
    }
    /* A whole list or map replaced: its items' old origins are gone. */
    if (!sub)
        origin_clear(c, key);
    if (origin_set(c, key, "--set") < 0) {
        snprintf(err, errlen, "out of memory");
        rc = NC_CONFIG_ENOMEM;
        goto done;
    }
    update_derived(c);
    if (err && errlen)
        err[0] = '\0';
done:
    free(key);
    return rc;
}

/* ------------------------------------------------------------------------ */
/* Dump                                                                      */

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

static void dump_value(const nc_config *c, const struct nc_ckey *k, FILE *fp, int lvl)
{
    switch (k->type) {
    case CT_STR:
        fputc(' ', fp);
        put_str(fp, nc_config_is_secret(k->path) ? "********" : *CAT(c, k->off, char *));
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
    case CT_FIELDS: {
        char *const *v = *CAT(c, k->type == CT_FIELDS ? k->off_items : k->off, strlist_t);
        size_t n = *CAT(c, k->off_count, size_t);
        if (k->type == CT_FIELDS && *CAT(c, k->off, int) != NC_CONFIG_FIELDS_LIST) {
            fprintf(fp, " %s\n", *CAT(c, k->off, int) == NC_CONFIG_FIELDS_ALL ? "all" : "none");
            break;
        }
        if (n == 0) {
            fputs(" []\n", fp);
            break;
        }
        fputc('\n', fp);
        for (size_t i = 0; i < n; i++) {
            indent(fp, lvl + 1);
            fputs("- ", fp);
            put_str(fp, v[i]);
            fputc('\n', fp);
        }
        break;
    }
    case CT_KV: {
        const nc_kv *v = *CAT(c, k->off, nc_kv *);
        size_t n = *CAT(c, k->off_count, size_t);
        fputs(n ? "\n" : " {}\n", fp);
        for (size_t i = 0; i < n; i++) {
            indent(fp, lvl + 1);
            put_str(fp, v[i].key);
            fputs(": ", fp);
            put_str(fp, nc_config_is_secret(v[i].key) ? "********" : v[i].value);
            fputc('\n', fp);
        }
        break;
    }
    case CT_THRESH: {
        const nc_threshold *v = *CAT(c, k->off, nc_threshold *);
        size_t n = *CAT(c, k->off_count, size_t);
        fputs(n ? "\n" : " {}\n", fp);
        for (size_t i = 0; i < n; i++) {
            indent(fp, lvl + 1);
            put_str(fp, v[i].label);
            fputs(": ", fp);
            put_double(fp, v[i].probability);
            fputc('\n', fp);
        }
        break;
    }
    case CT_ROUTES: {
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
        break;
    }
    }
}

void nc_config_dump(const nc_config *c, FILE *fp)
{
    const char *prev = "";
    fprintf(fp, "# newsclfd effective configuration%s%s\n", c->source[0] ? " from " : "",
            c->source);
    for (size_t i = 0; i < NC_NCKEYS; i++) {
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

/* ------------------------------------------------------------------------ */
/* Diff                                                                      */

static bool str_eq(const char *a, const char *b)
{
    return strcmp(a ? a : "", b ? b : "") == 0;
}

static bool key_equal(const nc_config *a, const nc_config *b, const struct nc_ckey *k)
{
    size_t na = k->off_count ? *CAT(a, k->off_count, size_t) : 0;
    size_t nb = k->off_count ? *CAT(b, k->off_count, size_t) : 0;
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
    case CT_STRLIST: {
        size_t off = k->type == CT_FIELDS ? k->off_items : k->off;
        char *const *va = *CAT(a, off, strlist_t), *const *vb = *CAT(b, off, strlist_t);
        if (na != nb)
            return false;
        for (size_t i = 0; i < na; i++)
            if (!str_eq(va[i], vb[i]))
                return false;
        return true;
    }
    case CT_KV: { /* a map: order does not matter */
        const nc_kv *va = *CAT(a, k->off, nc_kv *), *vb = *CAT(b, k->off, nc_kv *);
        if (na != nb)
            return false;
        for (size_t i = 0; i < na; i++) {
            size_t j = 0;
            while (j < nb && strcmp(va[i].key, vb[j].key) != 0)
                j++;
            if (j == nb || !str_eq(va[i].value, vb[j].value))
                return false;
        }
        return true;
    }
    case CT_THRESH: {
        const nc_threshold *va = *CAT(a, k->off, nc_threshold *);
        const nc_threshold *vb = *CAT(b, k->off, nc_threshold *);
        if (na != nb)
            return false;
        for (size_t i = 0; i < na; i++) {
            size_t j = 0;
            while (j < nb && strcmp(va[i].label, vb[j].label) != 0)
                j++;
            if (j == nb || va[i].probability != vb[j].probability)
                return false;
        }
        return true;
    }
    case CT_ROUTES: {
        const nc_route *va = *CAT(a, k->off, nc_route *), *vb = *CAT(b, k->off, nc_route *);
        if (na != nb)
            return false;
        for (size_t i = 0; i < na; i++)
            if (!str_eq(va[i].label, vb[i].label) || !str_eq(va[i].topic, vb[i].topic) ||
                va[i].min_probability != vb[i].min_probability)
                return false;
        return true;
    }
    }
    return false;
}

size_t nc_config_diff(const nc_config *a, const nc_config *b, bool nonreloadable_only, char *buf,
                      size_t buflen)
{
    size_t count = 0, used = 0;
    if (buf && buflen)
        buf[0] = '\0';
    for (size_t i = 0; i < NC_NCKEYS; i++) {
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

/* ------------------------------------------------------------------------ */
/* Small accessors                                                           */

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

const char *nc_config_key(size_t i, const char **def, const char **help)
{
    if (i >= NC_NCKEYS)
        return NULL;
    if (def)
        *def = nc_ckeys[i].def;
    if (help)
        *help = nc_ckeys[i].help;
    return nc_ckeys[i].path;
}
