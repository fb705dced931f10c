/*
 * test_parity.c - the collapsed linear model (linear.h) computes exactly what
 * libsvm computes from the same file.
 *
 * For each model directory, every label's .svm is loaded with libsvm's own
 * svm_load_model(), every article of models/corpus/dev.jsonl is turned into
 * its whole-document feature vector exactly as the model does it
 * (nc_features_extract + nc_features_vector over all occurrences, sorted,
 * index + 1), and svm_predict_values() must agree with nc_linear_dot() on the
 * collapsed weights to 1e-9. libsvm's decision value is for its label[0];
 * when that is -1 it is negated to get the decision for "has the label".
 * The served decision (nc_model_classify, fused scoring table, maximum over
 * the document and its passages) must equal the same maximum computed with
 * nc_features_vector() + nc_linear_dot(), and so must the served scores the
 * combiners read (the document's, the best two passages', which passage is
 * best, how many passages were scored).
 *
 * Models: the compact fixture (w folded into one support vector), the
 * full-SV fixture (libsvm's support vectors: the collapse sums them), copies
 * of both whose files are rewritten with the class order "-1 1" (negated
 * coefficients and rho: the same decision function, the other sign path;
 * libsvm itself always puts +1 first), and models/default when it exists.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <svm.h>
#include <sys/mman.h>
#include <sys/wait.h>

#include "core/article.h"
#include "core/combine.h"
#include "core/featurize.h"
#include "core/linear.h"
#include "core/model.h"
#include "testutil.h"
#include "base/util.h"
#include "base/clock.h"

#define TOL 1e-9

/* dev.jsonl split into lines (read once). */
static char *dev_data;
static char **dev_line;
static size_t *dev_len;
static size_t ndev;

static int group_setup(void **state)
{
    (void)state;
    char path[4096];
    snprintf(path, sizeof(path), "%s/dev.jsonl", NC_TEST_CORPUS);
    size_t len;
    dev_data = tu_read(path, &len);
    if (!dev_data)
        return -1;
    size_t cap = 1024;
    dev_line = malloc(cap * sizeof(*dev_line));
    dev_len = malloc(cap * sizeof(*dev_len));
    for (char *p = dev_data; p < dev_data + len;) {
        char *nl = memchr(p, '\n', (size_t)(dev_data + len - p));
        size_t l = nl ? (size_t)(nl - p) : (size_t)(dev_data + len - p);
        if (l > 0) {
            if (ndev == cap) {
                cap *= 2;
                dev_line = realloc(dev_line, cap * sizeof(*dev_line));
                dev_len = realloc(dev_len, cap * sizeof(*dev_len));
            }
            dev_line[ndev] = p;
            dev_len[ndev++] = l;
        }
        p = nl ? nl + 1 : dev_data + len;
    }
    char fx[4096];
    snprintf(fx, sizeof(fx), "%s/compact/manifest.json", NC_TEST_FIXTURES);
    if (access(fx, R_OK) != 0) {
        fprintf(stderr, "no fixture model at %s: run through ctest (fixture core_fixtures)\n", fx);
        return -1;
    }
    return ndev > 900 ? 0 : -1;
}

static int group_teardown(void **state)
{
    (void)state;
    free(dev_data);
    free(dev_line);
    free(dev_len);
    return 0;
}

/* The .svm file name of each label, from the manifest. */
static json_t *manifest_of(const char *dir)
{
    char path[4200];
    tu_path(path, sizeof(path), dir, "manifest.json");
    json_error_t je;
    json_t *root = json_load_file(path, 0, &je);
    if (!root)
        fail_msg("%s: %s", path, je.text);
    return root;
}

static const char *label_file(json_t *manifest, size_t k)
{
    json_t *l = json_array_get(json_object_get(manifest, "labels"), k);
    const char *f = json_string_value(json_object_get(l, "file"));
    assert_non_null(f);
    return f;
}

struct stats {
    size_t docs, comparisons, neg_first, passages;
    double max_diff, max_served_diff;
};

/*
 * libsvm's decision for "has the label" of every (document, label) into
 * out[i * L + k]. A full-SV model costs seconds of kernel evaluations, so a
 * forked child (libsvm is not thread-safe) does the first half through
 * shared memory. The child makes no test assertions: it only computes.
 */
