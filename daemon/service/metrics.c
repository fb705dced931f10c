/*
 * metrics.c - newsclfd's metric set, health state and librdkafka
 * statistics (see metrics.h).
 */
#include "service/metrics.h"

#include <jansson.h>
#include <pthread.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <dirent.h>
#include <unistd.h>

#include "base/clock.h"
#include "core/article.h" /* the dead-letter reasons of input errors */
#include "core/model.h"

/* ---- the daemon's metric set ---- */

/* Seconds. Classification of one article takes about 0.1-10 ms. */
static const double classify_bounds[] = {0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005,
                                         0.01,   0.025,   0.05,   0.1,   0.25,   1};
/* Seconds from the input's timestamp to the last acknowledgement of its
 * outputs: milliseconds when keeping up, minutes when catching up. */
static const double e2e_bounds[] = {0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1,
                                    2.5,   5,    10,    30,   60,  300,  900, 3600};

struct nc_metrics {
    nc_registry *reg;
    nc_family *consumed, *classified, *deadlettered, *labeled, *produced, *delivery_failed;
    nc_family *classify_seconds, *e2e_seconds, *inflight, *lag, *pq_msgs, *pq_bytes;
    nc_family *model_info, *model_loaded, *reloads, *reload_failures, *rebalances, *assigned;
    /* Process metrics, as the Prometheus client libraries name them. */
    nc_family *cpu, *rss, *open_fds, *max_fds, *start_time;
    double cpu_counted; /* seconds already added to cpu (under mu) */

    pthread_mutex_t mu; /* the health and status state below */
    int model_loaded_flag;
    int broker_up;
    int nassigned;
    int stopping;
    char fatal[256];
    char model_version[128];
    long long lag_total; /* -1: not known yet */
    double status_t, status_consumed;
};

static double wall_seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

#define L(...) ((const char *const[]){__VA_ARGS__, NULL})

/* Dead-letter reasons besides the input errors (service/classify.c,
 * service/produce.c). */
static const char *const job_reasons[] = {"encode_failed", "classify_failed", "produce_failed"};

static int process_families(nc_metrics *m)
{
    nc_registry *r = m->reg;
    m->cpu = nc_registry_counter(r, "process_cpu_seconds_total",
                                 "Total user and system CPU time spent in seconds", NULL);
    m->rss = nc_registry_gauge(r, "process_resident_memory_bytes",
                               "Resident memory size in bytes", NULL);
    m->open_fds = nc_registry_gauge(r, "process_open_fds", "Number of open file descriptors", NULL);
    m->max_fds =
        nc_registry_gauge(r, "process_max_fds", "Maximum number of open file descriptors", NULL);
    m->start_time = nc_registry_gauge(r, "process_start_time_seconds",
                                      "Start time of the process since unix epoch in seconds", NULL);
    return m->cpu && m->rss && m->open_fds && m->max_fds && m->start_time ? 0 : -1;
}

/* Open descriptors: the entries of /proc/self/fd but the one reading it. */
static long count_fds(void)
{
    DIR *d = opendir("/proc/self/fd");
    struct dirent *e;
    long n = 0;

    if (!d)
        return -1;
    while ((e = readdir(d)) != NULL)
        if (e->d_name[0] != '.')
            n++;
    closedir(d);
    return n - 1;
}

