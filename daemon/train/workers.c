/*
 * workers.c - the SVM trainings, each in a forked worker process (libsvm is
 * not thread-safe): one binary C-SVC per job on the precomputed kernel
 * (vectors.c), classes weighted to balance them.
 *
 *   cross-validation  (label, C, fold f): trained without fold f, scores the
 *                     documents of fold f into t->oof
 *   fold pair         (label, C, folds f < g): trained without both, scores
 *                     the documents of f and g into t->inner (for nested
 *                     cross-validation: they are out-of-fold scores inside
 *                     the training folds of outer folds g and f)
 *   final             (label, chosen C): trained on everything, written as
 *                     <label>.svm
 *
 * Scores go through the serving path (nc_linear_score: the document and
 * its passages). Workers write into shared memory, each into its own slots,
 * so the results do not depend on the order the jobs finish in.
 */
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <svm.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include "base/clock.h"
#include "train/trainer.h"

enum job_kind { JOB_CV, JOB_PAIR, JOB_FINAL };

struct job {
    enum job_kind kind;
    size_t label, c;
    long f, g; /* folds left out (-1: none) */
};

static void quiet(const char *s)
{
    (void)s;
}

/*
 * Trains one binary model on the documents whose fold is neither f nor g.
 * NULL on error, or with *single set to +1 or -1 when those documents are
 * all positive or all negative (possible in small folds).
 */
