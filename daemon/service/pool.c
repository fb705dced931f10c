/*
 * pool.c - the classification workers: limits.workers threads that take
 * jobs from a ring in dispatch order and classify them (classify.c), and the
 * pipeline thread's side of the hand-off: submitting a job and waiting for
 * one to be classified. With no workers, jobs are classified inline on the
 * pipeline thread.
 *
 * A job's classification results are written by its worker before
 * `classified` is set under the pool lock; the pipeline thread reads them
 * only after seeing `classified` under the same lock.
 */
#include <stdio.h>
#include <stdlib.h>

#include "base/clock.h"
#include "service/pipeline_int.h"

/* Classifies j with w's scratch and times it. */
static void classify_timed(const nc_pipeline *p, struct wctx *w, struct job *j)
{
    double t0 = nc_now();
    classify_job(p, w, j);
    nc_metrics_classify_seconds(p->metrics, nc_now() - t0);
}

static void *worker_main(void *arg)
{
    struct pool *pl = arg;
    struct wctx w = {0};

    w.art = nc_article_new();
    for (;;) {
        struct job *j;
        pthread_mutex_lock(&pl->mu);
        while (!pl->quit && pl->count == 0) {
            pl->idle++;
            pthread_cond_wait(&pl->work_cv, &pl->mu);
            pl->idle--;
        }
        if (pl->quit && pl->count == 0) {
            pthread_mutex_unlock(&pl->mu);
            break;
        }
        j = pl->q[pl->head];
        pl->head = (pl->head + 1) % pl->cap;
        pl->count--;
        pthread_mutex_unlock(&pl->mu);

        classify_timed(pl->p, &w, j);

        pthread_mutex_lock(&pl->mu);
        j->classified = 1;
        /* Wake-ups cost more than classifying on a small machine: only
         * when someone waits. */
        if (pl->main_waiting)
            pthread_cond_signal(&pl->done_cv);
        pthread_mutex_unlock(&pl->mu);
    }
    wctx_clear(&w);
    return NULL;
}

int pool_start(nc_pipeline *p, size_t nthreads, size_t cap, char *err, size_t errlen)
{
    struct pool *pl = &p->pool;

    pl->p = p;
    pl->cap = cap;
    pl->q = calloc(cap, sizeof(struct job *));
    pl->threads = calloc(nthreads, sizeof(*pl->threads));
    if (!pl->q || !pl->threads) {
        free(pl->q);
        free(pl->threads);
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    pthread_mutex_init(&pl->mu, NULL);
    pthread_cond_init(&pl->work_cv, NULL);
    pthread_cond_init(&pl->done_cv, NULL);
    p->use_pool = 1;
    for (size_t i = 0; i < nthreads; i++) {
        if (pthread_create(&pl->threads[i], NULL, worker_main, pl) != 0) {
            snprintf(err, errlen, "cannot start worker threads");
            return -1;
        }
        pl->nthreads++;
    }
    return 0;
}

void pool_stop(nc_pipeline *p)
{
    struct pool *pl = &p->pool;
    if (!p->use_pool)
        return;
    pthread_mutex_lock(&pl->mu);
    pl->quit = 1;
    pthread_cond_broadcast(&pl->work_cv);
    pthread_mutex_unlock(&pl->mu);
    for (size_t i = 0; i < pl->nthreads; i++)
        pthread_join(pl->threads[i], NULL);
    pthread_cond_destroy(&pl->done_cv);
    pthread_cond_destroy(&pl->work_cv);
    pthread_mutex_destroy(&pl->mu);
    free(pl->threads);
    free(pl->q);
    p->use_pool = 0;
}

void pool_submit(nc_pipeline *p, struct job *j)
{
    struct pool *pl = &p->pool;

    if (!p->use_pool) {
        classify_timed(p, &p->inline_ctx, j);
        j->classified = 1;
        return;
    }
    pthread_mutex_lock(&pl->mu);
    pl->q[(pl->head + pl->count) % pl->cap] = j;
    pl->count++;
    if (pl->idle > 0)
        pthread_cond_signal(&pl->work_cv);
    pthread_mutex_unlock(&pl->mu);
}

int pool_ready(nc_pipeline *p, struct job *j, int wait)
{
    struct pool *pl = &p->pool;
    int ready;

    if (!p->use_pool)
        return 1; /* classified at dispatch */
    pthread_mutex_lock(&pl->mu);
    while (!j->classified && wait) {
        pl->main_waiting = 1;
        pthread_cond_wait(&pl->done_cv, &pl->mu);
        pl->main_waiting = 0;
    }
    ready = j->classified;
    pthread_mutex_unlock(&pl->mu);
    return ready;
}
