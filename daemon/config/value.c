/*
 * value.c - text -> typed values, and the checks on values: booleans,
 * integers in a range, probabilities, Kafka names and topics, ^regex topic
 * patterns (and how complex they may be), host:port, labels, article field
 * names, librdkafka property names. Shared by the file, --set and the
 * defaults; each writes a one-line reason into msg on failure.
 */
#include <errno.h>
#include <math.h>
#include <regex.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "config/internal.h"

bool cfg_is_alnum(int ch)
{
    return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9');
}

bool cfg_has_ctl(const char *s)
{
    for (; *s; s++)
        if ((unsigned char)*s < 0x20 || *s == 0x7f)
            return true;
    return false;
}

int cfg_parse_bool(const char *s, bool *out, char *msg, size_t n)
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
    snprintf(msg, n, "expected true or false, got %s", cfg_quote(s, qb, sizeof qb));
    return -1;
}

int cfg_parse_ll(const char *s, long long min, long long max, long long *out, char *msg, size_t n)
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
                 cfg_quote(s, qb, sizeof qb));
        return -1;
    }
    errno = 0;
    long long v = strtoll(s, NULL, 10);
    if (errno == ERANGE || v < min || v > max) {
        snprintf(msg, n, "%s is out of range %lld..%lld", cfg_quote(s, qb, sizeof qb), min, max);
        return -1;
    }
    *out = v;
    return 0;
}

int cfg_parse_prob(const char *s, double *out, char *msg, size_t n)
{
    char qb[128];
    char *end = NULL;
    errno = 0;
    double v = *s ? strtod(s, &end) : 0.0;
    if (!*s || !end || *end || errno == ERANGE || !isfinite(v) || !(v > 0.0 && v < 1.0)) {
        snprintf(msg, n, "expected a probability greater than 0 and less than 1, got %s",
                 cfg_quote(s, qb, sizeof qb));
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
        if (!cfg_is_alnum((unsigned char)*s) && *s != '.' && *s != '_' && *s != '-')
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
            if (!cfg_is_alnum((unsigned char)*p) && *p != ':' && *p != '.' && *p != '%')
                goto bad;
        ps = he + 2;
    } else {
        h = s;
        he = strrchr(s, ':');
        if (!he)
            goto bad;
        for (const char *p = h; p < he; p++)
            if (!cfg_is_alnum((unsigned char)*p) && *p != '.' && *p != '-' && *p != '_')
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
            snprintf(err, errlen, "host name too long in %s", cfg_quote(s, qb, sizeof qb));
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
             cfg_quote(s, qb, sizeof qb));
    return NC_CONFIG_EINVAL;
}

/*
 * glibc's regcomp() expands bounded repetitions: nested {m,n} multiply, and
 * "^(((a{1,100}){1,100}){1,100})" takes gigabytes and half a minute. A topic
 * pattern needs nothing of the kind, so the product of all repetition upper
 * bounds is limited.
 */
#define NC_REGEX_MAX_REPEAT 1000

bool cfg_regex_too_complex(const char *s)
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
            return true;
        prev_quant = quant;
    }
    return product > NC_REGEX_MAX_REPEAT;
}

static int check_regex(const char *s, char *msg, size_t n)
{
    char qb[128], rb[128];
    regex_t re;
    if (cfg_regex_too_complex(s)) {
        snprintf(msg, n, "regular expression %s is too complex (stacked quantifiers, or bounded "
                         "repetitions multiplying to more than %d)",
                 cfg_quote(s, qb, sizeof qb), NC_REGEX_MAX_REPEAT);
        return -1;
    }
    int rc = regcomp(&re, s, REG_EXTENDED | REG_NOSUB);
    if (rc != 0) {
        regerror(rc, &re, rb, sizeof rb);
        snprintf(msg, n, "invalid regular expression %s: %s", cfg_quote(s, qb, sizeof qb), rb);
        return -1;
    }
    regfree(&re);
    return 0;
}

#define TOPIC_RULE "topic name (1-249 of A-Z a-z 0-9 . _ -, not . or ..)"

/* msg = "'<s>' is not a valid <what>"; returns -1. */
static int not_valid(const char *s, const char *what, char *msg, size_t n)
{
    char qb[128];
    snprintf(msg, n, "%s is not a valid %s", cfg_quote(s, qb, sizeof qb), what);
    return -1;
}

int cfg_check_string(enum nc_ccheck ck, const char *s, char *msg, size_t n)
{
    char qb[128];
    if (cfg_has_ctl(s)) {
        snprintf(msg, n, "%s contains a control character", cfg_quote(s, qb, sizeof qb));
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
        if (*s && !kafka_name_ok(s, 249))
            return not_valid(s, "Kafka name (1-249 of A-Z a-z 0-9 . _ -)", msg, n);
        break;
    case CK_INPUT_TOPIC:
        if (s[0] == '^')
            return check_regex(s, msg, n);
        /* fall through */
    case CK_TOPIC:
        if (*s && (!kafka_name_ok(s, 249) || !strcmp(s, ".") || !strcmp(s, "..")))
            return not_valid(s,
                             ck == CK_INPUT_TOPIC ? TOPIC_RULE "; a pattern must start with ^"
                                                  : TOPIC_RULE,
                             msg, n);
        break;
    case CK_TOPIC_PREFIX:
        if (*s && !kafka_name_ok(s, 248))
            return not_valid(s, "topic name prefix (A-Z a-z 0-9 . _ -)", msg, n);
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

int cfg_check_label(const char *s, char *msg, size_t n)
{
    char qb[128];
    if (*s && strlen(s) < CFG_LABEL_MAX && !cfg_has_ctl(s))
        return 0;
    if (!*s)
        snprintf(msg, n, "a label must not be empty");
    else
        snprintf(msg, n, "%s is not a valid label (at most %d bytes, no control characters)",
                 cfg_quote(s, qb, sizeof qb), CFG_LABEL_MAX - 1);
    return -1;
}

int cfg_check_field_name(const char *s, char *msg, size_t n)
{
    char qb[128];
    if (!*s || strlen(s) > 256 || cfg_has_ctl(s)) {
        snprintf(msg, n, "%s is not a valid article field name", cfg_quote(s, qb, sizeof qb));
        return -1;
    }
    return 0;
}

int cfg_check_prop(const char *key, char *msg, size_t n)
{
    char qb[128];
    if (!kafka_name_ok(key, SIZE_MAX)) {
        if (*key)
            snprintf(msg, n, "%s is not a librdkafka property name", cfg_quote(key, qb, sizeof qb));
        else
            snprintf(msg, n, "a property name must not be empty");
        return -1;
    }
    for (size_t i = 0; i < nc_nrefused; i++) {
        if (strcasecmp(key, nc_refused_props[i].prop) == 0) {
            snprintf(msg, n, "property '%s' may not be set: %s", nc_refused_props[i].prop,
                     nc_refused_props[i].why);
            return -1;
        }
    }
    return 0;
}