static void libsvm_decisions(struct svm_model *const *sm, size_t L, struct svm_node *const *xs,
                             size_t n, double *out)
{
    size_t bytes = (n * L > 0 ? n * L : 1) * sizeof(double);
    double *shared = mmap(NULL, bytes, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    assert_true(shared != MAP_FAILED);
    size_t half = n / 2;
    fflush(NULL);
    pid_t pid = fork();
    size_t from = pid == 0 ? 0 : pid > 0 ? half : 0, to = pid == 0 ? half : n;
    for (size_t i = from; i < to; i++)
        for (size_t k = 0; k < L; k++) {
            double d;
            svm_predict_values(sm[k], xs[i], &d);
            shared[i * L + k] = sm[k]->label[0] == -1 ? -d : d;
        }
    if (pid == 0)
        _exit(0);
    if (pid > 0) {
        int status;
        assert_int_equal(waitpid(pid, &status, 0), pid);
        assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    }
    memcpy(out, shared, n * L * sizeof(double));
    munmap(shared, bytes);
}

/* The best two passage decisions of one label, passage by passage (p: 0-based). */
static void reference_top2(struct nc_label_score *w, double d, size_t p)
{
    w->npassages++;
    if (w->npassages == 1 || d > w->pmax) {
        w->p2nd = w->pmax;
        w->pmax = d;
        w->best = (uint32_t)p + 1;
    } else if (w->npassages == 2 || d > w->p2nd) {
        w->p2nd = d;
    }
}

static void check_top2(const struct nc_label_score *got, const struct nc_label_score *want,
                       double doc, const char *dir, size_t line)
{
    int same = fabs(got->doc - doc) < TOL && got->npassages == want->npassages;
    if (same && want->npassages >= 1)
        same = fabs(got->pmax - want->pmax) < TOL && got->best == want->best;
    if (same && want->npassages >= 2)
        same = fabs(got->p2nd - want->p2nd) < TOL;
    if (!same)
        fail_msg("%s: dev line %zu: served scores doc %.17g, %u passages, best %u (%.17g), "
                 "second %.17g; reference doc %.17g, %u passages, best %u (%.17g), second %.17g",
                 dir, line + 1, got->doc, got->npassages, got->best, got->pmax, got->p2nd, doc,
                 want->npassages, want->best, want->pmax, want->p2nd);
}

/*
 * Compares libsvm and the collapsed weights on every `stride`-th dev article
 * (stride 1: all). When `decisions` is not NULL it receives ndev * nlabels
 * whole-document decisions.
 */
static void check_parity(const char *dir, size_t stride, double *decisions, struct stats *st)
{
    memset(st, 0, sizeof(*st));
    double t0 = nc_now();
    nc_model *m = NULL;
    char err[1024];
    if (nc_model_load(dir, &m, err, sizeof(err)) != 0)
        fail_msg("cannot load %s: %s", dir, err);
    const nc_featurizer *f = nc_model_featurizer(m);
    const nc_linear *lin = nc_model_linear(m);
    size_t L = nc_model_nlabels(m);
    assert_int_equal(lin->nlabels, L);
    assert_int_equal(lin->dim, nc_featurizer_dim(f));

    json_t *manifest = manifest_of(dir);
    struct svm_model *sm[NC_MAX_LABELS];
    for (size_t k = 0; k < L; k++) {
        char path[4200];
        tu_path(path, sizeof(path), dir, label_file(manifest, k));
        sm[k] = svm_load_model(path);
        if (!sm[k])
            fail_msg("libsvm cannot load %s", path);
        assert_int_equal(svm_get_nr_class(sm[k]), 2);
        assert_int_equal(sm[k]->param.kernel_type, LINEAR);
        st->neg_first += sm[k]->label[0] == -1;
        assert_true(sm[k]->label[0] == -sm[k]->label[1]);
        assert_true(sm[k]->label[0] == 1 || sm[k]->label[0] == -1);
    }

    nc_fscratch *fs = nc_fscratch_new(f);
    nc_workspace *ws = nc_workspace_new(m);
    nc_article *a = nc_article_new();
    assert_non_null(fs);
    assert_non_null(ws);
    assert_non_null(a);
    struct nc_svec v = {0};
    size_t nsel = (ndev + stride - 1) / stride;
    struct svm_node **xs = calloc(nsel, sizeof(*xs));
    double *mine = malloc((nsel * L > 0 ? nsel * L : 1) * sizeof(double));
    double *theirs = malloc((nsel * L > 0 ? nsel * L : 1) * sizeof(double));
    assert_non_null(xs);
    assert_non_null(mine);
    assert_non_null(theirs);

    /* each article: its libsvm vector and the collapsed decisions */
    for (size_t q = 0; q < nsel; q++) {
        size_t i = q * stride;
        enum nc_article_error ae =
            nc_article_parse(a, dev_line[i], dev_len[i], 0, err, sizeof(err));
        if (ae != NC_ART_OK)
            fail_msg("dev.jsonl line %zu: %s: %s", i + 1, nc_article_reason(ae), err);
        size_t tlen, blen;
        const char *title = nc_article_title(a, &tlen), *body = nc_article_body(a, &blen);
        assert_int_equal(nc_features_extract(f, fs, title, tlen, body, blen), 0);
        size_t nocc;
        nc_fscratch_occ(fs, &nocc);
        assert_int_equal(nc_features_vector(f, fs, 0, nocc, &v), 0);
        nc_svec_sort(&v);
        struct svm_node *x = xs[q] = malloc((v.n + 1) * sizeof(*x));
        assert_non_null(x);
        for (size_t j = 0; j < v.n; j++) {
            if (j > 0 && v.idx[j] <= v.idx[j - 1])
                fail_msg("vector indices not strictly increasing after nc_svec_sort");
            assert_true(v.idx[j] < lin->dim);
            assert_true(isfinite(v.val[j]));
            x[j].index = (int)v.idx[j] + 1;
            x[j].value = v.val[j];
        }
        x[v.n].index = -1;
        x[v.n].value = 0;
        nc_linear_dot(lin, &v, mine + q * L);

        /*
         * Serving (nc_model_classify: the fused scoring table) gives each
         * label's maximum over the document and its passages; the reference
         * is nc_features_vector() + nc_linear_dot() on the same ranges.
         */
        double ref[NC_MAX_LABELS], pdec[NC_MAX_LABELS];
        struct nc_label_score want[NC_MAX_LABELS];
        memcpy(ref, mine + q * L, L * sizeof(double));
        memset(want, 0, sizeof(want));
        size_t np = nc_features_passages(f, fs, NULL, 0);
        size_t(*ranges)[2] = malloc((np + 1) * sizeof(*ranges));
        assert_non_null(ranges);
        assert_int_equal(nc_features_passages(f, fs, ranges, np), np);
        for (size_t p = 0; p < np; p++) {
            assert_true(ranges[p][0] <= ranges[p][1] && ranges[p][1] <= nocc);
            assert_int_equal(nc_features_vector(f, fs, ranges[p][0], ranges[p][1], &v), 0);
            if (v.n == 0)
                continue;
            nc_linear_dot(lin, &v, pdec);
            for (size_t k = 0; k < L; k++) {
                if (pdec[k] > ref[k])
                    ref[k] = pdec[k];
                reference_top2(&want[k], pdec[k], p);
            }
        }
        free(ranges);
        st->passages += np;
        nc_result r;
        assert_int_equal(nc_model_classify(m, ws, a, &r, err, sizeof(err)), 0);
        for (size_t k = 0; k < L; k++) {
            double diff = fabs(r.decision[k] - ref[k]);
            if (!(diff < TOL))
                fail_msg("%s: dev line %zu, label %s: served decision %.17g, vector + dot over "
                         "the document and %zu passages %.17g",
                         dir, i + 1, nc_model_label(m, k), r.decision[k], np, ref[k]);
            if (diff > st->max_served_diff)
                st->max_served_diff = diff;
            check_top2(&nc_workspace_scores(ws)->label[k], &want[k], mine[q * L + k], dir, i);
        }
    }

    libsvm_decisions(sm, L, xs, nsel, theirs);
    for (size_t q = 0; q < nsel; q++) {
        for (size_t k = 0; k < L; k++) {
            double d = theirs[q * L + k], c = mine[q * L + k];
            double diff = fabs(d - c);
            if (!(diff < TOL))
                fail_msg("%s: dev line %zu, label %s: libsvm %.17g, collapsed %.17g (diff %g)", dir,
                         q * stride + 1, nc_model_label(m, k), d, c, diff);
            if (diff > st->max_diff)
                st->max_diff = diff;
            st->comparisons++;
            if (decisions)
                decisions[q * stride * L + k] = c;
        }
        free(xs[q]);
        st->docs++;
    }
    free(xs);
    free(mine);
    free(theirs);
    nc_svec_release(&v);
    nc_article_free(a);
    nc_workspace_free(ws);
    nc_fscratch_free(fs);
    for (size_t k = 0; k < L; k++)
        svm_free_and_destroy_model(&sm[k]);
    json_decref(manifest);
    nc_model_free(m);
    printf("[ PARITY   ] %s: %zu articles, %zu comparisons, max |diff| %.3g (served vs "
           "reference over %zu passages: %.3g), %zu label(s) with class order -1 1 (%.1f s)\n",
           dir, st->docs, st->comparisons, st->max_diff, st->passages, st->max_served_diff,
           st->neg_first, nc_now() - t0);
    fflush(stdout);
}

/* A growing output buffer. */
struct out {
    char *p;
    size_t n, cap;
};

static void put(struct out *o, const char *s, size_t n)
{
    if (o->n + n + 1 > o->cap) {
        o->cap = (o->n + n + 1) * 2;
        o->p = realloc(o->p, o->cap);
        assert_non_null(o->p);
    }
    memcpy(o->p + o->n, s, n);
    o->n += n;
    o->p[o->n] = '\0';
}

static void puts_(struct out *o, const char *s)
{
    put(o, s, strlen(s));
}

/* "-x" -> "x", "x" -> "-x": exact negation of a number written as text. */
static void put_negated(struct out *o, const char *num, size_t n)
{
    if (n > 0 && num[0] == '-') {
        put(o, num + 1, n - 1);
    } else if (n > 0 && num[0] == '+') {
        put(o, "-", 1);
        put(o, num + 1, n - 1);
    } else {
        put(o, "-", 1);
        put(o, num, n);
    }
}

/*
 * Rewrites a two-class libsvm file with the class order swapped: "label a b"
 * -> "label b a", "nr_sv p q" -> "nr_sv q p", rho and every coefficient
 * negated. The decision value for the first class flips sign, so the decision
 * for "has the label" is unchanged.
 */
static char *flip_classes(const char *in)
{
    struct out o = {NULL, 0, 0};
    const char *p = in;
    int in_sv = 0;
    while (*p) {
        const char *e = strchr(p, '\n');
        size_t n = e ? (size_t)(e - p) : strlen(p);
        int a, b;
        char line[64];
        if (in_sv) {
            const char *sp = memchr(p, ' ', n);
            size_t cl = sp ? (size_t)(sp - p) : n;
            put_negated(&o, p, cl);
            put(&o, p + cl, n - cl);
        } else if (strncmp(p, "rho ", 4) == 0) {
            puts_(&o, "rho ");
            put_negated(&o, p + 4, n - 4);
        } else if (sscanf(p, "label %d %d", &a, &b) == 2) {
            snprintf(line, sizeof(line), "label %d %d", b, a);
            puts_(&o, line);
        } else if (sscanf(p, "nr_sv %d %d", &a, &b) == 2) {
            snprintf(line, sizeof(line), "nr_sv %d %d", b, a);
            puts_(&o, line);
        } else {
            if (n == 2 && strncmp(p, "SV", 2) == 0)
                in_sv = 1;
            put(&o, p, n);
        }
        if (e)
            put(&o, "\n", 1);
        p = e ? e + 1 : p + n;
    }
    return o.p;
}

/* A copy of `src` with every label file class-flipped (checksums updated). */
static void make_flipped(const char *src, char *dst, size_t dstlen)
{
    tu_mkdtemp(dst, dstlen);
    tu_copy_dir(src, dst);
    json_t *manifest = manifest_of(dst);
    json_t *labels = json_object_get(manifest, "labels");
    for (size_t k = 0; k < json_array_size(labels); k++) {
        json_t *l = json_array_get(labels, k);
        char path[4200];
        tu_path(path, sizeof(path), dst, json_string_value(json_object_get(l, "file")));
        char *text = tu_read(path, NULL);
        assert_non_null(text);
        char *flipped = flip_classes(text);
        assert_non_null(strstr(flipped, "\nlabel -1 1\n"));
        tu_write_str(path, flipped);
        char hex[17];
        nc_hash_hex(flipped, strlen(flipped), hex);
        json_object_set_new(l, "sha", json_string(hex));
        free(flipped);
        free(text);
    }
    char mpath[4200];
    tu_path(mpath, sizeof(mpath), dst, "manifest.json");
    assert_int_equal(json_dump_file(manifest, mpath, JSON_INDENT(2) | JSON_PRESERVE_ORDER), 0);
    json_decref(manifest);
}

static size_t fixture_nlabels(const char *dir)
{
    json_t *m = manifest_of(dir);
    size_t n = json_array_size(json_object_get(m, "labels"));
    json_decref(m);
    return n;
}

/* The collapsed weights and biases of two model directories are identical. */
static void assert_same_weights(const char *dir1, const char *dir2)
{
    nc_model *m1 = NULL, *m2 = NULL;
    char err[1024];
    if (nc_model_load(dir1, &m1, err, sizeof(err)) != 0 ||
        nc_model_load(dir2, &m2, err, sizeof(err)) != 0)
        fail_msg("%s", err);
    const nc_linear *a = nc_model_linear(m1), *b = nc_model_linear(m2);
    assert_int_equal(a->nlabels, b->nlabels);
    assert_int_equal(a->dim, b->dim);
    size_t nonzero = 0;
    for (size_t i = 0; i < (size_t)a->dim * a->nlabels; i++) {
        if (a->w[i] != b->w[i])
            fail_msg("weight %zu differs: %.17g vs %.17g", i, a->w[i], b->w[i]);
        nonzero += a->w[i] != 0;
    }
    for (size_t k = 0; k < a->nlabels; k++)
        if (a->b[k] != b->b[k])
            fail_msg("bias %zu differs: %.17g vs %.17g", k, a->b[k], b->b[k]);
    assert_true(nonzero > 100);
    nc_model_free(m1);
    nc_model_free(m2);
}

/*
 * The model on every dev article, then its class-flipped copy: libsvm's
 * "-1 1" decision negated must agree too (checked on every 16th article: the
 * collapsed weights are compared exactly with the original's).
 */
static void parity_with_flip(const char *name, double **decisions_out)
{
    char dir[4096], flipped[4096];
    snprintf(dir, sizeof(dir), "%s/%s", NC_TEST_FIXTURES, name);
    size_t L = fixture_nlabels(dir);
    double *d1 = malloc(ndev * L * sizeof(*d1));
    assert_non_null(d1);
    struct stats st;
    check_parity(dir, 1, d1, &st);
    assert_int_equal(st.docs, ndev);
    make_flipped(dir, flipped, sizeof(flipped));
    check_parity(flipped, 16, NULL, &st);
    assert_int_equal(st.neg_first, L);
    assert_true(st.docs >= ndev / 16);
    assert_same_weights(dir, flipped);
    tu_rmtree(flipped);
    *decisions_out = d1;
}

static void test_compact_and_full_sv(void **state)
{
    (void)state;
    double *compact, *full;
    parity_with_flip("compact", &compact);
    parity_with_flip("fullsv", &full);
    /*
     * Same data and C, so the same decision function; the files differ only in
     * what libsvm rounds to 8 significant digits (w versus the support vectors).
     */
    char dir[4096];
    snprintf(dir, sizeof(dir), "%s/compact", NC_TEST_FIXTURES);
    size_t L = fixture_nlabels(dir);
    double worst = 0;
    for (size_t i = 0; i < ndev * L; i++)
        if (fabs(compact[i] - full[i]) > worst)
            worst = fabs(compact[i] - full[i]);
    printf("[ PARITY   ] compact vs full-SV: max |diff| %.3g\n", worst);
    assert_true(worst < 1e-5);
    free(compact);
    free(full);
}

static void test_shipped_default_model(void **state)
{
    (void)state;
    char dir[4096], path[4200];
    snprintf(dir, sizeof(dir), "%s/models/default", NC_TEST_SOURCE_DIR);
    tu_path(path, sizeof(path), dir, "manifest.json");
    if (access(path, R_OK) != 0) {
        printf("[ PARITY   ] %s does not exist: skipped\n", dir);
        skip();
    }
    struct stats st;
    check_parity(dir, 1, NULL, &st);
    assert_int_equal(st.docs, ndev);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_compact_and_full_sv),
        cmocka_unit_test(test_shipped_default_model),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
