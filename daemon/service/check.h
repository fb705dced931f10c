/*
 * check.h - the checks `newsclfd --check-config` adds to the config's own
 * validation, everything that needs no network: the model directory loads
 * and validates (manifest, files, checksums) and takes model.thresholds,
 * each kafka.brokers entry is host:port with a port in 1-65535 (or the
 * whole value is "embedded"), and the files named by the *.location
 * properties of kafka.consumer / kafka.producer (TLS CA, certificate, key,
 * CRL, keystore) exist and are readable.
 */
#ifndef NC_SERVICE_CHECK_H
#define NC_SERVICE_CHECK_H

#include <stdio.h>

#include "config/config.h"

/* Writes one line per problem to out ("<where>: <key>: <reason>"), all of
 * them; returns how many. passthrough: no model is needed. */
int nc_check_offline(const nc_config *cfg, int passthrough, FILE *out);

#endif
