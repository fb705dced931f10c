/*
 * http.c - /metrics, /healthz and /readyz over libmicrohttpd (see http.h).
 */
#include "service/http.h"

#include <errno.h>
#include <fcntl.h>
#include <microhttpd.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "config/config.h"

#define CONNECTION_LIMIT 32
#define CONNECTION_TIMEOUT_S 10

struct nc_http {
    struct MHD_Daemon *d;
    struct nc_http_handlers h;
    nc_log *log;
    int port;
};

static enum MHD_Result respond(struct MHD_Connection *c, unsigned int status, const char *ctype,
                               char *body, size_t len)
{
    /* MUST_FREE: body is malloc'd and now belongs to the response. */
    struct MHD_Response *r = MHD_create_response_from_buffer(len, body, MHD_RESPMEM_MUST_FREE);
    enum MHD_Result ret;

    if (!r) {
        free(body);
        return MHD_NO;
    }
    MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, ctype);
    MHD_add_response_header(r, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
    ret = MHD_queue_response(c, status, r);
    MHD_destroy_response(r);
    return ret;
}

static enum MHD_Result respond_text(struct MHD_Connection *c, unsigned int status, const char *text)
{
    size_t n = strlen(text);
    char *body = malloc(n + 2);
    if (!body)
        return MHD_NO;
    memcpy(body, text, n);
    body[n] = '\n';
    body[n + 1] = '\0';
    return respond(c, status, "text/plain; charset=utf-8", body, n + 1);
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *c, const char *url,
                                  const char *method, const char *version, const char *upload_data,
                                  size_t *upload_data_size, void **req_cls)
{
    nc_http *h = cls;
    char why[512];

    (void)version;
    (void)upload_data;
    (void)upload_data_size;
    (void)req_cls;
    if (strcmp(method, MHD_HTTP_METHOD_GET) != 0 && strcmp(method, MHD_HTTP_METHOD_HEAD) != 0)
        return respond_text(c, MHD_HTTP_METHOD_NOT_ALLOWED, "method not allowed");
    if (!strcmp(url, "/metrics")) {
        size_t len = 0;
        enum nc_prom_format fmt = nc_prom_format_for(
            MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_ACCEPT));
        char *text = h->h.metrics ? h->h.metrics(h->h.arg, fmt, &len) : NULL;
        if (!text)
            return respond_text(c, MHD_HTTP_INTERNAL_SERVER_ERROR, "metrics unavailable");
        return respond(c, MHD_HTTP_OK, nc_prom_content_type(fmt), text, len);
    }
    if (!strcmp(url, "/healthz"))
        return respond_text(c, MHD_HTTP_OK, "ok");
    if (!strcmp(url, "/readyz")) {
        if (h->h.ready && h->h.ready(h->h.arg, why, sizeof(why)))
            return respond_text(c, MHD_HTTP_OK, "ready");
        if (!h->h.ready)
            snprintf(why, sizeof(why), "not ready");
        return respond_text(c, MHD_HTTP_SERVICE_UNAVAILABLE, why);
    }
    return respond_text(c, MHD_HTTP_NOT_FOUND, "not found: try /metrics, /healthz, /readyz");
}

static void on_mhd_log(void *cls, const char *fmt, va_list ap) NC_PRINTF(2, 0);

static void on_mhd_log(void *cls, const char *fmt, va_list ap)
{
    nc_http *h = cls;
    char line[512];
    size_t n;

    vsnprintf(line, sizeof(line), fmt, ap);
    n = strlen(line);
    while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == '\r'))
        line[--n] = '\0';
    nc_log_warn(h->log, "http: %s", line);
}

/* Our own listening socket: a clear errno on failure (address in use) and
 * the bound port for port 0. Returns the fd, or -1 with err. */
static int listen_on(const char *addr, int *family, int *port_out, char *err, size_t errlen)
{
    char host[256], portstr[16];
    struct addrinfo hints, *ai = NULL;
    struct sockaddr_storage ss;
    socklen_t sl = sizeof(ss);
    int port, fd = -1, one = 1, rc;

    if (nc_config_split_hostport(addr, host, sizeof(host), &port, err, errlen) != 0)
        return -1;
    snprintf(portstr, sizeof(portstr), "%d", port);
    memset(&hints, 0, sizeof(hints));
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_NUMERICSERV | AI_PASSIVE;
    rc = getaddrinfo(host, portstr, &hints, &ai);
    if (rc != 0 || !ai) {
        snprintf(err, errlen, "metrics.listen %s: %s", addr, gai_strerror(rc));
        goto fail;
    }
    fd = socket(ai->ai_family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    if (fd < 0) {
        snprintf(err, errlen, "metrics.listen %s: socket: %s", addr, strerror(errno));
        goto fail;
    }
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    if (bind(fd, ai->ai_addr, ai->ai_addrlen) != 0 || listen(fd, 64) != 0) {
        snprintf(err, errlen, "cannot listen on %s (metrics.listen): %s", addr, strerror(errno));
        goto fail;
    }
    if (getsockname(fd, (struct sockaddr *)&ss, &sl) != 0) {
        snprintf(err, errlen, "metrics.listen %s: getsockname: %s", addr, strerror(errno));
        goto fail;
    }
    *family = ss.ss_family;
    *port_out = ss.ss_family == AF_INET6 ? ntohs(((struct sockaddr_in6 *)&ss)->sin6_port)
                                         : ntohs(((struct sockaddr_in *)&ss)->sin_port);
    freeaddrinfo(ai);
    return fd;
fail:
    if (fd >= 0)
        close(fd);
    if (ai)
        freeaddrinfo(ai);
    return -1;
}

int nc_http_start(const char *addr, nc_log *log, const struct nc_http_handlers *handlers,
                  nc_http **out, char *err, size_t errlen)
{
    nc_http *h = calloc(1, sizeof(*h));
    unsigned int flags = MHD_USE_POLL_INTERNAL_THREAD | MHD_USE_ERROR_LOG;
    int fd, family = AF_INET;

    *out = NULL;
    if (!h) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    h->h = *handlers;
    h->log = log;
    fd = listen_on(addr, &family, &h->port, err, errlen);
    if (fd < 0) {
        free(h);
        return -1;
    }
    if (family == AF_INET6)
        flags |= MHD_USE_IPv6;
    /* The port argument is unused with MHD_OPTION_LISTEN_SOCKET; MHD closes
     * the socket in MHD_stop_daemon. */
    h->d = MHD_start_daemon(
        flags, 0, NULL, NULL, on_request, h, MHD_OPTION_EXTERNAL_LOGGER, on_mhd_log, h,
        MHD_OPTION_LISTEN_SOCKET, fd, MHD_OPTION_CONNECTION_LIMIT, (unsigned int)CONNECTION_LIMIT,
        MHD_OPTION_CONNECTION_TIMEOUT, (unsigned int)CONNECTION_TIMEOUT_S, MHD_OPTION_END);
    if (!h->d) {
        snprintf(err, errlen, "cannot start the HTTP server on %s", addr);
        close(fd);
        free(h);
        return -1;
    }
    *out = h;
    return 0;
}

int nc_http_port(const nc_http *h)
{
    return h ? h->port : 0;
}

void nc_http_stop(nc_http *h)
{
    if (!h)
        return;
    MHD_stop_daemon(h->d);
    free(h);
}
