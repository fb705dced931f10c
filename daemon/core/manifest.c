/* manifest.c - see manifest.h. */
#include "core/manifest.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* True when s is 1..max bytes of [a-z0-9._-], and with upper case also [A-Z]. */
static int valid_chars(const char *s, size_t max, int upper)
{
    size_t n = strlen(s);
    if (n == 0 || n > max)
        return 0;
    for (const char *p = s; *p; p++)
        if (!((*p >= 'a' && *p <= 'z') || (upper && *p >= 'A' && *p <= 'Z') ||
              (*p >= '0' && *p <= '9') || *p == '.' || *p == '_' || *p == '-'))
            return 0;
    return 1;
}

int nc_valid_label(const char *s)
{
    return valid_chars(s, 63, 0);
}

int nc_valid_name(const char *s)
{
    return valid_chars(s, 127, 1);
}

static int read_u32(const char **p, uint32_t *out)
{
    const char *s = *p;
    if (*s < '0' || *s > '9')
        return -1;
    uint64_t v = 0;
    while (*s >= '0' && *s <= '9') {
        v = v * 10 + (uint64_t)(*s - '0');
        if (v > UINT32_MAX)
            return -1;
        s++;
    }
    *out = (uint32_t)v;
    *p = s;
    return 0;
}

int nc_df_parse(const char *data, size_t len, uint32_t dim, uint32_t *df, uint32_t *ndocs,
                char *err, size_t errlen)
{
    const char *p = data, *end = data + len;
    size_t magic = strlen(NC_DF_MAGIC);
    uint32_t fdim, nd;
    if (len < magic || memcmp(p, NC_DF_MAGIC, magic) != 0 || p[magic] != ' ') {
        snprintf(err, errlen, "%s: line 1: bad header (expected \"%s <dim> <documents>\")",
                 NC_DF_FILE, NC_DF_MAGIC);
        return -1;
    }
    p += magic + 1;
    if (read_u32(&p, &fdim) != 0 || *p++ != ' ' || read_u32(&p, &nd) != 0 || *p++ != '\n') {
        snprintf(err, errlen, "%s: line 1: bad header", NC_DF_FILE);
        return -1;
    }
    if (fdim != dim) {
        snprintf(err, errlen, "%s: dimension %u disagrees with the manifest's %u", NC_DF_FILE, fdim,
                 dim);
        return -1;
    }
    size_t line = 1;
    int64_t last = -1;
    while (p < end) {
        line++;
        uint32_t idx, d;
        if (read_u32(&p, &idx) != 0 || *p++ != '\t' || read_u32(&p, &d) != 0 || *p++ != '\n') {
            snprintf(err, errlen, "%s: line %zu: expected \"<index>\\t<df>\"", NC_DF_FILE, line);
            return -1;
        }
        if (idx >= dim || (int64_t)idx <= last || d == 0 || d > nd) {
            snprintf(err, errlen, "%s: line %zu: index or count out of range", NC_DF_FILE, line);
            return -1;
        }
        df[idx] = d;
        last = idx;
    }
    if (p != end) {
        snprintf(err, errlen, "%s: truncated", NC_DF_FILE);
        return -1;
    }
    *ndocs = nd;
    return 0;
}
