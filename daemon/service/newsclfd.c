/*
 * newsclfd.c - the streaming daemon's main: arguments, configuration,
 * signals, the embedded broker, and the pipeline's lifecycle.
 *
 *   newsclfd [--config FILE] [--set KEY=VALUE]... [--embedded] [--pid-file FILE]
 *   newsclfd --check-config FILE [--set KEY=VALUE]...
 *   newsclfd --dump-config [--config FILE] [--set KEY=VALUE]...
 *
 * Signals only set flags (kafka/process.h): SIGTERM/SIGINT stop (drain,
 * flush, commit, close; a second one exits at once), SIGHUP reloads the
 * model and the reloadable config keys. A watchdog thread bounds the whole shutdown to
 * limits.shutdown_timeout_ms plus a grace period, so a vanished broker can
 * never make the daemon hang (nothing unacknowledged is committed anyway).
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "config/config.h"
#include "kafka/embedded.h"
#include "service/http.h"
#include "kafka/conf.h"
#include "kafka/process.h"
#include "base/log.h"
#include "service/check.h"
#include "service/metrics.h"
#include "service/notify.h"
#include "service/pipeline.h"
#include "base/clock.h"

#define WATCHDOG_GRACE_MS 5000
#define KAFKA_STATS_INTERVAL_MS 5000

#ifndef NEWSCLF_VERSION
#define NEWSCLF_VERSION "0.1.0"
#endif

struct args {
    const char *config;
    const char *check;
    const char *pid_file;
    const char **sets;
    size_t nsets;
    int embedded;
    int dump;
    int passthrough;
};

static void usage(FILE *f)
{
    fprintf(f,
            "usage: newsclfd [--config FILE] [--set KEY=VALUE]... [--embedded] [--pid-file FILE]\n"
            "       newsclfd --check-config FILE [--set KEY=VALUE]...\n"
            "       newsclfd --dump-config [--config FILE] [--set KEY=VALUE]...\n"
            "\n"
            "  --config FILE        YAML configuration (default: none is read, the built-in\n"
            "                       defaults apply; newsclf subscribe/reclassify alike)\n"
            "  --set KEY=VALUE      override one key, e.g. --set kafka.group=test\n"
            "  --embedded           run an in-process mock Kafka broker (for trying and\n"
            "                       testing only: it keeps ~5 MiB per partition)\n"
            "  --pid-file FILE      write the process id to FILE (replaced, never followed,\n"
            "                       if a symlink; removed at exit if still ours)\n"
            "  --check-config FILE  validate FILE (and the --set overrides), the model\n"
            "                       directory, broker addresses and TLS files; exit 0/1\n"
            "  --dump-config        print the effective configuration (secrets masked)\n"
            "  --passthrough        benchmark reference: copy input to the aggregate topic\n"
            "                       unchanged, no classification\n"
            "  --help, --version    print this help or the version and exit\n"
            "\n"
            "Signals: TERM/INT drain and stop (twice: exit at once), HUP reloads the model\n"
            "and the reloadable keys (model.*, outputs.*, logging.level).\n");
}

/* 0: run; 1: answered (--help, --version), exit 0; -1: usage error. */
static int parse_args(int argc, char **argv, struct args *a)
{
    a->sets = calloc((size_t)argc, sizeof(*a->sets));
    if (!a->sets)
        return -1;
    for (int i = 1; i < argc; i++) {
        const char *s = argv[i];
        const char *val = i + 1 < argc ? argv[i + 1] : NULL;
        if (!s)
            break;
        if (!strcmp(s, "--config") && val) {
            a->config = val;
            i++;
        } else if (!strncmp(s, "--config=", 9)) {
            a->config = s + 9;
        } else if (!strcmp(s, "--check-config") && val) {
            a->check = val;
            i++;
        } else if (!strcmp(s, "--set") && val) {
            a->sets[a->nsets++] = val;
            i++;
        } else if (!strncmp(s, "--set=", 6)) {
            a->sets[a->nsets++] = s + 6;
        } else if (!strcmp(s, "--pid-file") && val) {
            a->pid_file = val;
            i++;
        } else if (!strcmp(s, "--embedded")) {
            a->embedded = 1;
        } else if (!strcmp(s, "--dump-config")) {
            a->dump = 1;
        } else if (!strcmp(s, "--passthrough")) {
            a->passthrough = 1;
        } else if (!strcmp(s, "--help") || !strcmp(s, "-h")) {
            usage(stdout);
            return 1;
        } else if (!strcmp(s, "--version")) {
            printf("newsclfd 0.1.0\n");
            return 1;
        } else {
            fprintf(stderr, "newsclfd: unknown or incomplete argument: %s\n", s);
            usage(stderr);
            return -1;
        }
    }
    return 0;
}

