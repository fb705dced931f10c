/*
 * testutil.h - small helpers shared by the core's cmocka tests: temporary
 * directories, whole-file reading and writing, flat directory copies and a
 * substring assertion. Header-only (static functions) so every test stays
 * one self-contained executable.
 *
 * Include after <cmocka.h>.
 */
#ifndef NC_TESTUTIL_H
#define NC_TESTUTIL_H

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* Fails the test unless needle occurs in hay. */
#define assert_contains(hay, needle)                                                               \
    do {                                                                                           \
        const char *h_ = (hay), *n_ = (needle);                                                    \
        if (!h_ || !strstr(h_, n_))                                                                \
            fail_msg("expected \"%s\" in \"%s\"", n_, h_ ? h_ : "(null)");                         \
    } while (0)

/* Fails the test when s spans more than one line. */
#define assert_one_line(s)                                                                         \
    do {                                                                                           \
        const char *s_ = (s);                                                                      \
        if (s_[0] == '\0' || strchr(s_, '\n'))                                                     \
            fail_msg("expected a non-empty one-line message, got \"%s\"", s_);                     \
    } while (0)

/* dir + "/" + file into out; fails the test when it does not fit. */
static inline void tu_path(char *out, size_t n, const char *dir, const char *file)
{
    int w = snprintf(out, n, "%s/%s", dir, file);
    if (w < 0 || (size_t)w >= n)
        fail_msg("path too long: %s/%s", dir, file);
}

/* Creates a fresh directory under $TMPDIR (or /tmp); path into buf. */
static inline void tu_mkdtemp(char *buf, size_t n)
{
    const char *tmp = getenv("TMPDIR");
    snprintf(buf, n, "%s/newsclf-core-XXXXXX", tmp && *tmp ? tmp : "/tmp");
    if (!mkdtemp(buf))
        fail_msg("mkdtemp %s: %s", buf, strerror(errno));
}

/* Removes a directory tree (regular files and subdirectories). */
static inline void tu_rmtree(const char *dir)
{
    DIR *d = opendir(dir);
    if (!d)
        return;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
            continue;
        char p[4096];
        struct stat st;
        tu_path(p, sizeof(p), dir, e->d_name);
        if (lstat(p, &st) == 0 && S_ISDIR(st.st_mode))
            tu_rmtree(p);
        else
            unlink(p);
    }
    closedir(d);
    rmdir(dir);
}

/* Reads a whole file (NUL-terminated); NULL when it cannot be read. */
static inline char *tu_read(const char *path, size_t *len)
{
    if (len)
        *len = 0;
    FILE *fp = fopen(path, "rb");
    if (!fp)
        return NULL;
    size_t cap = 1 << 16, n = 0;
    char *buf = malloc(cap + 1);
    assert_non_null(buf);
    for (;;) {
        size_t got = fread(buf + n, 1, cap - n, fp);
        n += got;
        if (n < cap)
            break;
        cap *= 2;
        char *p = realloc(buf, cap + 1);
        assert_non_null(p);
        buf = p;
    }
    fclose(fp);
    buf[n] = '\0';
    if (len)
        *len = n;
    return buf;
}

static inline void tu_write(const char *path, const void *data, size_t len)
{
    FILE *fp = fopen(path, "wb");
    if (!fp)
        fail_msg("cannot write %s: %s", path, strerror(errno));
    if (len)
        assert_int_equal(fwrite(data, 1, len, fp), len);
    assert_int_equal(fclose(fp), 0);
}

static inline void tu_write_str(const char *path, const char *s)
{
    tu_write(path, s, strlen(s));
}

/* Copies the regular files of src (flat) into the existing directory dst. */
static inline void tu_copy_dir(const char *src, const char *dst)
{
    DIR *d = opendir(src);
    if (!d)
        fail_msg("cannot open %s: %s", src, strerror(errno));
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        char from[4096], to[4096];
        struct stat st;
        tu_path(from, sizeof(from), src, e->d_name);
        if (stat(from, &st) != 0 || !S_ISREG(st.st_mode))
            continue;
        tu_path(to, sizeof(to), dst, e->d_name);
        size_t len = 0;
        char *data = tu_read(from, &len);
        assert_non_null(data);
        tu_write(to, data, len);
        free(data);
    }
    closedir(d);
}

#endif
