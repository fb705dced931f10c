/*
 * http.h - newsclfd's HTTP endpoint: libmicrohttpd on its own thread,
 * listening on metrics.listen (loopback by default).
 *
 *   GET /metrics   OpenMetrics 1.0.0 when the Accept header asks for
 *                  application/openmetrics-text, else Prometheus text 0.0.4
 *   GET /healthz   200 "ok" while the process is alive and serving
 *   GET /readyz    200 "ready", or 503 with the reason as the body
 *
 * GET and HEAD only (405 otherwise), 404 for other paths. The handlers only
 * read state that the pipeline keeps up to date (metrics.h); they never call
 * into Kafka, so a scrape cannot block on a dead broker (docs/kafka.md
 * #4460).
 */
#ifndef NC_HTTP_H
#define NC_HTTP_H

#include <stddef.h>

#include "base/log.h"
#include "service/prom.h"

typedef struct nc_http nc_http;

struct nc_http_handlers {
    /* The /metrics body in fmt, malloc'd (freed by the server); NULL: 500. */
    char *(*metrics)(void *arg, enum nc_prom_format fmt, size_t *len);
    /* 1 when ready; else 0 with a one-line reason in why. */
    int (*ready)(void *arg, char *why, size_t whylen);
    void *arg;
};

/*
 * Listens on "host:port" / "[v6]:port" (port 0: any free port, see
 * nc_http_port) and serves from a thread. 0, or -1 with err (bad address,
 * address in use, ...).
 */
int nc_http_start(const char *addr, nc_log *log, const struct nc_http_handlers *h, nc_http **out,
                  char *err, size_t errlen);

/* The port actually bound. */
int nc_http_port(const nc_http *h);

/* Stops the thread and closes the socket; NULL is fine. */
void nc_http_stop(nc_http *h);

#endif