/* File (or defaults) + --embedded + --set, validated. */
static nc_config *load_config(const struct args *a, const char *path, char *err, size_t errlen)
{
    return nc_process_config(path, NULL, a->embedded, a->sets, a->nsets, err, errlen);
}

static nc_config *reload_config(void *arg, char *err, size_t errlen)
{
    const struct args *a = arg;
    return load_config(a, a->config, err, errlen);
}

/* The pid file, created safely: the pid is written to a new file beside it
 * (O_CREAT|O_EXCL|O_NOFOLLOW, so no symlink or existing file is followed
 * or truncated), then renamed over the name, which replaces a symlink there
 * instead of following it. */
static int write_pid_file(const char *path, char *err, size_t errlen)
{
    char tmp[4096], buf[32];
    int fd, n, len;

    n = snprintf(tmp, sizeof(tmp), "%s.%ld.tmp", path, (long)getpid());
    len = snprintf(buf, sizeof(buf), "%ld\n", (long)getpid());
    if (n < 0 || (size_t)n >= sizeof(tmp)) {
        snprintf(err, errlen, "pid file name too long: %s", path);
        return -1;
    }
    fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
    if (fd < 0)
        goto fail;
    if (write(fd, buf, (size_t)len) != len || fsync(fd) != 0) {
        close(fd);
        unlink(tmp);
        goto fail;
    }
    if (close(fd) != 0 || rename(tmp, path) != 0) {
        unlink(tmp);
        goto fail;
    }
    return 0;
fail:
    snprintf(err, errlen, "cannot write pid file %s: %s", path, strerror(errno));
    return -1;
}

/* Removes the pid file only if it is still ours: a regular file (not
 * followed if a symlink) holding our pid. */
static void remove_pid_file(const char *path, nc_log *log)
{
    char buf[32] = "";
    int fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
    ssize_t n = fd >= 0 ? read(fd, buf, sizeof(buf) - 1) : -1;

    if (fd >= 0)
        close(fd);
    if (n > 0 && strtol(buf, NULL, 10) == (long)getpid()) {
        unlink(path);
        return;
    }
    nc_log_warn(log, "pid file %s no longer holds our pid: left alone", path);
}

struct watchdog {
    pthread_t thread;
    atomic_int done;
    int timeout_ms;
    nc_log *log;
    volatile sig_atomic_t *stop;
};

/* Bounds the shutdown: the drain has its own deadlines, this is the last
 * resort if a library call blocks anyway (docs/kafka.md #4528). */
static void *watchdog_main(void *arg)
{
    struct watchdog *w = arg;
    long long started = 0;

    while (!atomic_load(&w->done)) {
        struct timespec ts = {0, 100L * 1000 * 1000};
        nanosleep(&ts, NULL);
        if (*w->stop && !started)
            started = nc_now_ms();
        if (started && nc_now_ms() - started > w->timeout_ms + WATCHDOG_GRACE_MS) {
            nc_log_error(w->log,
                         "shutdown did not finish within %d ms: exiting without further "
                         "cleanup (uncommitted input will be processed again)",
                         w->timeout_ms + WATCHDOG_GRACE_MS);
            _exit(1);
        }
    }
    return NULL;
}

static char *http_metrics(void *arg, enum nc_prom_format fmt, size_t *len)
{
    return nc_metrics_render_as(arg, fmt, len);
}

static int http_ready(void *arg, char *why, size_t whylen)
{
    return nc_metrics_ready(arg, why, whylen);
}

