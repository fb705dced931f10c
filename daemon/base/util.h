/*
 * util.h - small helpers shared by the parts: UTF-8 validation, file
 * reading and writing, hashing (xxh3). Clocks are in clock.h, string copies
 * in str.h.
 */
#ifndef NC_UTIL_H
#define NC_UTIL_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/*
 * Decodes one UTF-8 sequence at s[0..n) (n >= 1): returns its length and the
 * code point, or 0 for an invalid (overlong, surrogate, out of range,
 * truncated) sequence.
 */
size_t nc_utf8_decode(const unsigned char *s, size_t n, uint32_t *cp);
/* Encodes a code point (<= U+10FFFF) into out (4 bytes room); returns the length. */
size_t nc_utf8_encode(uint32_t cp, char *out);

/* True when s[0..n) is well-formed UTF-8 (no overlongs, no surrogates). */
int nc_utf8_valid(const char *s, size_t n);

/* Reads a whole file into a NUL-terminated malloc'd buffer. */
int nc_read_file(const char *path, char **data, size_t *len, size_t max, char *err, size_t errlen);

/*
 * Reads fp to its end into a NUL-terminated malloc'd buffer of at most max
 * bytes (max < SIZE_MAX / 2). Unlike nc_read_file() any stream will do: a
 * pipe, /dev/stdin, a file whose size is not known in advance. Returns 0, or
 * -1 with errno EFBIG (more than max bytes; reading stops there), ENOMEM, or
 * the read error's errno. fp stays open.
 */
int nc_read_stream(FILE *fp, size_t max, char **data, size_t *len);

/* Writes a file atomically-enough for model building (write, fsync, close). */
int nc_write_file(const char *path, const void *data, size_t len, char *err, size_t errlen);

/* xxh3-64 of a buffer as 16 lower-case hex digits (out: 17 bytes). */
void nc_hash_hex(const void *data, size_t len, char out[17]);

/*
 * Makes room for need elements of elem bytes in the array *buf of *cap
 * elements: doubles the capacity (from first when 0) until it holds need and
 * reallocates. 0, or -1 when realloc fails, the size overflows or elem or
 * first is 0 (*buf and
 * *cap unchanged).
 */
int nc_grow(void **buf, size_t *cap, size_t need, size_t elem, size_t first);

#endif
