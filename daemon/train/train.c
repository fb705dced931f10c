/* train.c - see train.h. */
#include "train/train.h"

#include <errno.h>
#include <jansson.h>
#include <math.h>
#include <signal.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <svm.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define XXH_INLINE_ALL
#include <xxhash.h>

#include "core/article.h"
#include "core/evaluate.h"
#include "core/linear.h"
#include "core/manifest.h"
#include "core/platt.h"
#include "base/util.h"
#include "base/clock.h"

#define MAX_LINE_BYTES (16u << 20)

struct doc {
    char *title, *body;
    size_t tlen, blen;
    uint64_t labels; /* bit k: has label k */
    unsigned fold;
};

struct corpus {
    struct doc *docs;
    size_t n, cap;
    char *labels[NC_LINEAR_MAX_LABELS];
    size_t nlabels;
    char data_hash[17];
};

struct job {
    int kind; /* 0: cross-validation fold, 1: final model */
    size_t label, c, fold;
};

struct trainer {
    const struct nc_train_opts *o;
    struct corpus cp;
    nc_featurizer *feat;
    struct svm_node **x; /* per document, index-sorted, terminated by -1 */
    struct svm_node *pool;
    struct svm_node *gram; /* n rows of n + 2 nodes: 0:id, 1..n: <x_i, x_j>, -1 */
    double *oof;   /* shared: [label][c][doc] decision values */
    size_t oof_bytes;
    double t0;
};

void nc_train_opts_default(struct nc_train_opts *o)
{
    memset(o, 0, sizeof(*o));
    o->name = "default";
    o->language = "en";
    nc_feature_settings_default(&o->features);
    o->folds = 5;
    o->threshold_margin = 0.02;
    o->c_grid[0] = 0.5;
    o->c_grid[1] = 1.0;
    o->c_grid[2] = 2.0;
    o->nc = 3;
}

