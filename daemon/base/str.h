/*
 * str.h - string copies for code that handles running out of memory itself:
 * each returns a malloc'd, NUL-terminated copy, or NULL when malloc fails
 * (nothing aborts).
 */
#ifndef NC_STR_H
#define NC_STR_H

#include <stddef.h>

/* A copy of s. */
char *nc_xstrdup(const char *s);

/* A copy of the n bytes at s (all n must be readable), NUL-terminated. A NUL
 * among them is copied too, so strlen(copy) < n tells that s held one. */
char *nc_xstrndup(const char *s, size_t n);

#endif
