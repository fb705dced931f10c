/* svmfile.c - see svmfile.h. */
#include "core/svmfile.h"

#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct cursor {
    const char *p, *end;
    size_t line;
};

/* Next line as [*s, *e) without the newline; 0 at end of data. */
static int next_line(struct cursor *c, const char **s, const char **e)
{
    if (c->p >= c->end)
        return 0;
    const char *nl = memchr(c->p, '\n', (size_t)(c->end - c->p));
    *s = c->p;
    *e = nl ? nl : c->end;
    c->p = nl ? nl + 1 : c->end;
    c->line++;
    return 1;
}

static int parse_int(const char **p, const char *e, long *out)
{
    char *end;
    errno = 0;
    long v = strtol(*p, &end, 10);
    if (end == *p || end > e || errno != 0)
        return -1;
    *out = v;
    *p = end;
    return 0;
}

static int parse_double(const char **p, const char *e, double *out)
{
    char *end;
    errno = 0;
    double v = strtod(*p, &end);
    if (end == *p || end > e || errno == ERANGE || !isfinite(v))
        return -1;
    *out = v;
    *p = end;
    return 0;
}

/*
 * Checks a decimal number's syntax without converting it (support vector
 * values are most of a model file; strtod on each doubled the load time).
 * Accepted: [-+]digits[.digits][(e|E)[-+]digits], or with a leading '.'.
 * A value is refused if its decimal exponent exceeds 300, well below
 * DBL_MAX, so what passes is finite; "nan" and "inf" never pass.
 */
static int check_number(const char **p, const char *e)
{
    const char *s = *p;
    long digits = 0, int_digits = 0, exp = 0;
    if (s < e && (*s == '-' || *s == '+'))
        s++;
    while (s < e && *s == '0')
        s++, digits++;
    while (s < e && *s >= '0' && *s <= '9')
        s++, digits++, int_digits++;
    if (s < e && *s == '.')
        for (s++; s < e && *s >= '0' && *s <= '9'; s++)
            digits++;
    if (digits == 0)
        return -1;
    if (s < e && (*s == 'e' || *s == 'E')) {
        s++;
        int neg = 0;
        if (s < e && (*s == '-' || *s == '+'))
            neg = *s++ == '-';
        const char *d = s;
        while (s < e && *s >= '0' && *s <= '9' && s - d < 6)
            exp = exp * 10 + (*s++ - '0');
        if (s == d || (s < e && *s >= '0' && *s <= '9'))
            return -1;
        if (neg)
            exp = -exp;
    }
    if (int_digits + exp > 300)
        return -1;
    *p = s;
    return 0;
}

static const char *skip_spaces(const char *p, const char *e)
{
    while (p < e && *p == ' ')
        p++;
    return p;
}

#define FAIL(...)                                                                                  \
    do {                                                                                           \
        char msg_[160];                                                                            \
        snprintf(msg_, sizeof(msg_), __VA_ARGS__);                                                 \
        snprintf(err, errlen, "line %zu: %s", c.line, msg_);                                       \
        return -1;                                                                                 \
    } while (0)