static void notify_status(void *arg, char *buf, size_t len)
{
    nc_metrics_status_line(arg, buf, len);
}

/* The operations side: metrics (collected even without the endpoint:
 * STATUS= and readiness use them), librdkafka statistics into them, systemd
 * notification, and the HTTP endpoint when enabled. */
struct ops {
    nc_metrics *metrics;
    nc_notify *notify;
    struct nc_kstats stats;
    nc_http *http;
};

/* Before READY: an address in use is an error that no waiting heals. */
static int start_ops(const nc_config *cfg, nc_log *log, struct ops *ops, char *err, size_t errlen)
{
    struct nc_http_handlers handlers = {http_metrics, http_ready, NULL};

    ops->metrics = nc_metrics_new(NEWSCLF_VERSION);
    ops->notify = nc_notify_new(notify_status, ops->metrics);
    if (!ops->metrics || !ops->notify) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    /* docs/kafka.md #4460: lag comes from statistics, never from watermark
     * queries in a handler. */
    ops->stats.fn = nc_metrics_kafka_stats;
    ops->stats.arg = ops->metrics;
    ops->stats.interval_ms = KAFKA_STATS_INTERVAL_MS;
    if (!cfg->metrics.enabled)
        return 0;
    handlers.arg = ops->metrics;
    if (nc_http_start(cfg->metrics.listen, log, &handlers, &ops->http, err, errlen) != 0)
        return -1;
    nc_log_info(log, "metrics endpoint listen=%s port=%d paths=/metrics,/healthz,/readyz",
                cfg->metrics.listen, nc_http_port(ops->http));
    return 0;
}

/* After every thread using them has stopped. */
static void stop_ops(struct ops *ops)
{
    nc_http_stop(ops->http);
    nc_notify_free(ops->notify);
    nc_metrics_free(ops->metrics);
}

static int check_config(const struct args *a)
{
    char err[NC_CONFIG_ERRLEN];
    nc_config *cfg = load_config(a, a->check, err, sizeof(err));

    if (!cfg) {
        fprintf(stderr, "%s\n", err);
        return 1;
    }
    if (nc_check_offline(cfg, a->passthrough, stderr) != 0) { /* service/check.c */
        nc_config_free(cfg);
        return 1;
    }
    printf("%s: ok\n", a->check);
    nc_config_free(cfg);
    return 0;
}

/* The embedded broker with the input topics; its bootstrap into *bootstrap. */
static int start_embedded(const nc_config *cfg, nc_log *log, nc_embedded **emb,
                          const char **bootstrap, char *err, size_t errlen)
{
    if (nc_embedded_new(1, emb, err, errlen) != 0)
        return -1;
    *bootstrap = nc_embedded_bootstraps(*emb);
    for (size_t i = 0; i < cfg->kafka.n_input_topics; i++) {
        const char *t = cfg->kafka.input_topics[i];
        if (t[0] == '^')
            continue; /* a pattern names no topic to create */
        if (nc_embedded_create_topic(*emb, t, cfg->outputs.partitions, err, errlen) != 0)
            return -1;
    }
    /* stdout, so scripts can read it; the docs say: trying and testing
     * only (the mock keeps ~5 MiB per partition). */
    printf("embedded broker: bootstrap=%s\n", *bootstrap);
    fflush(stdout);
    nc_log_warn(log,
                "embedded broker bootstrap=%s: for trying and testing only (keeps about "
                "5 MiB per partition, no TLS/SASL)",
                *bootstrap);
    return 0;
}