static struct svm_model *train_one(const struct trainer *t, const struct job *j,
                                   struct svm_problem *prob, size_t *docs, int *single)
{
    const struct corpus *c = &t->cp;
    size_t n = 0, pos = 0;
    size_t cap = c->n ? c->n : 1;
    *single = 0;
    prob->y = malloc(cap * sizeof(double));
    prob->x = malloc(cap * sizeof(struct svm_node *));
    if (!prob->y || !prob->x)
        return NULL;
    for (size_t i = 0; i < c->n; i++) {
        long fold = (long)c->docs[i].fold;
        if (fold == j->f || fold == j->g)
            continue;
        int y = (int)(c->docs[i].labels >> j->label & 1);
        prob->y[n] = y ? 1.0 : -1.0;
        prob->x[n] = t->gram + i * (c->n + 2);
        docs[n] = i;
        pos += (size_t)y;
        n++;
    }
    prob->l = (int)n;
    if (pos == 0 || pos == n) {
        *single = pos ? 1 : -1;
        return NULL;
    }
    static int wl[2] = {1, -1};
    double w[2] = {(double)n / (2.0 * (double)pos), (double)n / (2.0 * (double)(n - pos))};
    struct svm_parameter p;
    memset(&p, 0, sizeof(p));
    p.svm_type = C_SVC;
    p.kernel_type = PRECOMPUTED;
    p.cache_size = 1024;
    p.eps = t->o->eps > 0 ? t->o->eps : 0.001;
    p.C = t->o->c_grid[j->c];
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
static void collapse(const struct trainer *t, const struct svm_model *m, const size_t *docs,
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
}

/* libsvm's own support vectors, as a linear-kernel file over the feature vectors. */
static int save_full(const struct trainer *t, const struct svm_model *m, const size_t *docs,
                     const char *path)
{
    struct svm_model out = *m;
    out.param.kernel_type = LINEAR;
    out.sv_indices = NULL;
    out.free_sv = 0;
    out.SV = malloc((size_t)m->l * sizeof(struct svm_node *));
    if (!out.SV)
        return -1;
    for (int k = 0; k < m->l; k++)
        out.SV[k] = t->x[docs[m->sv_indices[k] - 1]];
    int rc = svm_save_model(path, &out);
    free(out.SV);
    return rc;
}

/*
 * Writes a label's model as a linear-kernel libsvm file. Compact form (the
 * default): the support vectors folded into one, w, with coefficient 1 --
 * the same decision function in a file a few hundred times smaller. Full
 * form (--full-sv): libsvm's own support vectors and coefficients.
 */
static int save_model(const struct trainer *t, const struct svm_model *m, const size_t *docs,
                      const char *path)
{
    if (t->o->full_sv)
        return save_full(t, m, docs, path);
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
    struct svm_model out = *m;
    int labels[2] = {1, -1}, nsv[2] = {1, 0};
    double coef1 = 1.0, rho = -lin.b[0];
    double *coef[1] = {&coef1};
    struct svm_node *sv[1] = {w};
    out.param.kernel_type = LINEAR;
    out.sv_indices = NULL;
    out.free_sv = 0;
    out.l = 1;
    out.SV = sv;
    out.sv_coef = coef;
    out.rho = &rho;
    out.label = labels;
    out.nSV = nsv;
    out.probA = out.probB = NULL;
    int rc = svm_save_model(path, &out);
    free(w);
    nc_linear_release(&lin);
    return rc;
}

/* Where document i's score of job j goes. */
static struct nc_label_score *slot_of(const struct trainer *t, const struct job *j, size_t i)
{
    size_t n = t->cp.n, base = (j->label * t->o->nc + j->c) * n + i;
    long fold = (long)t->cp.docs[i].fold;
    if (j->kind == JOB_CV)
        return fold == j->f ? &t->oof[base] : NULL;
    if (fold != j->f && fold != j->g)
        return NULL;
    return &t->inner[base * (size_t)t->o->folds + (size_t)(fold == j->f ? j->g : j->f)];
}

/* Scores the held-out documents of a cross-validation or fold-pair job. */
static int score_held_out(const struct trainer *t, const struct job *j, const nc_linear *lin)
{
    nc_fscratch *s = nc_fscratch_new(t->feat);
    struct nc_svec v = {0};
    struct nc_scores sc;
    int rc = s ? 0 : -1;
    for (size_t i = 0; i < t->cp.n && rc == 0; i++) {
        struct nc_label_score *out = slot_of(t, j, i);
        if (!out)
            continue;
        const struct doc *d = &t->cp.docs[i];
        rc = nc_linear_score(lin, t->feat, s, &v, d->title, d->tlen, d->body, d->blen, &sc);
        *out = sc.label[0];
    }
    nc_fscratch_free(s);
    nc_svec_release(&v);
    return rc;
}

/* Runs in a forked worker. Returns the process exit status. */
static int run_job(const struct trainer *t, const struct job *j)
{
    svm_set_print_string_function(quiet);
    const struct corpus *c = &t->cp;
    struct svm_problem prob = {0};
    struct svm_model *m = NULL;
    nc_linear lin = {0};
    int rc = 2, single;
    size_t *docs = malloc((c->n ? c->n : 1) * sizeof(*docs));
    if (!docs)
        goto out;
    m = train_one(t, j, &prob, docs, &single);
    if (!m && (j->kind == JOB_FINAL || !single))
        goto out;
    if (j->kind == JOB_FINAL) {
        char path[4096];
        snprintf(path, sizeof(path), "%s/%s.svm", t->o->out_dir, c->labels[j->label]);
        rc = save_model(t, m, docs, path) == 0 ? 0 : 3;
        goto out;
    }
    rc = 4;
    if (nc_linear_init(&lin, 1, nc_featurizer_dim(t->feat)) != 0)
        goto out;
    if (m)
        collapse(t, m, docs, &lin);
    else
        lin.b[0] = single; /* one class only: every score says so */
    if (nc_linear_pack(&lin, t->feat) != 0)
        goto out;
    rc = score_held_out(t, j, &lin) == 0 ? 0 : 6;
out:
    if (m)
        svm_free_and_destroy_model(&m);
    free(prob.x);
    free(prob.y);
    free(docs);
    nc_linear_release(&lin);
    return rc;
}

static void log_job(const struct trainer *t, const struct job *j, double secs, size_t done,
                    size_t njobs)
{
    const char *label = t->cp.labels[j->label];
    double C = t->o->c_grid[j->c];
    if (j->kind == JOB_FINAL)
        nc_trainer_log(t, "final %-12s C=%-5g  %5.1fs", label, C, secs);
    else if (j->kind == JOB_CV)
        nc_trainer_log(t, "cv %-12s C=%-5g fold %ld/%d       %5.1fs  (%zu/%zu jobs)", label, C,
                       j->f + 1, t->o->folds, secs, done, njobs);
    else
        nc_trainer_log(t, "cv %-12s C=%-5g folds %ld+%ld out  %5.1fs  (%zu/%zu jobs)", label, C,
                       j->f + 1, j->g + 1, secs, done, njobs);
}

/* Runs jobs on up to o->jobs forked workers. */
static int run_jobs(const struct trainer *t, const struct job *jobs, size_t njobs, char *err,
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
        log_job(t, j, nc_now() - start[k], done, njobs);
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

static void *shared_alloc(size_t bytes)
{
    void *p = mmap(NULL, bytes ? bytes : 1, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS,
                   -1, 0);
    return p == MAP_FAILED ? NULL : p;
}

int nc_run_cv(struct trainer *t, char *err, size_t errlen)
{
    const struct nc_train_opts *o = t->o;
    size_t L = t->cp.nlabels, n = t->cp.n, K = (size_t)o->folds;
    size_t pairs = o->nested && K >= 3 ? K * (K - 1) / 2 : 0;
    t->oof_bytes = L * o->nc * n * sizeof(*t->oof);
    if (!(t->oof = shared_alloc(t->oof_bytes)))
        goto mmap_failed;
    if (pairs) {
        t->inner_bytes = t->oof_bytes * K;
        if (!(t->inner = shared_alloc(t->inner_bytes)))
            goto mmap_failed;
    }
    size_t njobs = L * o->nc * (K + pairs), q = 0;
    struct job *jobs = calloc(njobs, sizeof(*jobs));
    if (!jobs) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    /* Largest C first: they take longest, which keeps the workers busy at the end. */
    for (size_t c = o->nc; c-- > 0;)
        for (size_t k = 0; k < L; k++) {
            for (long f = 0; f < (long)K; f++)
                jobs[q++] = (struct job){JOB_CV, k, c, f, -1};
            for (long f = 0; pairs && f < (long)K; f++)
                for (long g = f + 1; g < (long)K; g++)
                    jobs[q++] = (struct job){JOB_PAIR, k, c, f, g};
        }
    nc_trainer_log(t,
                   "cross-validation: %zu labels x %zu C values x (%zu folds + %zu fold pairs "
                   "for nested cross-validation) = %zu trainings",
                   L, o->nc, K, pairs, njobs);
    int rc = run_jobs(t, jobs, njobs, err, errlen);
    free(jobs);
    return rc;
mmap_failed:
    snprintf(err, errlen, "mmap: %s", strerror(errno));
    return -1;
}

int nc_run_final(struct trainer *t, const struct label_result *res, char *err, size_t errlen)
{
    size_t L = t->cp.nlabels;
    struct job *jobs = calloc(L ? L : 1, sizeof(*jobs));
    if (!jobs) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    for (size_t k = 0; k < L; k++)
        jobs[k] = (struct job){JOB_FINAL, k, res[k].c, -1, -1};
    int rc = run_jobs(t, jobs, L, err, errlen);
    free(jobs);
    return rc;
}
