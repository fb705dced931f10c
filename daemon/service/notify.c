/*
 * notify.c - sd_notify wrapper (see notify.h).
 */
#include "service/notify.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <systemd/sd-daemon.h>

#include "base/util.h"
#include "base/clock.h"

#define STATUS_EVERY_US 5000000ULL
#define LINE_MAX_STATUS 512

struct nc_notify {
    int enabled;              /* NOTIFY_SOCKET is set */
    unsigned long long wd_us; /* ping interval (half of WATCHDOG_USEC), 0: no watchdog */
    unsigned long long next_wd, next_status;
    nc_notify_status_fn status;
    void *arg;
};

nc_notify *nc_notify_new(nc_notify_status_fn status, void *arg)
{
    const char *sock = getenv("NOTIFY_SOCKET");
    uint64_t usec = 0;
    nc_notify *n = calloc(1, sizeof(*n));

    if (!n)
        return NULL;
    n->enabled = sock && *sock;
    n->status = status;
    n->arg = arg;
    /* > 0 only when WATCHDOG_USEC is set and WATCHDOG_PID (if set) is us. */
    if (sd_watchdog_enabled(0, &usec) > 0 && usec > 0)
        n->wd_us = usec / 2;
    n->next_wd = nc_now_us() + n->wd_us;
    n->next_status = nc_now_us() + STATUS_EVERY_US;
    return n;
}

void nc_notify_free(nc_notify *n)
{
    free(n);
}

static int enabled(const nc_notify *n)
{
    return n && n->enabled;
}

/* STATUS= is one line. */
static void one_line(char *s)
{
    for (; *s; s++)
        if (*s == '\n')
            *s = ' ';
}

static void send_line(const nc_notify *n, const char *fmt, ...) NC_PRINTF(2, 3);

static void send_line(const nc_notify *n, const char *fmt, ...)
{
    char msg[1024];
    va_list ap;

    if (!enabled(n))
        return;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    /* Best effort: nothing useful can be done when systemd is not there. */
    (void)sd_notify(0, msg);
}

static void status_text(const nc_notify *n, const char *given, char *buf, size_t len)
{
    if (given)
        snprintf(buf, len, "%s", given);
    else if (n->status)
        n->status(n->arg, buf, len);
    else
        buf[0] = '\0';
    one_line(buf);
}

void nc_notify_ready(nc_notify *n, const char *status)
{
    char line[LINE_MAX_STATUS];
    if (!enabled(n))
        return;
    status_text(n, status, line, sizeof(line));
    send_line(n, "READY=1\nSTATUS=%s", line);
    n->next_status = nc_now_us() + STATUS_EVERY_US;
}

void nc_notify_reloading(nc_notify *n)
{
    send_line(n, "RELOADING=1\nMONOTONIC_USEC=%llu\nSTATUS=reloading", nc_now_us());
}

void nc_notify_stopping(nc_notify *n)
{
    send_line(n, "STOPPING=1\nSTATUS=stopping: draining in-flight messages");
}

void nc_notify_status(nc_notify *n, const char *fmt, ...)
{
    char line[LINE_MAX_STATUS];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(line, sizeof(line), fmt, ap);
    va_end(ap);
    one_line(line);
    send_line(n, "STATUS=%s", line); /* nothing without systemd */
}

void nc_notify_tick(nc_notify *n)
{
    unsigned long long now;

    if (!enabled(n))
        return;
    now = nc_now_us();
    if (n->wd_us && now >= n->next_wd) {
        send_line(n, "WATCHDOG=1");
        n->next_wd = now + n->wd_us;
    }
    if (now >= n->next_status) {
        char line[LINE_MAX_STATUS];
        status_text(n, NULL, line, sizeof(line));
        send_line(n, "STATUS=%s", line);
        n->next_status = now + STATUS_EVERY_US;
    }
}