static void logf_(const struct trainer *t, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void logf_(const struct trainer *t, const char *fmt, ...)
{
    if (!t->o->log)
        return;
    va_list ap;
    va_start(ap, fmt);
    fprintf(t->o->log, "[%7.1fs] ", nc_now() - t->t0);
    vfprintf(t->o->log, fmt, ap);
    fputc('\n', t->o->log);
    fflush(t->o->log);
    va_end(ap);
}

static void corpus_release(struct corpus *c)
{
    for (size_t i = 0; i < c->n; i++) {
        free(c->docs[i].title);
        free(c->docs[i].body);
    }
    free(c->docs);
    for (size_t k = 0; k < c->nlabels; k++)
        free(c->labels[k]);
    memset(c, 0, sizeof(*c));
}

static int label_id(struct corpus *c, const char *name)
{
    for (size_t k = 0; k < c->nlabels; k++)
        if (strcmp(c->labels[k], name) == 0)
            return (int)k;
    if (c->nlabels == NC_LINEAR_MAX_LABELS)
        return -2;
    if (!(c->labels[c->nlabels] = strdup(name)))
        return -3;
    return (int)c->nlabels++;
}

static char *dup_n(const char *s, size_t n)
{
    char *p = malloc(n + 1);
    if (p) {
        if (n)
            memcpy(p, s, n);
        p[n] = '\0';
    }
    return p;
}

/* Reads labeled JSONL files. Errors name file:line. */
static int read_corpus(struct trainer *t, char *err, size_t errlen)
{
    struct corpus *c = &t->cp;
    nc_article *a = nc_article_new();
    XXH3_state_t *hs = XXH3_createState();
    if (!a || !hs) {
        snprintf(err, errlen, "out of memory");
        goto fail;
    }
    XXH3_64bits_reset(hs);
    /* First pass collects the label names so their order is sorted, not data-dependent. */
    for (size_t f = 0; f < t->o->ndata; f++) {
        char *data;
        size_t len;
        char e[300];
        if (nc_read_file(t->o->data[f], &data, &len, (size_t)4 << 30, e, sizeof(e)) != 0) {
            snprintf(err, errlen, "%s", e);
            goto fail;
        }
        XXH3_64bits_update(hs, data, len);
        size_t line = 0;
        for (char *p = data; p < data + len;) {
            char *nl = memchr(p, '\n', (size_t)(data + len - p));
            size_t ll = nl ? (size_t)(nl - p) : (size_t)(data + len - p);
            line++;
            char *cur = p;
            p = nl ? nl + 1 : data + len;
            if (ll == 0 || (ll == 1 && cur[0] == '\r'))
                continue;
            if (t->o->limit && c->n >= t->o->limit)
                break;
            enum nc_article_error ae = nc_article_parse(a, cur, ll, MAX_LINE_BYTES, e, sizeof(e));
            if (ae != NC_ART_OK || !nc_article_json(a)) {
                snprintf(err, errlen, "%s:%zu: %s: %s", t->o->data[f], line,
                         ae == NC_ART_OK ? "not_an_object" : nc_article_reason(ae),
                         ae == NC_ART_OK ? "labeled articles must be JSON objects" : e);
                free(data);
                goto fail;
            }
            json_t *labels = json_object_get(nc_article_json(a), "labels");
            if (!json_is_array(labels)) {
                snprintf(err, errlen, "%s:%zu: \"labels\" must be an array of label names",
                         t->o->data[f], line);
                free(data);
                goto fail;
            }
            if (c->n == c->cap) {
                size_t cap = c->cap ? c->cap * 2 : 1024;
                struct doc *d = realloc(c->docs, cap * sizeof(*d));
                if (!d) {
                    snprintf(err, errlen, "out of memory");
                    free(data);
                    goto fail;
                }
                c->docs = d;
                c->cap = cap;
            }
            struct doc *d = &c->docs[c->n];
            memset(d, 0, sizeof(*d));
            const char *s;
            s = nc_article_title(a, &d->tlen);
            d->title = dup_n(s ? s : "", d->tlen);
            s = nc_article_body(a, &d->blen);
            d->body = dup_n(s ? s : "", d->blen);
            c->n++;
            if (!d->title || !d->body) {
                snprintf(err, errlen, "out of memory");
                free(data);
                goto fail;
            }
            const char *id = nc_article_id(a);
            uint64_t h = id ? XXH3_64bits(id, strlen(id)) : XXH3_64bits(cur, ll);
            d->fold = t->o->folds > 1 ? (unsigned)(h % (uint64_t)t->o->folds) : 0;
            for (size_t i = 0; i < json_array_size(labels); i++) {
                json_t *l = json_array_get(labels, i);
                if (!json_is_string(l) || !nc_valid_label(json_string_value(l))) {
                    snprintf(err, errlen,
                             "%s:%zu: labels[%zu] must be a name of 1..63 characters [a-z0-9._-]",
                             t->o->data[f], line, i);
                    free(data);
                    goto fail;
                }
                int k = label_id(c, json_string_value(l));
                if (k < 0) {
                    snprintf(err, errlen, "%s:%zu: more than %d distinct labels", t->o->data[f],
                             line, NC_LINEAR_MAX_LABELS);
                    free(data);
                    goto fail;
                }
                d->labels |= 1ULL << k;
            }
        }
        free(data);
    }
    if (c->n == 0 || c->nlabels == 0) {
        snprintf(err, errlen, "no labeled articles in the training data");
        goto fail;
    }
    /* Sort label names and remap the bit sets accordingly. */
    size_t order[NC_LINEAR_MAX_LABELS];
    for (size_t k = 0; k < c->nlabels; k++)
        order[k] = k;
    for (size_t i = 1; i < c->nlabels; i++)
        for (size_t j = i; j > 0 && strcmp(c->labels[order[j - 1]], c->labels[order[j]]) > 0; j--) {
            size_t tmp = order[j];
            order[j] = order[j - 1];
            order[j - 1] = tmp;
        }
    char *sorted[NC_LINEAR_MAX_LABELS] = {0};
    size_t newpos[NC_LINEAR_MAX_LABELS] = {0};
    for (size_t k = 0; k < c->nlabels; k++) {
        sorted[k] = c->labels[order[k]];
        newpos[order[k]] = k;
    }
    memcpy(c->labels, sorted, c->nlabels * sizeof(char *));
    for (size_t i = 0; i < c->n; i++) {
        uint64_t nb = 0;
        for (size_t k = 0; k < c->nlabels; k++)
            if (c->docs[i].labels >> k & 1)
                nb |= 1ULL << newpos[k];
        c->docs[i].labels = nb;
    }
    for (size_t k = 0; k < c->nlabels; k++) {
        size_t pos = 0;
        for (size_t i = 0; i < c->n; i++)
            pos += c->docs[i].labels >> k & 1;
        if (pos == 0 || pos == c->n) {
            snprintf(err, errlen, "label \"%s\" needs both positive and negative articles",
                     c->labels[k]);
            goto fail;
        }
    }
    snprintf(c->data_hash, sizeof(c->data_hash), "%016llx",
             (unsigned long long)XXH3_64bits_digest(hs));
    XXH3_freeState(hs);
    nc_article_free(a);
    return 0;
fail:
    if (hs)
        XXH3_freeState(hs);
    nc_article_free(a);
    return -1;
}

/* Document frequencies, then one index-sorted svm_node vector per document. */
static int build_vectors(struct trainer *t, char *err, size_t errlen)
{
    struct corpus *c = &t->cp;
    uint32_t dim = nc_featurizer_dim(t->feat);
    uint32_t *df = calloc(dim, sizeof(*df));
    nc_fscratch *s = nc_fscratch_new(t->feat);
    struct nc_svec v = {0};
    size_t *nnz = calloc(c->n, sizeof(*nnz));
    size_t total = 0;
    int rc = -1;
    if (!df || !s || !nnz)
        goto oom;
    for (size_t i = 0; i < c->n; i++) {
        struct doc *d = &c->docs[i];
        size_t nocc;
        if (nc_features_extract(t->feat, s, d->title, d->tlen, d->body, d->blen) != 0)
            goto oom;
        nc_fscratch_occ(s, &nocc);
        if (nc_features_bag(t->feat, s, 0, nocc, &v) != 0)
            goto oom;
        for (size_t j = 0; j < v.n; j++)
            df[v.idx[j]]++;
        nnz[i] = v.n;
        total += v.n + 1;
    }
    if (nc_featurizer_set_df(t->feat, df, (uint32_t)c->n) != 0)
        goto oom;
    t->pool = malloc(total * sizeof(*t->pool));
    t->x = malloc(c->n * sizeof(struct svm_node *));
    if (!t->pool || !t->x)
        goto oom;
    struct svm_node *p = t->pool;
    for (size_t i = 0; i < c->n; i++) {
        struct doc *d = &c->docs[i];
        size_t nocc;
        if (nc_features_extract(t->feat, s, d->title, d->tlen, d->body, d->blen) != 0)
            goto oom;
        nc_fscratch_occ(s, &nocc);
        if (nc_features_vector(t->feat, s, 0, nocc, &v) != 0)
            goto oom;
        nc_svec_sort(&v);
        t->x[i] = p;
        for (size_t j = 0; j < v.n; j++, p++) {
            p->index = (int)v.idx[j] + 1;
            p->value = v.val[j];
        }
        p->index = -1;
        p->value = 0;
        p++;
    }
    logf_(t, "featurized %zu articles: %zu non-zeros (%.0f per article), dimension %u", c->n,
          total - c->n, (double)(total - c->n) / (double)c->n, dim);
    rc = 0;
    goto out;
oom:
    snprintf(err, errlen, "out of memory while building feature vectors");
out:
    free(df);
    free(nnz);
    nc_fscratch_free(s);
    nc_svec_release(&v);
    return rc;
}

/*
 * The linear kernel matrix K[i][j] = <x_i, x_j>, computed once through an
 * inverted index (cost: sum over features of df^2, a few seconds here,
 * instead of libsvm's n^2 sparse dot products per model and fold). It is
 * handed to libsvm as a precomputed kernel, which is the same optimisation
 * problem as kernel_type linear; the saved model files are linear-kernel
 * models over the feature vectors (see save_model).
 */
static int build_gram(struct trainer *t, char *err, size_t errlen)
{
    size_t n = t->cp.n;
    uint32_t dim = nc_featurizer_dim(t->feat);
    uint32_t *start = calloc((size_t)dim + 1, sizeof(*start));
    uint32_t *pdoc = NULL;
    double *pval = NULL, *row = NULL;
    size_t total = 0;
    int rc = -1;
    if (!start)
        goto oom;
    for (size_t i = 0; i < n; i++)
        for (const struct svm_node *x = t->x[i]; x->index != -1; x++) {
            start[x->index - 1]++;
            total++;
        }
    uint32_t acc = 0;
    for (uint32_t f = 0; f <= dim; f++) {
        uint32_t c = f < dim ? start[f] : 0;
        start[f] = acc;
        acc += c;
    }
    pdoc = malloc((total ? total : 1) * sizeof(*pdoc));
    pval = malloc((total ? total : 1) * sizeof(*pval));
    row = calloc(n ? n : 1, sizeof(*row));
    t->gram = malloc((n ? n : 1) * (n + 2) * sizeof(*t->gram));
    if (!pdoc || !pval || !row || !t->gram)
        goto oom;
    {
        uint32_t *fill = malloc((dim ? (size_t)dim : 1) * sizeof(*fill));
        if (!fill)
            goto oom;
        memcpy(fill, start, (size_t)dim * sizeof(*fill));
        for (size_t i = 0; i < n; i++)
            for (const struct svm_node *x = t->x[i]; x->index != -1; x++) {
                uint32_t q = fill[x->index - 1]++;
                pdoc[q] = (uint32_t)i;
                pval[q] = x->value;
            }
        free(fill);
    }
    for (size_t i = 0; i < n; i++) {
        struct svm_node *gi = t->gram + i * (n + 2);
        gi[0].index = 0;
        gi[0].value = (double)(i + 1);
        gi[n + 1].index = -1;
        gi[n + 1].value = 0;
        for (const struct svm_node *x = t->x[i]; x->index != -1; x++) {
            uint32_t f = (uint32_t)x->index - 1;
            double xv = x->value;
            for (uint32_t q = start[f]; q < start[f + 1] && pdoc[q] <= i; q++)
                row[pdoc[q]] += xv * pval[q];
        }
        for (size_t j = 0; j <= i; j++) {
            gi[j + 1].index = (int)(j + 1);
            gi[j + 1].value = row[j];
            struct svm_node *gj = t->gram + j * (n + 2);
            gj[i + 1].index = (int)(i + 1);
            gj[i + 1].value = row[j];
            row[j] = 0;
        }
    }
    logf_(t, "linear kernel matrix %zu x %zu computed from %zu postings", n, n, total);
    rc = 0;
    goto out;
oom:
    snprintf(err, errlen, "out of memory while computing the kernel matrix (%zu articles)", n);
out:
    free(start);
    free(pdoc);
    free(pval);
    free(row);
    return rc;
}

static void quiet(const char *s)
{
    (void)s;
}

/* Trains one binary model on the documents whose fold != skip (skip < 0: all). */
static struct svm_model *train_one(const struct trainer *t, size_t label, double C, long skip,
                                   struct svm_problem *prob, size_t *docs)
{
    const struct corpus *c = &t->cp;
    size_t n = 0, pos = 0;
    size_t cap = c->n ? c->n : 1;
    prob->y = malloc(cap * sizeof(double));
    prob->x = malloc(cap * sizeof(struct svm_node *));
    if (!prob->y || !prob->x)
        return NULL;
    for (size_t i = 0; i < c->n; i++) {
        if (skip >= 0 && c->docs[i].fold == (unsigned)skip)
            continue;
        int y = (int)(c->docs[i].labels >> label & 1);
        prob->y[n] = y ? 1.0 : -1.0;
        prob->x[n] = t->gram + i * (c->n + 2);
        docs[n] = i;
        pos += (size_t)y;
        n++;
    }
    prob->l = (int)n;
    if (pos == 0 || pos == n)
        return NULL;
    static int wl[2] = {1, -1};
    double w[2] = {(double)n / (2.0 * (double)pos), (double)n / (2.0 * (double)(n - pos))};
    struct svm_parameter p;
    memset(&p, 0, sizeof(p));
    p.svm_type = C_SVC;
    p.kernel_type = PRECOMPUTED;
    p.cache_size = 1024;
    p.eps = t->o->eps > 0 ? t->o->eps : 0.001;
    p.C = C;
    p.nr_weight = 2;
    p.weight_label = wl;
    p.weight = w;
    p.shrinking = 1;
    p.probability = 0;
    if (svm_check_parameter(prob, &p))
        return NULL;
    return svm_train(prob, &p);
}

/* w and b of a model trained on the precomputed kernel, over the feature vectors. */
static int collapse(const struct trainer *t, const struct svm_model *m, const size_t *docs,
                    nc_linear *lin)
{
    double sign = m->label[0] == 1 ? 1.0 : -1.0;
    size_t L = lin->nlabels;
    for (int k = 0; k < m->l; k++) {
        double coef = m->sv_coef[0][k] * sign;
        for (const struct svm_node *x = t->x[docs[m->sv_indices[k] - 1]]; x->index != -1; x++)
            lin->w[(size_t)(x->index - 1) * L] += coef * x->value;
    }
    lin->b[0] = -m->rho[0] * sign;
    return 0;
}

/*
 * Writes a label's model as a linear-kernel libsvm file. Compact form (the
 * default): the support vectors folded into one, w, with coefficient 1 --
 * the same decision function in a file a few hundred times smaller. Full
 * form: libsvm's own support vectors and coefficients.
 */
static int save_model(const struct trainer *t, struct svm_model *m, const size_t *docs,
                      const char *path)
{
    struct svm_model out = *m;
    out.param.kernel_type = LINEAR;
    out.sv_indices = NULL;
    out.free_sv = 0;
    int rc;
    if (t->o->full_sv) {
        out.SV = malloc((size_t)m->l * sizeof(struct svm_node *));
        if (!out.SV)
            return -1;
        for (int k = 0; k < m->l; k++)
            out.SV[k] = t->x[docs[m->sv_indices[k] - 1]];
        rc = svm_save_model(path, &out);
        free(out.SV);
        return rc;
    }
    nc_linear lin;
    if (nc_linear_init(&lin, 1, nc_featurizer_dim(t->feat)) != 0)
        return -1;
    collapse(t, m, docs, &lin);
    size_t nz = 0;
    for (uint32_t i = 0; i < lin.dim; i++)
        nz += lin.w[i] != 0.0;
    struct svm_node *w = malloc((nz + 1) * sizeof(*w));
    if (!w) {
        nc_linear_release(&lin);
        return -1;
    }
    size_t q = 0;
    for (uint32_t i = 0; i < lin.dim; i++)
        if (lin.w[i] != 0.0) {
            w[q].index = (int)i + 1;
            w[q++].value = lin.w[i];
        }
    w[q].index = -1;
    w[q].value = 0;
    int labels[2] = {1, -1}, nsv[2] = {1, 0};
    double coef1 = 1.0, rho = -lin.b[0];
    double *coef[1] = {&coef1};
    struct svm_node *sv[1] = {w};
    out.l = 1;
    out.SV = sv;
    out.sv_coef = coef;
    out.rho = &rho;
    out.label = labels;
    out.nSV = nsv;
    out.probA = out.probB = NULL;
    rc = svm_save_model(path, &out);
    free(w);
    nc_linear_release(&lin);
    return rc;
}

/* Runs in a forked worker. Returns the process exit status. */
static int run_job(const struct trainer *t, const struct job *j)
{
    svm_set_print_string_function(quiet);
    const struct corpus *c = &t->cp;
    double C = t->o->c_grid[j->c];
    struct svm_problem prob = {0};
    struct svm_model *m = NULL;
    nc_linear lin = {0};
    nc_fscratch *s = NULL;
    struct nc_svec v = {0};
    int rc = 2;
    size_t *docs = malloc((c->n ? c->n : 1) * sizeof(*docs));
    if (!docs)
        goto out;
    m = train_one(t, j->label, C, j->kind == 0 ? (long)j->fold : -1, &prob, docs);
    if (!m)
        goto out;
    if (j->kind == 1) {
        char path[4096];
        snprintf(path, sizeof(path), "%s/%s.svm", t->o->out_dir, c->labels[j->label]);
        rc = save_model(t, m, docs, path) == 0 ? 0 : 3;
        goto out;
    }
    rc = 4;
    if (nc_linear_init(&lin, 1, nc_featurizer_dim(t->feat)) != 0)
        goto out;
    collapse(t, m, docs, &lin);
    if (nc_linear_pack(&lin, t->feat) != 0 || !(s = nc_fscratch_new(t->feat)))
        goto out;
    double *oof = t->oof + (j->label * t->o->nc + j->c) * c->n;
    rc = 6;
    for (size_t i = 0; i < c->n; i++) {
        const struct doc *d = &c->docs[i];
        if (d->fold != j->fold)
            continue;
        double dec;
        if (nc_linear_score(&lin, t->feat, s, &v, d->title, d->tlen, d->body, d->blen, &dec) != 0)
            goto out;
        oof[i] = dec;
    }
    rc = 0;
out:
    if (m)
        svm_free_and_destroy_model(&m);
    free(prob.x);
    free(prob.y);
    free(docs);
    nc_linear_release(&lin);
    nc_fscratch_free(s);
    nc_svec_release(&v);
    return rc;
}

/* Runs jobs on up to o->jobs forked workers. */
static int run_jobs(struct trainer *t, const struct job *jobs, size_t njobs, char *err,
                    size_t errlen)
{
    int width = t->o->jobs > 0 ? t->o->jobs : (int)sysconf(_SC_NPROCESSORS_ONLN);
    if (width < 1)
        width = 1;
    pid_t *pids = calloc(njobs ? njobs : 1, sizeof(*pids));
    double *start = calloc(njobs ? njobs : 1, sizeof(*start));
    size_t next = 0, done = 0, running = 0;
    int failed = 0;
    if (!pids || !start) {
        free(pids);
        free(start);
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    fflush(NULL);
    while (done < njobs) {
        while (!failed && next < njobs && running < (size_t)width) {
            pid_t pid = fork();
            if (pid < 0) {
                snprintf(err, errlen, "fork: %s", strerror(errno));
                failed = 1;
                break;
            }
            if (pid == 0)
                _exit(run_job(t, &jobs[next]));
            pids[next] = pid;
            start[next] = nc_now();
            next++;
            running++;
        }
        if (running == 0)
            break;
        int status;
        pid_t pid = waitpid(-1, &status, 0);
        if (pid < 0) {
            if (errno == EINTR)
                continue;
            snprintf(err, errlen, "waitpid: %s", strerror(errno));
            failed = 1;
            break;
        }
        size_t k = 0;
        while (k < next && pids[k] != pid)
            k++;
        if (k == next)
            continue;
        running--;
        done++;
        const struct job *j = &jobs[k];
        if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
            snprintf(err, errlen, "training worker for label \"%s\" failed (status %d)",
                     t->cp.labels[j->label], status);
            failed = 1;
            for (size_t q = 0; q < next; q++)
                if (pids[q] > 0 && q != k)
                    kill(pids[q], SIGTERM);
        }
        pids[k] = -1;
        if (j->kind == 0)
            logf_(t, "cv %-12s C=%-5g fold %zu/%d  %5.1fs  (%zu/%zu jobs)", t->cp.labels[j->label],
                  t->o->c_grid[j->c], j->fold + 1, t->o->folds, nc_now() - start[k], done, njobs);
        else
            logf_(t, "final %-12s C=%-5g  %5.1fs", t->cp.labels[j->label], t->o->c_grid[j->c],
                  nc_now() - start[k]);
    }
    while (running > 0) {
        int status;
        if (waitpid(-1, &status, 0) < 0 && errno != EINTR)
            break;
        running--;
    }
    free(pids);
    free(start);
    return failed ? -1 : 0;
}

struct label_result {
    size_t c;
    struct nc_platt platt;
    double threshold, f1, f1_half, f1_tuned_cv, precision, recall;
    double grid_f1[NC_TRAIN_MAX_C];
};

/*
 * Calibrates the out-of-fold decisions of one (label, C): a Platt sigmoid,
 * then the threshold. A threshold tuned on the same scores it is judged on
 * looks better than it is, so tuning is itself cross-validated: for each
 * fold, the F1-best threshold of the other folds is applied to that fold. The
 * tuned threshold is kept only when that honest F1 beats the plain 0.5 by at
 * least o->threshold_margin (on the shipped corpus, smaller gains did not
 * carry over to the dev set).
 */
static void calibrate(const struct trainer *t, size_t label, size_t c, struct label_result *r)
{
    size_t n = t->cp.n;
    const double *dec = t->oof + (label * t->o->nc + c) * n;
    unsigned char *truth = malloc(n), *sub_t = malloc(n);
    double *prob = malloc(n * sizeof(*prob)), *sub_p = malloc(n * sizeof(*sub_p));
    r->f1 = -1;
    if (!truth || !prob || !sub_t || !sub_p)
        goto out;
    for (size_t i = 0; i < n; i++)
        truth[i] = (unsigned char)(t->cp.docs[i].labels >> label & 1);
    nc_platt_fit(dec, truth, n, &r->platt);
    for (size_t i = 0; i < n; i++)
        prob[i] = nc_platt_prob(&r->platt, dec[i]);
    double tuned_f1;
    double tuned = nc_best_threshold(prob, truth, n, &tuned_f1, &r->f1_half);
    size_t tp = 0, fp = 0, fn = 0;
    for (unsigned f = 0; f < (unsigned)t->o->folds; f++) {
        size_t m = 0;
        for (size_t i = 0; i < n; i++)
            if (t->cp.docs[i].fold != f) {
                sub_p[m] = prob[i];
                sub_t[m++] = truth[i];
            }
        double f1o, f1h;
        double th = nc_best_threshold(sub_p, sub_t, m, &f1o, &f1h);
        for (size_t i = 0; i < n; i++) {
            if (t->cp.docs[i].fold != f)
                continue;
            int on = prob[i] >= th;
            tp += (size_t)(on && truth[i]);
            fp += (size_t)(on && !truth[i]);
            fn += (size_t)(!on && truth[i]);
        }
    }
    r->f1_tuned_cv = nc_f1(tp, fp, fn);
    r->threshold = r->f1_tuned_cv >= r->f1_half + t->o->threshold_margin ? tuned : 0.5;
    tp = fp = fn = 0;
    for (size_t i = 0; i < n; i++) {
        int on = prob[i] >= r->threshold;
        tp += (size_t)(on && truth[i]);
        fp += (size_t)(on && !truth[i]);
        fn += (size_t)(!on && truth[i]);
    }
    r->f1 = nc_f1(tp, fp, fn);
    r->precision = tp + fp ? (double)tp / (double)(tp + fp) : 0;
    r->recall = tp + fn ? (double)tp / (double)(tp + fn) : 0;
    r->c = c;
out:
    free(truth);
    free(prob);
    free(sub_t);
    free(sub_p);
}

static int write_df(const struct trainer *t, char *hash, char *err, size_t errlen)
{
    uint32_t dim = nc_featurizer_dim(t->feat);
    const uint32_t *df = nc_featurizer_df(t->feat);
    size_t cap = 64 + (size_t)dim * 2, len = 0;
    char *buf = NULL;
    for (uint32_t i = 0; i < dim; i++)
        cap += df[i] ? 24 : 0;
    buf = malloc(cap);
    if (!buf) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    len += (size_t)snprintf(buf + len, cap - len, "%s %u %u\n", NC_DF_MAGIC, dim,
                            nc_featurizer_ndocs(t->feat));
    for (uint32_t i = 0; i < dim; i++)
        if (df[i])
            len += (size_t)snprintf(buf + len, cap - len, "%u\t%u\n", i, df[i]);
    nc_hash_hex(buf, len, hash);
    char path[4096];
    snprintf(path, sizeof(path), "%s/%s", t->o->out_dir, NC_DF_FILE);
    int rc = nc_write_file(path, buf, len, err, errlen);
    free(buf);
    return rc;
}

static int file_hash(const char *dir, const char *file, char *hash, char *err, size_t errlen)
{
    char path[4096], *data;
    size_t len;
    snprintf(path, sizeof(path), "%s/%s", dir, file);
    if (nc_read_file(path, &data, &len, (size_t)1 << 31, err, errlen) != 0)
        return -1;
    nc_hash_hex(data, len, hash);
    free(data);
    return 0;
}

static double round4(double x)
{
    return round(x * 10000.0) / 10000.0;
}

static int write_manifest(const struct trainer *t, const struct label_result *res,
                          const char *df_hash, char *err, size_t errlen)
{
    const struct nc_train_opts *o = t->o;
    const struct nc_feature_settings *fs = nc_featurizer_settings(t->feat);
    time_t now = nc_build_time();
    struct tm tm;
    gmtime_r(&now, &tm);
    char created[40], date[16], version[160];
    strftime(created, sizeof(created), "%Y-%m-%dT%H:%M:%SZ", &tm);
    strftime(date, sizeof(date), "%Y.%m.%d", &tm);
    snprintf(version, sizeof(version), "%s-%s-%.8s", o->name, date, t->cp.data_hash);

    json_t *root = json_object();
    json_object_set_new(root, "format", json_string(NC_MODEL_FORMAT));
    json_object_set_new(root, "format_version", json_integer(NC_MODEL_FORMAT_VERSION));
    json_object_set_new(root, "name", json_string(o->name));
    json_object_set_new(root, "version", json_string(version));
    json_object_set_new(root, "created", json_string(created));
    json_object_set_new(root, "languages", json_pack("[s]", o->language));

    json_t *labels = json_array();
    double macro = 0, macro_half = 0;
    for (size_t k = 0; k < t->cp.nlabels; k++) {
        const struct label_result *r = &res[k];
        char file[128], sha[17];
        snprintf(file, sizeof(file), "%s.svm", t->cp.labels[k]);
        if (file_hash(o->out_dir, file, sha, err, errlen) != 0) {
            json_decref(root);
            json_decref(labels);
            return -1;
        }
        json_t *grid = json_object();
        for (size_t c = 0; c < o->nc && o->folds > 1; c++) {
            char key[32];
            snprintf(key, sizeof(key), "%g", o->c_grid[c]);
            json_object_set_new(grid, key, json_real(round4(r->grid_f1[c])));
        }
        json_t *lj = json_pack("{s:s,s:s,s:s,s:f,s:{s:f,s:f},s:f}", "name", t->cp.labels[k], "file",
                               file, "sha", sha, "threshold", r->threshold, "platt", "A",
                               r->platt.A, "B", r->platt.B, "C", o->c_grid[r->c]);
        size_t support = 0;
        for (size_t i = 0; i < t->cp.n; i++)
            support += t->cp.docs[i].labels >> k & 1;
        json_object_set_new(lj, "training_support", json_integer((json_int_t)support));
        if (o->folds > 1) {
            json_object_set_new(lj, "cv", json_pack("{s:f,s:f,s:f,s:f,s:o}", "f1", round4(r->f1),
                                                    "precision", round4(r->precision), "recall",
                                                    round4(r->recall), "f1_at_0.5",
                                                    round4(r->f1_half), "f1_by_C", grid));
            json_object_set_new(json_object_get(lj, "cv"), "f1_tuned_threshold_nested",
                                json_real(round4(r->f1_tuned_cv)));
        } else {
            json_decref(grid);
        }
        json_array_append_new(labels, lj);
        macro += r->f1;
        macro_half += r->f1_half;
    }
    json_object_set_new(root, "labels", labels);

    json_t *sw = json_array();
    for (size_t i = 0; i < fs->nstopwords; i++)
        json_array_append_new(sw, json_string(fs->stopwords[i]));
    json_t *feat = json_pack("{s:s,s:s,s:s,s:s,s:s,s:i,s:i}", "featurizer", NC_FEATURIZER_ID,
                             "hash", NC_HASH_NAME, "tf", NC_TF_NAME, "idf", NC_IDF_NAME, "norm",
                             NC_NORM_NAME, "word_bits", (int)fs->word_bits, "word_ngram_max",
                             (int)fs->word_ngram_max);
    if (fs->char_min) {
        json_object_set_new(feat, "char_ngrams",
                            json_pack("[i,i]", (int)fs->char_min, (int)fs->char_max));
        json_object_set_new(feat, "char_bits", json_integer(fs->char_bits));
    } else {
        json_object_set_new(feat, "char_ngrams", json_null());
    }
    json_object_set_new(feat, "min_df", json_integer(fs->min_df));
    json_object_set_new(feat, "title_weight", json_real(fs->title_weight));
    if (fs->passage_words)
        json_object_set_new(feat, "passages",
                            json_pack("{s:i,s:i,s:i}", "words", (int)fs->passage_words, "stride",
                                      (int)fs->passage_stride, "min_words",
                                      (int)fs->passage_min_words));
    else
        json_object_set_new(feat, "passages", json_null());
    json_object_set_new(feat, "strip_html", json_boolean(fs->strip_html));
    json_object_set_new(feat, "stopwords", sw);
    json_object_set_new(feat, "df_file", json_string(NC_DF_FILE));
    json_object_set_new(feat, "df_sha", json_string(df_hash));
    json_object_set_new(root, "features", feat);

    json_t *files = json_array();
    for (size_t f = 0; f < o->ndata; f++) {
        const char *base = strrchr(o->data[f], '/');
        json_array_append_new(files, json_string(base ? base + 1 : o->data[f]));
    }
    json_t *grid = json_array();
    for (size_t c = 0; c < o->nc; c++)
        json_array_append_new(grid, json_real(o->c_grid[c]));
    json_object_set_new(root, "training",
                        json_pack("{s:o,s:s,s:I,s:i,s:o,s:s,s:f}", "files", files, "data_sha",
                                  t->cp.data_hash, "documents", (json_int_t)t->cp.n, "folds",
                                  o->folds, "C_grid", grid, "class_weight", "balanced", "eps",
                                  o->eps > 0 ? o->eps : 0.001));
    json_object_set_new(json_object_get(root, "training"), "threshold_margin",
                        json_real(o->threshold_margin));
    json_object_set_new(json_object_get(root, "training"), "svm_files",
                        json_string(o->full_sv ? "full" : "compact"));
    if (o->folds > 1)
        json_object_set_new(root, "cv", json_pack("{s:f,s:f}", "macro_f1",
                                                  round4(macro / (double)t->cp.nlabels),
                                                  "macro_f1_at_0.5",
                                                  round4(macro_half / (double)t->cp.nlabels)));
    char *s = json_dumps(root, JSON_INDENT(2) | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(10));
    json_decref(root);
    if (!s) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    size_t len = strlen(s);
    char *withnl = realloc(s, len + 2);
    if (!withnl) {
        free(s);
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    withnl[len] = '\n';
    withnl[len + 1] = '\0';
    char path[4096];
    snprintf(path, sizeof(path), "%s/%s", o->out_dir, NC_MANIFEST_FILE);
    int rc = nc_write_file(path, withnl, len + 1, err, errlen);
    free(withnl);
    return rc;
}

int nc_train(const struct nc_train_opts *o, char *err, size_t errlen)
{
    struct trainer t;
    memset(&t, 0, sizeof(t));
    t.o = o;
    t.t0 = nc_now();
    t.oof = MAP_FAILED;
    struct job *jobs = NULL;
    struct label_result res[NC_LINEAR_MAX_LABELS];
    int rc = -1;
    memset(res, 0, sizeof(res));
    if (o->nc == 0 || o->nc > NC_TRAIN_MAX_C || o->ndata == 0 || !o->out_dir ||
        !nc_valid_name(o->name)) {
        snprintf(err, errlen, "bad training options (need data, an output directory, a valid "
                              "name and 1..%d C values)", NC_TRAIN_MAX_C);
        return -1;
    }
    for (size_t c = 0; c < o->nc; c++)
        if (!(o->c_grid[c] > 0)) {
            snprintf(err, errlen, "C values must be positive");
            return -1;
        }
    if (mkdir(o->out_dir, 0755) != 0 && errno != EEXIST) {
        snprintf(err, errlen, "%s: %s", o->out_dir, strerror(errno));
        return -1;
    }
    if (read_corpus(&t, err, errlen) != 0)
        goto out;
    logf_(&t, "read %zu labeled articles, %zu labels, data %s", t.cp.n, t.cp.nlabels,
          t.cp.data_hash);
    if (!(t.feat = nc_featurizer_new(&o->features, err, errlen)))
        goto out;
    if (build_vectors(&t, err, errlen) != 0 || build_gram(&t, err, errlen) != 0)
        goto out;

    size_t L = t.cp.nlabels, n = t.cp.n;
    if (o->folds > 1) {
        t.oof_bytes = L * o->nc * n * sizeof(double);
        t.oof = mmap(NULL, t.oof_bytes, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
        if (t.oof == MAP_FAILED) {
            snprintf(err, errlen, "mmap: %s", strerror(errno));
            goto out;
        }
        size_t njobs = L * o->nc * (size_t)o->folds, q = 0;
        jobs = calloc(njobs, sizeof(*jobs));
        if (!jobs) {
            snprintf(err, errlen, "out of memory");
            goto out;
        }
        /* Largest C first: they take longest, which keeps the workers busy at the end. */
        for (size_t c = o->nc; c-- > 0;)
            for (size_t k = 0; k < L; k++)
                for (size_t f = 0; f < (size_t)o->folds; f++)
                    jobs[q++] = (struct job){0, k, c, f};
        logf_(&t, "cross-validation: %zu labels x %zu C values x %d folds = %zu trainings", L,
              o->nc, o->folds, njobs);
        if (run_jobs(&t, jobs, njobs, err, errlen) != 0)
            goto out;
        for (size_t k = 0; k < L; k++) {
            struct label_result best = {0};
            best.f1 = -1;
            double grid[NC_TRAIN_MAX_C] = {0};
            for (size_t c = 0; c < o->nc; c++) {
                struct label_result r;
                memset(&r, 0, sizeof(r));
                calibrate(&t, k, c, &r);
                grid[c] = r.f1;
                if (r.f1 > best.f1 + 1e-9)
                    best = r;
            }
            memcpy(best.grid_f1, grid, sizeof(grid));
            res[k] = best;
            logf_(&t,
                  "cv %-12s best C=%g  F1 %.4f (P %.4f R %.4f) at threshold %.2f (F1 at 0.5: "
                  "%.4f, with a cross-validated tuned threshold: %.4f)",
                  t.cp.labels[k], o->c_grid[best.c], best.f1, best.precision, best.recall,
                  best.threshold, best.f1_half, best.f1_tuned_cv);
        }
        free(jobs);
        jobs = NULL;
    } else {
        for (size_t k = 0; k < L; k++) {
            res[k].c = 0;
            res[k].platt.A = -2.0; /* a fixed sigmoid: decision 0 -> 0.5 */
            res[k].platt.B = 0.0;
            res[k].threshold = 0.5;
        }
    }
    jobs = calloc(L ? L : 1, sizeof(*jobs));
    if (!jobs) {
        snprintf(err, errlen, "out of memory");
        goto out;
    }
    for (size_t k = 0; k < L; k++)
        jobs[k] = (struct job){1, k, res[k].c, 0};
    if (run_jobs(&t, jobs, L, err, errlen) != 0)
        goto out;
    char df_hash[17];
    if (write_df(&t, df_hash, err, errlen) != 0 || write_manifest(&t, res, df_hash, err, errlen) != 0)
        goto out;
    logf_(&t, "model written to %s", o->out_dir);
    rc = 0;
out:
    free(jobs);
    if (t.oof != MAP_FAILED)
        munmap(t.oof, t.oof_bytes);
    free(t.pool);
    free(t.gram);
    free(t.x);
    nc_featurizer_free(t.feat);
    corpus_release(&t.cp);
    return rc;
}
