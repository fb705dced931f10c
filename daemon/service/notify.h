/*
 * notify.h - systemd's notify protocol (sd_notify): READY, RELOADING,
 * STOPPING, STATUS and the watchdog, for the Type=notify units.
 *
 * Every call is a no-op without NOTIFY_SOCKET (not started by systemd) or on
 * a NULL notifier, so the daemon calls them unconditionally. The watchdog is
 * fed by nc_notify_tick() from the pipeline's own loop, not from a helper
 * thread, so a stuck pipeline stops the pings and systemd restarts it; pings
 * go out at half of WATCHDOG_USEC, only when it is set for this process.
 * The same tick refreshes STATUS= every few seconds with the status
 * callback's line.
 *
 * Call from one thread (the main thread, which runs the pipeline).
 */
#ifndef NC_NOTIFY_H
#define NC_NOTIFY_H

#include <stddef.h>

#include "base/log.h" /* NC_PRINTF */

typedef struct nc_notify nc_notify;

/* Writes a one-line status (e.g. "12.0 articles/s, lag 40, ...") into buf. */
typedef void (*nc_notify_status_fn)(void *arg, char *buf, size_t len);

/* Reads the environment (socket, watchdog interval); status may be NULL.
 * NULL when out of memory. */
nc_notify *nc_notify_new(nc_notify_status_fn status, void *arg);
void nc_notify_free(nc_notify *n);

/* READY=1 with STATUS= (status, or the callback's line when NULL). Also
 * after a reload. */
void nc_notify_ready(nc_notify *n, const char *status);
/* RELOADING=1 (with MONOTONIC_USEC=, which systemd >= 253 wants). */
void nc_notify_reloading(nc_notify *n);
/* STOPPING=1. */
void nc_notify_stopping(nc_notify *n);
/* STATUS=<formatted line>. */
void nc_notify_status(nc_notify *n, const char *fmt, ...) NC_PRINTF(2, 3);
/* WATCHDOG=1 when half the interval passed; STATUS= every few seconds.
 * Cheap: call it on every loop iteration. */
void nc_notify_tick(nc_notify *n);

#endif