/* Creates and runs the pipeline until a stop; the exit status. */
static int run_pipeline(struct nc_pipeline_opts *po, struct args *a)
{
    char err[NC_CONFIG_ERRLEN];
    nc_pipeline *p = NULL;
    int rc;

    po->stop = nc_signals_stop();
    po->reload = nc_signals_reload();
    po->passthrough = a->passthrough;
    po->load_config = reload_config;
    po->load_config_arg = a;
    if (nc_pipeline_new(po, &p, err, sizeof(err)) != 0) {
        if (*po->stop) {
            nc_log_info(po->log, "stopped before start-up finished");
            nc_notify_stopping(po->notify);
            return 0;
        }
        nc_log_error(po->log, "cannot start: %s", err);
        nc_notify_status(po->notify, "cannot start: %s", err);
        return 1;
    }
    if (nc_pipeline_run(p, err, sizeof(err)) != 0) {
        nc_log_error(po->log, "stopped: %s", err);
        rc = 1;
    } else {
        nc_log_info(po->log, "stopped cleanly");
        rc = 0;
    }
    nc_pipeline_free(p);
    return rc;
}

int main(int argc, char **argv)
{
    struct args a = {0};
    char err[NC_CONFIG_ERRLEN];
    nc_config *cfg = NULL;
    nc_log *log = NULL;
    nc_embedded *emb = NULL;
    struct ops ops = {0};
    struct watchdog wd = {0};
    const char *bootstrap;
    int rc = 1, wd_started = 0, pid_written = 0;

    rc = parse_args(argc, argv, &a);
    if (rc != 0) {
        free(a.sets);
        return rc > 0 ? 0 : 2; /* > 0: --help or --version was answered */
    }
    rc = 1;
    if (a.check) {
        rc = check_config(&a);
        free(a.sets);
        return rc;
    }
    /* Before anything that takes time: a stop signal from here on is a
     * clean stop, whatever phase of start-up it meets. */
    nc_signals_install("newsclfd",
                       NC_SIGNALS_RELOAD | NC_SIGNALS_SECOND_EXIT | NC_SIGNALS_NO_SIGPIPE);
    cfg = load_config(&a, a.config, err, sizeof(err));
    if (!cfg) {
        fprintf(stderr, "%s\n", err);
        goto out;
    }
    if (a.dump) {
        nc_config_dump(cfg, stdout);
        rc = 0;
        goto out;
    }
    log = nc_log_new(stderr, cfg->logging.level);
    if (!log) {
        fprintf(stderr, "newsclfd: out of memory\n");
        goto out;
    }
    nc_log_set_format(log, cfg->logging.format);
    if (geteuid() == 0)
        nc_log_warn(log, "running as root: use an unprivileged user (the systemd units run as "
                         "newsclf); the daemon needs no privileges");

    if (a.pid_file) {
        if (write_pid_file(a.pid_file, err, sizeof(err)) != 0) {
            nc_log_error(log, "%s", err);
            goto out;
        }
        pid_written = 1;
    }
    if (start_ops(cfg, log, &ops, err, sizeof(err)) != 0) {
        nc_log_error(log, "cannot start: %s", err);
        goto out;
    }
    bootstrap = cfg->kafka.brokers;
    if (cfg->kafka.embedded && start_embedded(cfg, log, &emb, &bootstrap, err, sizeof(err)) != 0) {
        nc_log_error(log, "%s", err);
        goto out;
    }

    wd.timeout_ms = cfg->limits.shutdown_timeout_ms;
    wd.log = log;
    wd.stop = nc_signals_stop();
    atomic_init(&wd.done, 0);
    if (pthread_create(&wd.thread, NULL, watchdog_main, &wd) == 0)
        wd_started = 1;

    nc_log_info(log, "starting brokers=%s group=%s config=%s", bootstrap, cfg->kafka.group,
                a.config ? a.config : "(defaults)");
    {
        struct nc_pipeline_opts po = {
            .cfg = cfg,
            .bootstrap = bootstrap,
            .log = log,
            .metrics = ops.metrics,
            .notify = ops.notify,
            .stats = &ops.stats,
            .embedded = emb,
        };
        rc = run_pipeline(&po, &a);
        if (rc == 0)
            nc_signals_done();
    }
out:
    nc_embedded_free(emb);
    if (wd_started) {
        atomic_store(&wd.done, 1);
        pthread_join(wd.thread, NULL);
    }
    stop_ops(&ops);
    if (pid_written)
        remove_pid_file(a.pid_file, log);
    nc_log_free(log);
    nc_config_free(cfg);
    free(a.sets);
    return rc;
}
