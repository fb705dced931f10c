/* cli.c - see cli.h. */
#include "cli/cli.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

const char *nc_cli_default_model(void)
{
    const char *e = getenv("NEWSCLF_MODEL");
    return e && *e ? e : NC_DEFAULT_MODEL;
}

nc_model *nc_cli_load_model(const char *dir)
{
    char err[512];
    nc_model *m;
    if (nc_model_load(dir, &m, err, sizeof(err)) != 0) {
        fprintf(stderr, "newsclf: %s\n", err);
        return NULL;
    }
    return m;
}

int nc_cli_model_open(struct nc_cli_model *cm, const char *dir, nc_model *m)
{
    memset(cm, 0, sizeof(*cm));
    cm->owned = dir != NULL;
    if (!(cm->m = dir ? nc_cli_load_model(dir) : m))
        return -1;
    cm->ws = nc_workspace_new(cm->m);
    cm->a = nc_article_new();
    if (cm->ws && cm->a)
        return 0;
    fprintf(stderr, "newsclf: out of memory\n");
    nc_cli_model_close(cm);
    return -1;
}

void nc_cli_model_close(struct nc_cli_model *cm)
{
    nc_article_free(cm->a);
    nc_workspace_free(cm->ws);
    if (cm->owned)
        nc_model_free(cm->m);
    memset(cm, 0, sizeof(*cm));
}

/* The whole of fp as one record. */
static int whole_file(FILE *fp, const char *name, nc_record_fn fn, void *ctx)
{
    char *buf = NULL;
    size_t cap = 0, len = 0;
    int rc = 0;
    for (;;) {
        if (len + 65536 > cap) {
            char *p = realloc(buf, cap = (cap ? cap * 2 : 65536) + 65536);
            if (!p) {
                rc = -1;
                break;
            }
            buf = p;
        }
        size_t got = fread(buf + len, 1, cap - len, fp);
        len += got;
        if (got == 0)
            break;
    }
    if (rc == 0)
        rc = fn(ctx, buf ? buf : "", len, name, 1);
    free(buf);
    return rc;
}

/* Each non-empty line of fp (line ends stripped) as a record. */
static int each_line(FILE *fp, const char *name, nc_record_fn fn, void *ctx)
{
    char *buf = NULL;
    size_t cap = 0, line = 0;
    ssize_t n;
    int rc = 0;
    while ((n = getline(&buf, &cap, fp)) >= 0) {
        line++;
        size_t len = (size_t)n;
        while (len > 0 && (buf[len - 1] == '\n' || buf[len - 1] == '\r'))
            len--;
        if (len == 0)
            continue;
        if ((rc = fn(ctx, buf, len, name, line)) != 0)
            break;
    }
    free(buf);
    return rc;
}

int nc_cli_each_record(char **files, int nfiles, int whole, nc_record_fn fn, void *ctx)
{
    static char *stdin_only[] = {"-"};
    if (nfiles == 0) {
        files = stdin_only;
        nfiles = 1;
    }
    for (int i = 0; i < nfiles; i++) {
        FILE *fp = strcmp(files[i], "-") == 0 ? stdin : fopen(files[i], "rb");
        struct stat st;
        if (!fp) {
            fprintf(stderr, "newsclf: %s: %s\n", files[i], strerror(errno));
            return -1;
        }
        /* fopen opens a directory for reading; say so rather than "read error". */
        if (fstat(fileno(fp), &st) == 0 && S_ISDIR(st.st_mode)) {
            fprintf(stderr, "newsclf: %s: is a directory\n", files[i]);
            if (fp != stdin)
                fclose(fp);
            return -1;
        }
        int rc = whole ? whole_file(fp, files[i], fn, ctx) : each_line(fp, files[i], fn, ctx);
        if (ferror(fp)) {
            fprintf(stderr, "newsclf: %s: read error\n", files[i]);
            rc = -1;
        }
        if (fp != stdin)
            fclose(fp);
        if (rc != 0)
            return rc;
    }
    return 0;
}

int nc_cli_parse_num(const char *opt, const char *s, long lo, long hi, long *out)
{
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (errno != 0 || end == s || *end != '\0' || v < lo || v > hi) {
        fprintf(stderr, "newsclf: %s takes a whole number from %ld to %ld, not \"%s\"\n", opt, lo,
                hi, s);
        return -1;
    }
    *out = v;
    return 0;
}
