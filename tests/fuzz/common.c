/*
 * common.c - helpers shared by the fuzz harnesses: failure reporting, named
 * checks, scratch directories, and the output-record checks that three of
 * the four targets apply to whatever they managed to classify or build.
 */
#include <dirent.h>
#include <errno.h>
#include <jansson.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "harness.h"

#ifndef NC_FUZZ_SOURCE_DIR
#error "NC_FUZZ_SOURCE_DIR must name the source tree"
#endif

void nc_fuzz_fail(const char *target, const char *fmt, ...)
{
    va_list ap;
    fprintf(stderr, "fuzz %s: ", target);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    fflush(stderr);
    abort();
}

int nc_fuzz_enabled(const char *check)
{
    const char *list = getenv("NC_FUZZ_IGNORE");
    size_t n = strlen(check);
    for (const char *p = list; p && *p;) {
        size_t len = strcspn(p, ",");
        if (len == n && memcmp(p, check, n) == 0)
            return 0;
        p += len;
        if (*p == ',')
            p++;
    }
    return 1;
}

const char *nc_fuzz_source_dir(void)
{
    return NC_FUZZ_SOURCE_DIR;
}

/* ---- scratch directories ------------------------------------------------ */

#define MAX_SCRATCH 8
static char scratch[MAX_SCRATCH][4096];
static size_t nscratch;

static void rm_tree(const char *dir)
{
    DIR *d = opendir(dir);
    if (!d)
        return;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
            continue;
        char p[4352];
        struct stat st;
        snprintf(p, sizeof(p), "%s/%s", dir, e->d_name);
        if (lstat(p, &st) == 0 && S_ISDIR(st.st_mode))
            rm_tree(p);
        else
            unlink(p);
    }
    closedir(d);
    rmdir(dir);
}

/* Only the process that created a directory removes it (nc_train forks). */
static pid_t owner;

static void remove_scratch(void)
{
    if (getpid() != owner)
        return;
    for (size_t i = 0; i < nscratch; i++)
        rm_tree(scratch[i]);
    nscratch = 0;
}

const char *nc_fuzz_scratch_dir(const char *tag)
{
    if (nscratch == MAX_SCRATCH) {
        fprintf(stderr, "fuzz: too many scratch directories\n");
        return NULL;
    }
    const char *tmp = getenv("TMPDIR");
    char *dir = scratch[nscratch];
    snprintf(dir, sizeof(scratch[0]), "%s/newsclf-fuzz-%s-XXXXXX", tmp && *tmp ? tmp : "/tmp", tag);
    if (!mkdtemp(dir)) {
        fprintf(stderr, "fuzz: mkdtemp %s: %s\n", dir, strerror(errno));
        return NULL;
    }
    if (nscratch++ == 0) {
        owner = getpid();
        atexit(remove_scratch);
    }
    return dir;
}

int nc_fuzz_write(const char *path, const void *data, size_t len)
{
    FILE *fp = fopen(path, "wb");
    if (!fp)
        return -1;
    int bad = len && fwrite(data, 1, len, fp) != len;
    if (fclose(fp) != 0)
        bad = 1;
    return bad ? -1 : 0;
}

/* ---- output records ------------------------------------------------------ */

/* Equal JSON values; reals may differ by the encoder's 6 significant digits
 * when tol_reals (the lossy pass-through is check "article-reals"). */
static int jequal(json_t *a, json_t *b, int tol_reals)
{
    if (!tol_reals || !a || !b)
        return json_equal(a, b);
    if (json_is_real(a) && json_is_real(b)) {
        double x = json_real_value(a), y = json_real_value(b);
        return fabs(x - y) <= 1e-5 * fabs(x) + 1e-300;
    }
    if (json_typeof(a) != json_typeof(b))
        return 0;
    if (json_is_array(a)) {
        if (json_array_size(a) != json_array_size(b))
            return 0;
        for (size_t i = 0; i < json_array_size(a); i++)
            if (!jequal(json_array_get(a, i), json_array_get(b, i), 1))
                return 0;
        return 1;
    }
    if (json_is_object(a)) {
        if (json_object_size(a) != json_object_size(b))
            return 0;
        const char *k;
        json_t *v;
        json_object_foreach(a, k, v)
        {
            if (!jequal(v, json_object_get(b, k), 1))
                return 0;
        }
        return 1;
    }
    return json_equal(a, b);
}

