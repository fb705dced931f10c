/*
 * process.h - what every Kafka process of newsclf (newsclfd, and the
 * `newsclf subscribe` and `reclassify` commands) sets up around its
 * clients: its configuration and its signal flags.
 *
 * Configuration: a file (or, when none is given, a fallback file when it is
 * readable, else the built-in defaults), then the --set overrides, then
 * validated as a whole.
 *
 * Signals only set flags (sig_atomic_t; the loops poll them with short
 * waits): SIGTERM and SIGINT the stop flag, SIGHUP the reload flag when a
 * process reloads. These two flags (and the fixed line a second signal
 * writes) are the process's only global state.
 */
#ifndef NC_KAFKA_PROCESS_H
#define NC_KAFKA_PROCESS_H

#include <signal.h>
#include <stddef.h>

#include "config/config.h"

/*
 * path, else fallback when readable (may be NULL), else the defaults; with
 * embedded, kafka.brokers=embedded; then sets[0..nsets) in order (--set
 * KEY=VALUE); validated. NULL with err (NC_CONFIG_ERRLEN bytes).
 */
nc_config *nc_process_config(const char *path, const char *fallback, int embedded,
                             const char *const *sets, size_t nsets, char *err, size_t errlen);

enum nc_signal_flags {
    NC_SIGNALS_RELOAD = 1,     /* SIGHUP sets the reload flag (else: default action) */
    NC_SIGNALS_SECOND_EXIT = 2, /* a second SIGTERM/SIGINT exits at once (status 130),
                                 * unless it comes within 100 ms of the first (the
                                 * same request delivered twice) or after
                                 * nc_signals_done() */
    NC_SIGNALS_NO_SIGPIPE = 4   /* SIGPIPE ignored (a daemon; a CLI piped into `head`
                                 * should die of it) */
};

/*
 * Installs the handlers (flags: enum nc_signal_flags). With
 * NC_SIGNALS_SECOND_EXIT, name prefixes the line a second signal writes to stderr before exiting.
 * Call once, before any other thread starts.
 */
void nc_signals_install(const char *name, int flags);
/* The flags the handlers set; the process clears the reload flag. */
volatile sig_atomic_t *nc_signals_stop(void);
volatile sig_atomic_t *nc_signals_reload(void);
/* The process has stopped cleanly: signals from now on are ignored, so a late
 * one cannot turn a clean exit into 130. */
void nc_signals_done(void);

#endif
