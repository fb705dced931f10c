/* str.c - see str.h. */
#include "base/str.h"

#include <stdlib.h>
#include <string.h>

char *nc_xstrdup(const char *s)
{
    return nc_xstrndup(s, strlen(s));
}

char *nc_xstrndup(const char *s, size_t n)
{
    char *d = malloc(n + 1);
    if (d) {
        memcpy(d, s, n);
        d[n] = '\0';
    }
    return d;
}