int nc_svmfile_check(const char *data, size_t len, uint32_t dim, struct nc_svmfile_info *info,
                     char *err, size_t errlen)
{
    struct cursor c = {data, data + len, 0};
    const char *s, *e;
    int seen_type = 0, seen_kernel = 0, seen_nr_class = 0, seen_total = 0, seen_rho = 0;
    int seen_label = 0, seen_nr_sv = 0;
    memset(info, 0, sizeof(*info));
    if (memchr(data, '\0', len)) {
        snprintf(err, errlen, "file contains a NUL byte");
        return -1;
    }

    for (;;) {
        if (!next_line(&c, &s, &e))
            FAIL("unexpected end of file before \"SV\"");
        const char *sp = memchr(s, ' ', (size_t)(e - s));
        size_t klen = sp ? (size_t)(sp - s) : (size_t)(e - s);
        const char *v = sp ? sp + 1 : e;
#define KEY(k) (klen == strlen(k) && memcmp(s, k, klen) == 0)
        if (KEY("SV")) {
            if (v != e)
                FAIL("unexpected text after \"SV\"");
            break;
        } else if (KEY("svm_type")) {
            if (seen_type++ || (size_t)(e - v) != 5 || memcmp(v, "c_svc", 5) != 0)
                FAIL("svm_type must be c_svc, once");
        } else if (KEY("kernel_type")) {
            if (seen_kernel++ || (size_t)(e - v) != 6 || memcmp(v, "linear", 6) != 0)
                FAIL("kernel_type must be linear, once");
        } else if (KEY("nr_class")) {
            long n;
            if (seen_nr_class++ || parse_int(&v, e, &n) != 0 || n != 2 || skip_spaces(v, e) != e)
                FAIL("nr_class must be 2, once");
        } else if (KEY("total_sv")) {
            long n;
            if (seen_total++ || parse_int(&v, e, &n) != 0 || n < 1 || n > NC_SVMFILE_MAX_SV ||
                skip_spaces(v, e) != e)
                FAIL("total_sv must be between 1 and %d, once", NC_SVMFILE_MAX_SV);
            info->total_sv = (int)n;
        } else if ((KEY("rho") || KEY("label") || KEY("nr_sv")) && !seen_nr_class) {
            /* libsvm sizes these arrays by nr_class: it must come first. */
            FAIL("\"%.*s\" before nr_class", (int)klen, s);
        } else if (KEY("rho")) {
            if (seen_rho++ || parse_double(&v, e, &info->rho) != 0 || skip_spaces(v, e) != e)
                FAIL("rho must be one finite number, once");
        } else if (KEY("label")) {
            long a, b;
            if (seen_label++ || parse_int(&v, e, &a) != 0 || parse_int(&v, e, &b) != 0 ||
                skip_spaces(v, e) != e || !((a == 1 && b == -1) || (a == -1 && b == 1)))
                FAIL("label must be \"1 -1\" or \"-1 1\", once");
            info->label[0] = (int)a;
            info->label[1] = (int)b;
        } else if (KEY("nr_sv")) {
            long a, b;
            if (seen_nr_sv++ || parse_int(&v, e, &a) != 0 || parse_int(&v, e, &b) != 0 ||
                skip_spaces(v, e) != e || a < 0 || b < 0 || a > NC_SVMFILE_MAX_SV ||
                b > NC_SVMFILE_MAX_SV)
                FAIL("nr_sv must be two non-negative counts, once");
            info->nr_sv[0] = (int)a;
            info->nr_sv[1] = (int)b;
        } else {
            FAIL("unexpected header line \"%.*s\"", (int)(klen > 40 ? 40 : klen), s);
        }
#undef KEY
    }
    if (!seen_type || !seen_kernel || !seen_nr_class || !seen_total || !seen_rho || !seen_label ||
        !seen_nr_sv)
        FAIL("header incomplete (need svm_type, kernel_type, nr_class, total_sv, rho, label, nr_sv)");
    if ((long)info->nr_sv[0] + info->nr_sv[1] != info->total_sv)
        FAIL("nr_sv %d + %d disagrees with total_sv %d", info->nr_sv[0], info->nr_sv[1],
             info->total_sv);

    for (int i = 0; i < info->total_sv; i++) {
        if (!next_line(&c, &s, &e))
            FAIL("file ends after %d of %d support vectors", i, info->total_sv);
        const char *p = s;
        double coef;
        if (parse_double(&p, e, &coef) != 0)
            FAIL("support vector %d: bad coefficient", i + 1);
        long last = 0;
        for (;;) {
            p = skip_spaces(p, e);
            if (p == e)
                break;
            long idx;
            if (*p < '0' || *p > '9' || parse_int(&p, e, &idx) != 0 || p >= e || *p != ':')
                FAIL("support vector %d: bad index", i + 1);
            p++;
            if (idx < 1 || idx > (long)dim)
                FAIL("support vector %d: index %ld outside 1..%u", i + 1, idx, dim);
            if (idx <= last)
                FAIL("support vector %d: indices not increasing", i + 1);
            if (check_number(&p, e) != 0)
                FAIL("support vector %d: bad value", i + 1);
            if (p < e && *p != ' ')
                FAIL("support vector %d: bad value", i + 1);
            last = idx;
            info->nonzeros++;
        }
    }
    while (next_line(&c, &s, &e))
        if (skip_spaces(s, e) != e)
            FAIL("more support vectors than total_sv %d", info->total_sv);
    return 0;
}
