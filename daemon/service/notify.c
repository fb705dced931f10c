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

static struct {
    int enabled;              /* NOTIFY_SOCKET is set */
    unsigned long long wd_us; /* ping interval (half of WATCHDOG_USEC), 0: no watchdog */
    unsigned long long next_wd, next_status;
    nc_notify_status_fn status;
    void *arg;
} st;

void nc_notify_init(nc_notify_status_fn status, void *arg)
{
    const char *sock = getenv("NOTIFY_SOCKET");
    uint64_t usec = 0;

    st.enabled = sock && *sock;
    st.status = status;
    st.arg = arg;
    st.wd_us = 0;
    /* > 0 only when WATCHDOG_USEC is set and WATCHDOG_PID (if set) is us. */
    if (sd_watchdog_enabled(0, &usec) > 0 && usec > 0)
        st.wd_us = usec / 2;
    st.next_wd = nc_now_us() + st.wd_us;
    st.next_status = nc_now_us() + STATUS_EVERY_US;
}

static void send_line(const char *fmt, ...) NC_PRINTF(1, 2);

static void send_line(const char *fmt, ...)
{
    char msg[1024];
    va_list ap;

    if (!st.enabled)
        return;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    /* Best effort: nothing useful can be done when systemd is not there. */
    (void)sd_notify(0, msg);
}

static void status_text(const char *given, char *buf, size_t len)
{
    if (given)
        snprintf(buf, len, "%s", given);
    else if (st.status)
        st.status(st.arg, buf, len);
    else
        buf[0] = '\0';
    /* STATUS= is one line. */
    for (char *s = buf; *s; s++)
        if (*s == '\n')
            *s = ' ';
}

void nc_notify_ready(const char *status)
{
    char line[512];
    if (!st.enabled)
        return;
    status_text(status, line, sizeof(line));
    send_line("READY=1\nSTATUS=%s", line);
    st.next_status = nc_now_us() + STATUS_EVERY_US;
}

void nc_notify_reloading(void)
{
    send_line("RELOADING=1\nMONOTONIC_USEC=%llu\nSTATUS=reloading", nc_now_us());
}

void nc_notify_stopping(void)
{
    send_line("STOPPING=1\nSTATUS=stopping: draining in-flight messages");
}

void nc_notify_status(const char *fmt, ...)
{
    char line[512];
    va_list ap;

    if (!st.enabled)
        return;
    va_start(ap, fmt);
    vsnprintf(line, sizeof(line), fmt, ap);
    va_end(ap);
    for (char *s = line; *s; s++)
        if (*s == '\n')
            *s = ' ';
    send_line("STATUS=%s", line);
}

void nc_notify_tick(void)
{
    unsigned long long now;

    if (!st.enabled)
        return;
    now = nc_now_us();
    if (st.wd_us && now >= st.next_wd) {
        send_line("WATCHDOG=1");
        st.next_wd = now + st.wd_us;
    }
    if (now >= st.next_status) {
        char line[512];
        status_text(NULL, line, sizeof(line));
        send_line("STATUS=%s", line);
        st.next_status = now + STATUS_EVERY_US;
    }
}