/* A number written with JSON_REAL_PRECISION(6) and read back. */
static int close_to(json_t *v, double want)
{
    if (!json_is_number(v))
        return 0;
    double got = json_number_value(v);
    return fabs(got - want) <= 1e-5 * fabs(want) + 1e-300;
}

static void check_scores(const char *target, const nc_model *m, const nc_result *r, json_t *obj,
                         const double *want, const char *what)
{
    FUZZ_CHECK(target, json_is_object(obj), "\"%s\" is not an object", what);
    if (r->skipped != NC_SKIP_NONE) {
        FUZZ_CHECK(target, json_object_size(obj) == 0, "skipped result has %s", what);
        return;
    }
    for (size_t k = 0; k < r->nlabels; k++) {
        const char *name = nc_model_label(m, k);
        json_t *v = json_object_get(obj, name);
        if (!v && !isfinite(want[k]) && !nc_fuzz_enabled("encode-nonfinite"))
            continue; /* a known bug: see README.md */
        FUZZ_CHECK(target, v, "%s of label \"%s\" (%g) missing from the output", what, name,
                   want[k]);
        if (!isfinite(want[k]))
            continue; /* null or some number: any explicit value will do */
        FUZZ_CHECK(target, close_to(v, want[k]), "%s of \"%s\" is not %.17g", what, name, want[k]);
    }
    FUZZ_CHECK(target, json_object_size(obj) <= r->nlabels, "\"%s\" has extra keys", what);
}

static void check_article(const char *target, const nc_article *a, const struct nc_encode_opts *o,
                          json_t *art)
{
    FUZZ_CHECK(target, json_is_object(art), "\"article\" is not an object");
    int tol = !nc_fuzz_enabled("article-reals");
    json_t *src = nc_article_json(a);
    json_t *want;
    if (!src) {
        size_t blen;
        const char *body = nc_article_body(a, &blen);
        want = json_object();
        json_object_set_new(want, "body", json_stringn(body ? body : "", blen));
    } else {
        want = json_incref(src);
    }
    if (o->article_mode == NC_ARTICLE_LIST) {
        json_t *sel = json_object();
        for (size_t i = 0; i < o->nfields; i++) {
            json_t *v = json_object_get(want, o->fields[i]);
            if (v)
                json_object_set(sel, o->fields[i], v);
        }
        json_decref(want);
        want = sel;
    }
    int same = jequal(art, want, tol);
    if (!same) {
        char *got = json_dumps(art, JSON_COMPACT | JSON_ENCODE_ANY);
        char *exp = json_dumps(want, JSON_COMPACT | JSON_ENCODE_ANY);
        fprintf(stderr, "fuzz %s: article written as %.400s\n  expected %.400s\n", target,
                got ? got : "?", exp ? exp : "?");
        free(got);
        free(exp);
    }
    json_decref(want);
    FUZZ_CHECK(target, same,
               "the \"article\" pass-through differs from the input (check "
               "article-reals if only reals differ)");
}

static void check_labels_csv(const char *target, const nc_model *m, const nc_result *r)
{
    char full[NC_MAX_LABELS * NC_LABEL_MAX + 1], want[sizeof(full)];
    size_t wl = 0;
    want[0] = '\0';
    for (size_t k = 0; k < r->nlabels; k++)
        if (r->on[k])
            wl += (size_t)snprintf(want + wl, sizeof(want) - wl, "%s%s", wl ? "," : "",
                                   nc_model_label(m, k));
    size_t n = nc_encode_labels_csv(m, r, full, sizeof(full));
    FUZZ_CHECK(target, n == wl && strcmp(full, want) == 0, "labels csv \"%s\" (%zu), want \"%s\"",
               full, n, want);
    for (size_t cap = 1; cap <= wl + 1; cap++) {
        char *b = malloc(cap); /* exact size: ASan sees any overrun */
        FUZZ_CHECK(target, b, "out of memory");
        size_t got = nc_encode_labels_csv(m, r, b, cap);
        FUZZ_CHECK(target, got < cap && memchr(b, '\0', cap) && strlen(b) == got,
                   "labels csv into %zu bytes returned %zu", cap, got);
        FUZZ_CHECK(target,
                   strncmp(b, want, got) == 0 &&
                       (got == 0 || want[got] == '\0' || want[got] == ','),
                   "labels csv into %zu bytes cut a label: \"%s\"", cap, b);
        free(b);
    }
}

