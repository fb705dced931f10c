/*
 * process.c - a Kafka process's configuration and signal flags (see
 * process.h).
 */
#include "kafka/process.h"

#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static volatile sig_atomic_t stop_flag;
/* Set once the process has stopped cleanly: later signals change nothing. */
static volatile sig_atomic_t done_flag;
/* When the first stop signal arrived (CLOCK_MONOTONIC), for SAME_REQUEST_MS. */
static struct timespec first_stop;
static volatile sig_atomic_t reload_flag;
/* Written once by nc_signals_install before the handlers exist. */
static char second_msg[128];
static size_t second_len;

nc_config *nc_process_config(const char *path, const char *fallback, int embedded,
                             const char *const *sets, size_t nsets, char *err, size_t errlen)
{
    nc_config *cfg = NULL;

    if (!path && fallback && access(fallback, R_OK) == 0)
        path = fallback;
    if (path) {
        if (nc_config_load(path, &cfg, err, errlen) != 0)
            return NULL;
    } else if (!(cfg = nc_config_new_defaults())) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    if (embedded && nc_config_set(cfg, "kafka.brokers=embedded", err, errlen) != 0)
        goto fail;
    if (nc_config_set_all(cfg, sets, nsets, err, errlen) != 0)
        goto fail;
    if (nc_config_validate(cfg, err, errlen) != 0)
        goto fail;
    return cfg;
fail:
    nc_config_free(cfg);
    return NULL;
}

/* Signals this close together are one request: timeout(1), and supervisors
 * that signal both a process and its group, deliver the same SIGTERM twice. */
#define SAME_REQUEST_MS 100

static long long ms_since(const struct timespec *t)
{
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now); /* async-signal-safe */
    return (long long)(now.tv_sec - t->tv_sec) * 1000 + (now.tv_nsec - t->tv_nsec) / 1000000;
}

static void on_stop(int sig)
{
    (void)sig;
    if (done_flag)
        return; /* stopped cleanly already: nothing left to cut short */
    if (stop_flag && second_len) {
        if (ms_since(&first_stop) < SAME_REQUEST_MS)
            return;
        /* Second signal: the operator wants out now. Nothing is committed
         * past unacknowledged output, so this loses nothing. write and
         * _exit are async-signal-safe. */
        ssize_t w = write(STDERR_FILENO, second_msg, second_len);
        (void)w;
        _exit(130);
    }
    if (!stop_flag)
        clock_gettime(CLOCK_MONOTONIC, &first_stop);
    stop_flag = 1;
}

void nc_signals_done(void)
{
    done_flag = 1;
}

static void on_hup(int sig)
{
    (void)sig;
    reload_flag = 1;
}

void nc_signals_install(const char *name, int flags)
{
    struct sigaction sa;

    if (flags & NC_SIGNALS_SECOND_EXIT) {
        snprintf(second_msg, sizeof(second_msg), "%s: second signal, exiting now\n", name);
        second_len = strlen(second_msg);
    }
    memset(&sa, 0, sizeof(sa));
    sigemptyset(&sa.sa_mask);
    sa.sa_handler = on_stop;
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    if (flags & NC_SIGNALS_RELOAD) {
        sa.sa_handler = on_hup;
        sigaction(SIGHUP, &sa, NULL);
    }
    if (flags & NC_SIGNALS_NO_SIGPIPE) {
        sa.sa_handler = SIG_IGN;
        sigaction(SIGPIPE, &sa, NULL);
    }
}

volatile sig_atomic_t *nc_signals_stop(void)
{
    return &stop_flag;
}

volatile sig_atomic_t *nc_signals_reload(void)
{
    return &reload_flag;
}