/* Refreshes the process metrics; before each rendering. */
static void process_update(nc_metrics *m)
{
    struct rusage ru;
    struct rlimit rl;
    long fds = count_fds();
    FILE *fp = fopen("/proc/self/statm", "r");
    char statm[128];

    /* statm: "size resident shared ..." in pages. */
    if (fp) {
        if (fgets(statm, sizeof(statm), fp)) {
            char *end;
            long long resident;
            errno = 0;
            (void)strtoll(statm, &end, 10);
            resident = strtoll(end, &end, 10);
            if (!errno && resident > 0)
                nc_family_set(m->rss, NULL, (double)resident * (double)sysconf(_SC_PAGESIZE));
        }
        fclose(fp);
    }
    if (fds >= 0)
        nc_family_set(m->open_fds, NULL, (double)fds);
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0)
        nc_family_set(m->max_fds, NULL, rl.rlim_cur == RLIM_INFINITY ? -1 : (double)rl.rlim_cur);
    if (getrusage(RUSAGE_SELF, &ru) == 0) {
        double cpu = (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6 +
                     (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6;
        pthread_mutex_lock(&m->mu);
        if (cpu > m->cpu_counted) { /* a counter only grows */
            nc_family_add(m->cpu, NULL, cpu - m->cpu_counted);
            m->cpu_counted = cpu;
        }
        pthread_mutex_unlock(&m->mu);
    }
}

nc_metrics *nc_metrics_new(const char *version)
{
    nc_metrics *m = calloc(1, sizeof(*m));
    nc_registry *r;
    nc_family *build;

    if (!m || !(m->reg = r = nc_registry_new()))
        goto fail;
    if (pthread_mutex_init(&m->mu, NULL) != 0) {
        nc_registry_free(r);
        goto fail;
    }
    build =
        nc_registry_gauge(r, "newsclf_build_info", "newsclfd build; the value is 1", L("version"));
    m->consumed = nc_registry_counter(r, "newsclf_articles_consumed_total",
                                      "Input messages consumed, per input topic", L("topic"));
    m->classified = nc_registry_counter(r, "newsclf_articles_classified_total",
                                        "Articles classified and produced to the outputs", NULL);
    m->deadlettered = nc_registry_counter(
        r, "newsclf_articles_deadlettered_total",
        "Inputs sent to the dead-letter topic (or dropped when it is disabled), per reason",
        L("reason"));
    m->labeled = nc_registry_counter(r, "newsclf_articles_labeled_total",
                                     "Classified articles that got the label", L("label"));
    m->produced =
        nc_registry_counter(r, "newsclf_records_produced_total",
                            "Output records acknowledged by the broker, per topic", L("topic"));
    m->delivery_failed =
        nc_registry_counter(r, "newsclf_records_failed_total",
                            "Output records that failed for good, per topic", L("topic"));
    m->classify_seconds = nc_registry_histogram(
        r, "newsclf_classification_duration_seconds",
        "Time to parse, classify and encode one article", NULL, classify_bounds,
        sizeof(classify_bounds) / sizeof(classify_bounds[0]));
    m->e2e_seconds = nc_registry_histogram(
        r, "newsclf_end_to_end_latency_seconds",
        "From the input message's timestamp to the acknowledgement of its last output", NULL,
        e2e_bounds, sizeof(e2e_bounds) / sizeof(e2e_bounds[0]));
    m->inflight =
        nc_registry_gauge(r, "newsclf_inflight_messages",
                          "Inputs consumed and not yet done (outputs unacknowledged)", NULL);
    m->lag = nc_registry_gauge(r, "newsclf_consumer_lag_messages",
                               "Consumer lag per assigned input partition (librdkafka statistics)",
                               L("topic", "partition"));
    m->pq_msgs =
        nc_registry_gauge(r, "newsclf_producer_queue_messages",
                          "Records in the producer's queues (librdkafka statistics)", NULL);
    m->pq_bytes = nc_registry_gauge(r, "newsclf_producer_queue_bytes",
                                    "Bytes in the producer's queues (librdkafka statistics)", NULL);
    m->model_info = nc_registry_gauge(r, "newsclf_model_info", "The loaded model; the value is 1",
                                      L("name", "version"));
    m->model_loaded = nc_registry_gauge(r, "newsclf_model_loaded_timestamp_seconds",
                                        "When the loaded model was loaded (Unix time)", NULL);
    m->reloads =
        nc_registry_counter(r, "newsclf_reloads_total", "Successful reloads (SIGHUP)", NULL);
    m->reload_failures =
        nc_registry_counter(r, "newsclf_reload_failures_total",
                            "Refused reloads (the running config and model stayed)", NULL);
    m->rebalances = nc_registry_counter(r, "newsclf_rebalances_total",
                                        "Consumer group rebalance events (assigned, revoked, lost)",
                                        L("event"));
    m->assigned = nc_registry_gauge(r, "newsclf_assigned_partitions",
                                    "Input partitions currently assigned", NULL);
    if (process_families(m) != 0 || !build || !m->consumed || !m->classified || !m->deadlettered || !m->labeled ||
        !m->produced || !m->delivery_failed || !m->classify_seconds || !m->e2e_seconds ||
        !m->inflight || !m->lag || !m->pq_msgs || !m->pq_bytes || !m->model_info ||
        !m->model_loaded || !m->reloads || !m->reload_failures || !m->rebalances || !m->assigned) {
        pthread_mutex_destroy(&m->mu);
        nc_registry_free(r);
        goto fail;
    }
    nc_family_set(build, NC_LV(version), 1);
    /* Known label values start at 0, so rate() and increase() see the first. */
    nc_family_add(m->rebalances, NC_LV("assigned"), 0);
    nc_family_add(m->rebalances, NC_LV("revoked"), 0);
    nc_family_add(m->rebalances, NC_LV("lost"), 0);
    for (int e = NC_ART_OK + 1; e <= NC_ART_BAD_FIELD; e++)
        nc_family_add(m->deadlettered, NC_LV(nc_article_reason((enum nc_article_error)e)), 0);
    for (size_t i = 0; i < sizeof(job_reasons) / sizeof(job_reasons[0]); i++)
        nc_family_add(m->deadlettered, NC_LV(job_reasons[i]), 0);
    /* The process starts here, in effect: /proc/stat (boot time) may be
     * hidden (ProcSubset=pid in the systemd unit). */
    nc_family_set(m->start_time, NULL, wall_seconds());
    m->lag_total = -1;
    m->status_t = nc_now();
    return m;
fail:
    free(m);
    return NULL;
}

void nc_metrics_free(nc_metrics *m)
{
    if (m) {
        pthread_mutex_destroy(&m->mu);
        nc_registry_free(m->reg);
    }
    free(m);
}

nc_registry *nc_metrics_registry(nc_metrics *m)
{
    return m ? m->reg : NULL;
}

char *nc_metrics_render(nc_metrics *m, size_t *len)
{
    return nc_metrics_render_as(m, NC_PROM_TEXT, len);
}

char *nc_metrics_render_as(nc_metrics *m, enum nc_prom_format fmt, size_t *len)
{
    if (!m)
        return NULL;
    process_update(m);
    return nc_registry_render_as(m->reg, fmt, len);
}

void nc_metrics_consumed(nc_metrics *m, const char *topic)
{
    if (m)
        nc_family_add(m->consumed, NC_LV(topic), 1);
}

void nc_metrics_classified(nc_metrics *m, const char *labels_csv)
{
    char label[256];
    const char *s = labels_csv;

    if (!m)
        return;
    nc_family_add(m->classified, NULL, 1);
    while (s && *s) {
        const char *e = strchr(s, ',');
        size_t n = e ? (size_t)(e - s) : strlen(s);
        if (n > 0 && n < sizeof(label)) {
            memcpy(label, s, n);
            label[n] = '\0';
            nc_family_add(m->labeled, NC_LV(label), 1);
        }
        s = e ? e + 1 : NULL;
    }
}

void nc_metrics_deadlettered(nc_metrics *m, const char *reason)
{
    if (m)
        nc_family_add(m->deadlettered, NC_LV(reason), 1);
}

void nc_metrics_produced(nc_metrics *m, const char *topic)
{
    if (m)
        nc_family_add(m->produced, NC_LV(topic), 1);
}

void nc_metrics_delivery_failed(nc_metrics *m, const char *topic)
{
    if (m)
        nc_family_add(m->delivery_failed, NC_LV(topic), 1);
}

void nc_metrics_classify_seconds(nc_metrics *m, double s)
{
    if (m)
        nc_family_observe(m->classify_seconds, NULL, s < 0 ? 0 : s);
}

void nc_metrics_input_done(nc_metrics *m, int64_t ts_ms)
{
    double s;
    if (!m || ts_ms <= 0)
        return;
    s = wall_seconds() - (double)ts_ms / 1000.0;
    /* A producer clock ahead of ours: count it as immediate. */
    nc_family_observe(m->e2e_seconds, NULL, s < 0 ? 0 : s);
}

void nc_metrics_inflight(nc_metrics *m, size_t n)
{
    if (m)
        nc_family_set(m->inflight, NULL, (double)n);
}

void nc_metrics_rebalance(nc_metrics *m, const char *event, int n)
{
    int assigned;
    if (!m)
        return;
    nc_family_add(m->rebalances, NC_LV(event), 1);
    pthread_mutex_lock(&m->mu);
    m->nassigned += strcmp(event, "assigned") ? -n : n;
    if (m->nassigned < 0)
        m->nassigned = 0;
    assigned = m->nassigned;
    pthread_mutex_unlock(&m->mu);
    nc_family_set(m->assigned, NULL, assigned);
}

void nc_metrics_model(nc_metrics *m, const char *name, const char *version)
{
    if (!m)
        return;
    if (name) {
        /* Exactly one series: the reload tool (scripts/retrain) confirms a
         * reload by newsclf_model_info{name,version} 1. */
        nc_family_clear(m->model_info);
        nc_family_set(m->model_info, NC_LV(name, version ? version : ""), 1);
        nc_family_set(m->model_loaded, NULL, wall_seconds());
    }
    pthread_mutex_lock(&m->mu);
    m->model_loaded_flag = 1;
    snprintf(m->model_version, sizeof(m->model_version), "%s",
             name ? (version ? version : "") : "passthrough");
    pthread_mutex_unlock(&m->mu);
}

void nc_metrics_model_labels(nc_metrics *m, const nc_model *model)
{
    if (!m || !model)
        return;
    for (size_t i = 0; i < nc_model_nlabels(model); i++)
        nc_family_add(m->labeled, NC_LV(nc_model_label(model, i)), 0);
}

void nc_metrics_reload(nc_metrics *m, int ok)
{
    if (m)
        nc_family_add(ok ? m->reloads : m->reload_failures, NULL, 1);
}

void nc_metrics_broker_reachable(nc_metrics *m, int up)
{
    if (!m)
        return;
    pthread_mutex_lock(&m->mu);
    m->broker_up = up;
    pthread_mutex_unlock(&m->mu);
}

void nc_metrics_fatal(nc_metrics *m, const char *why)
{
    if (!m)
        return;
    pthread_mutex_lock(&m->mu);
    if (!m->fatal[0])
        snprintf(m->fatal, sizeof(m->fatal), "%s", why && *why ? why : "fatal error");
    pthread_mutex_unlock(&m->mu);
}

void nc_metrics_stopping(nc_metrics *m)
{
    if (!m)
        return;
    pthread_mutex_lock(&m->mu);
    m->stopping = 1;
    pthread_mutex_unlock(&m->mu);
}

int nc_metrics_ready(nc_metrics *m, char *why, size_t whylen)
{
    int ok = 0;
    if (!m) {
        snprintf(why, whylen, "starting");
        return 0;
    }
    pthread_mutex_lock(&m->mu);
    if (m->fatal[0])
        snprintf(why, whylen, "fatal error: %s", m->fatal);
    else if (m->stopping)
        snprintf(why, whylen, "stopping");
    else if (!m->model_loaded_flag)
        snprintf(why, whylen, "no model loaded");
    else if (m->nassigned == 0 && !m->broker_up)
        snprintf(why, whylen, "waiting for broker (not reachable)");
    else
        ok = 1;
    pthread_mutex_unlock(&m->mu);
    if (ok)
        snprintf(why, whylen, "ready");
    return ok;
}

/* ---- librdkafka statistics ---- */

/* Any broker connection up: the cluster is reachable. */
static int any_broker_up(json_t *root)
{
    json_t *brokers = json_object_get(root, "brokers");
    const char *name;
    json_t *b;
    json_object_foreach(brokers, name, b)
    {
        const char *state = json_string_value(json_object_get(b, "state"));
        if (state && !strcmp(state, "UP"))
            return 1;
    }
    return 0;
}

static void consumer_stats(nc_metrics *m, json_t *root)
{
    json_t *topics = json_object_get(root, "topics");
    const char *tname, *pname;
    json_t *t, *pt;
    long long total = 0;
    int up = any_broker_up(root);

    json_object_foreach(topics, tname, t)
    {
        json_t *parts = json_object_get(t, "partitions");
        json_object_foreach(parts, pname, pt)
        {
            json_t *lag = json_object_get(pt, "consumer_lag");
            /* Partition -1 is librdkafka's internal UA partition; lag -1
             * means unknown (not assigned, or no position yet). */
            if (!strcmp(pname, "-1") || !json_is_integer(lag) || json_integer_value(lag) < 0)
                continue;
            nc_family_set(m->lag, NC_LV(tname, pname), (double)json_integer_value(lag));
            total += json_integer_value(lag);
        }
    }
    nc_family_retain_touched(m->lag);
    pthread_mutex_lock(&m->mu);
    m->lag_total = total;
    m->broker_up = up;
    pthread_mutex_unlock(&m->mu);
}

static void producer_stats(nc_metrics *m, json_t *root)
{
    json_t *cnt = json_object_get(root, "msg_cnt"), *size = json_object_get(root, "msg_size");
    if (json_is_integer(cnt))
        nc_family_set(m->pq_msgs, NULL, (double)json_integer_value(cnt));
    if (json_is_integer(size))
        nc_family_set(m->pq_bytes, NULL, (double)json_integer_value(size));
}

void nc_metrics_kafka_stats(void *arg, int consumer, const char *json, size_t len)
{
    nc_metrics *m = arg;
    json_error_t jerr;
    json_t *root;

    if (!m)
        return;
    root = json_loadb(json, len, 0, &jerr);
    if (!root)
        return;
    if (consumer)
        consumer_stats(m, root);
    else
        producer_stats(m, root);
    json_decref(root);
}

void nc_metrics_status_line(nc_metrics *m, char *buf, size_t len)
{
    double now, consumed, rate;
    char lag[32];

    if (!m) {
        snprintf(buf, len, "starting");
        return;
    }
    now = nc_now();
    consumed = nc_family_sum(m->consumed);
    pthread_mutex_lock(&m->mu);
    rate = now > m->status_t ? (consumed - m->status_consumed) / (now - m->status_t) : 0;
    m->status_t = now;
    m->status_consumed = consumed;
    if (m->lag_total >= 0)
        snprintf(lag, sizeof(lag), "%lld", m->lag_total);
    else
        snprintf(lag, sizeof(lag), "unknown");
    if (m->fatal[0])
        snprintf(buf, len, "fatal error: %s", m->fatal);
    else if (m->stopping)
        snprintf(buf, len, "stopping");
    else if (m->nassigned == 0 && !m->broker_up)
        snprintf(buf, len, "waiting for broker; model %s", m->model_version);
    else
        snprintf(buf, len, "%.1f articles/s, lag %s, %d partitions, model %s", rate, lag,
                 m->nassigned, m->model_version);
    pthread_mutex_unlock(&m->mu);
}