void nc_fuzz_check_encode(const char *target, const nc_model *m, const nc_article *a,
                          const nc_result *r, const struct nc_encode_opts *opts)
{
    static const struct nc_encode_opts none = {NC_ARTICLE_NONE, NULL, 0, NULL};
    const struct nc_encode_opts *o = opts ? opts : &none;
    char err[256] = "";
    size_t len = (size_t)-1;
    char *s = nc_encode_result(m, a, r, opts, &len, err, sizeof(err));
    /* A score JSON cannot hold may refuse the record (never a partial one). */
    int finite = 1;
    for (size_t k = 0; r->skipped == NC_SKIP_NONE && k < r->nlabels; k++)
        finite &= isfinite(r->prob[k]) && isfinite(r->decision[k]);
    if (!s && !finite) {
        FUZZ_CHECK(target, err[0] && !strchr(err, '\n'), "refusal without a one-line reason");
        check_labels_csv(target, m, r);
        return;
    }
    FUZZ_CHECK(target, s, "nc_encode_result failed: %s", err);
    FUZZ_CHECK(target, len == strlen(s), "length %zu, strlen %zu", len, strlen(s));
    FUZZ_CHECK(target, !memchr(s, '\n', len), "record is not one line: %.300s", s);
    json_error_t je;
    json_t *root = json_loadb(s, len, JSON_REJECT_DUPLICATES | JSON_ALLOW_NUL, &je);
    FUZZ_CHECK(target, root, "record is not valid JSON (%s at column %d): %.300s", je.text,
               je.column, s);
    FUZZ_CHECK(target, json_is_object(root), "record is not an object");

    /* Keys, in schema order. */
    const char *keys[12];
    size_t nk = 0;
    keys[nk++] = "schema_version";
    keys[nk++] = "id";
    keys[nk++] = "labels";
    keys[nk++] = "scores";
    keys[nk++] = "decision";
    if (r->skipped == NC_SKIP_LANGUAGE)
        keys[nk++] = "skipped";
    keys[nk++] = "model";
    if (o->input) {
        keys[nk++] = "input";
        keys[nk++] = "classified_at";
    }
    if (o->article_mode != NC_ARTICLE_NONE)
        keys[nk++] = "article";
    size_t i = 0;
    for (void *it = json_object_iter(root); it; it = json_object_iter_next(root, it), i++)
        FUZZ_CHECK(target, i < nk && strcmp(json_object_iter_key(it), keys[i]) == 0,
                   "key %zu is \"%s\", want \"%s\": %.300s", i, json_object_iter_key(it),
                   i < nk ? keys[i] : "(none)", s);
    FUZZ_CHECK(target, i == nk, "record has %zu keys, want %zu: %.300s", i, nk, s);

    json_t *v = json_object_get(root, "schema_version");
    FUZZ_CHECK(target, json_is_integer(v) && json_integer_value(v) == NC_SCHEMA_VERSION,
               "bad schema_version");
    const char *id = nc_article_id(a);
    v = json_object_get(root, "id");
    FUZZ_CHECK(target,
               id ? json_is_string(v) && strcmp(json_string_value(v), id) == 0 : json_is_null(v),
               "id is not %s", id ? id : "null");

    json_t *labels = json_object_get(root, "labels");
    FUZZ_CHECK(target, json_is_array(labels), "labels is not an array");
    size_t li = 0;
    if (r->skipped == NC_SKIP_NONE)
        for (size_t k = 0; k < r->nlabels; k++) {
            if (!r->on[k])
                continue;
            json_t *l = json_array_get(labels, li++);
            FUZZ_CHECK(target,
                       json_is_string(l) && !strcmp(json_string_value(l), nc_model_label(m, k)),
                       "labels[%zu] is not \"%s\"", li - 1, nc_model_label(m, k));
        }
    FUZZ_CHECK(target, json_array_size(labels) == li, "labels has %zu entries, want %zu",
               json_array_size(labels), li);
    check_scores(target, m, r, json_object_get(root, "scores"), r->prob, "scores");
    check_scores(target, m, r, json_object_get(root, "decision"), r->decision, "decision");
    if (r->skipped == NC_SKIP_LANGUAGE) {
        v = json_object_get(root, "skipped");
        FUZZ_CHECK(target, json_is_string(v) && !strcmp(json_string_value(v), "language"),
                   "skipped is not \"language\"");
    }
    v = json_object_get(root, "model");
    FUZZ_CHECK(target,
               json_is_object(v) && json_object_size(v) == 2 &&
                   json_is_string(json_object_get(v, "name")) &&
                   !strcmp(json_string_value(json_object_get(v, "name")), nc_model_name(m)) &&
                   json_is_string(json_object_get(v, "version")) &&
                   !strcmp(json_string_value(json_object_get(v, "version")), nc_model_version(m)),
               "model is not {name, version}");
    if (o->input) {
        const struct nc_input_meta *in = o->input;
        json_t *ij = json_object_get(root, "input");
        FUZZ_CHECK(target, json_is_object(ij) && json_object_size(ij) == 4, "bad input object");
        json_t *t = json_object_get(ij, "topic");
        FUZZ_CHECK(target,
                   json_is_string(t) && !strcmp(json_string_value(t), in->topic ? in->topic : ""),
                   "input.topic is not \"%s\"", in->topic ? in->topic : "");
        t = json_object_get(ij, "partition");
        FUZZ_CHECK(target, json_is_integer(t) && json_integer_value(t) == in->partition,
                   "input.partition");
        t = json_object_get(ij, "offset");
        FUZZ_CHECK(target, json_is_integer(t) && json_integer_value(t) == in->offset,
                   "input.offset");
        t = json_object_get(ij, "timestamp");
        FUZZ_CHECK(target,
                   in->timestamp_ms >= 0
                       ? json_is_integer(t) && json_integer_value(t) == in->timestamp_ms
                       : json_is_null(t),
                   "input.timestamp");
        t = json_object_get(root, "classified_at");
        const char *ts = json_string_value(t);
        size_t tl = ts ? strlen(ts) : 0;
        FUZZ_CHECK(target, ts && tl >= 24 && ts[tl - 1] == 'Z' && ts[tl - 5] == '.',
                   "classified_at \"%s\" is not RFC 3339 with milliseconds", ts ? ts : "(null)");
    }
    if (o->article_mode != NC_ARTICLE_NONE)
        check_article(target, a, o, json_object_get(root, "article"));
    json_decref(root);
    free(s);
    check_labels_csv(target, m, r);
}

int nc_fuzz_classify_check(const char *target, const nc_model *m, nc_workspace *ws,
                           const nc_article *a, nc_result *r)
{
    char err[256] = "";
    int rc = nc_model_classify(m, ws, a, r, err, sizeof(err));
    FUZZ_CHECK(target, rc == 0, "nc_model_classify failed: %s", err);
    FUZZ_CHECK(target, r->nlabels == nc_model_nlabels(m), "nlabels %zu, model has %zu", r->nlabels,
               nc_model_nlabels(m));
    if (r->skipped == NC_SKIP_LANGUAGE) {
        FUZZ_CHECK(target, nc_article_lang(a) != NULL, "skipped an article without a language");
    } else {
        FUZZ_CHECK(target, r->skipped == NC_SKIP_NONE, "unknown skip reason %d", (int)r->skipped);
        for (size_t k = 0; k < r->nlabels; k++) {
            FUZZ_CHECK(target, isfinite(r->decision[k]) || !nc_fuzz_enabled("nonfinite-decision"),
                       "decision of \"%s\" is %g", nc_model_label(m, k), r->decision[k]);
            FUZZ_CHECK(target, !(r->prob[k] < 0 || r->prob[k] > 1), "probability of \"%s\" is %g",
                       nc_model_label(m, k), r->prob[k]);
            FUZZ_CHECK(target, r->on[k] == (r->prob[k] >= nc_model_threshold(m, k)),
                       "\"%s\" on=%d with probability %g, threshold %g", nc_model_label(m, k),
                       r->on[k], r->prob[k], nc_model_threshold(m, k));
        }
    }
    /* The workspace is reused across articles: it must carry nothing over. */
    nc_result again;
    rc = nc_model_classify(m, ws, a, &again, err, sizeof(err));
    FUZZ_CHECK(target, rc == 0, "nc_model_classify failed the second time: %s", err);
    FUZZ_CHECK(target, memcmp(r, &again, sizeof(again)) == 0,
               "classifying the same article twice gave different results");

    static const char *const fields[] = {"id", "title", "body", "url", "source", "no_such_field"};
    struct nc_input_meta in = {"news.articles", 3, 12345, 1700000000123, 1764237600456};
    struct nc_encode_opts all = {NC_ARTICLE_ALL, NULL, 0, &in};
    struct nc_encode_opts list = {NC_ARTICLE_LIST, fields, sizeof(fields) / sizeof(fields[0]),
                                  NULL};
    nc_fuzz_check_encode(target, m, a, r, NULL);
    nc_fuzz_check_encode(target, m, a, r, &all);
    nc_fuzz_check_encode(target, m, a, r, &list);
    return 0;
}
