/*
 * props.h - --check-config's check of the pass-through maps
 * (kafka.consumer, kafka.producer) against librdkafka's own property list.
 */
#ifndef NC_KAFKA_PROPS_H
#define NC_KAFKA_PROPS_H

#include <stdio.h>

#include "config/config.h"

/*
 * Sets each kafka.consumer / kafka.producer property on a scratch
 * rd_kafka_conf_t; one line per property librdkafka does not know,
 * "<where>: kafka.consumer.<key>: unknown librdkafka property (did you mean
 * '<name>'?)", to out. Values are never written (a misspelled secret stays
 * secret). Returns the number of unknown properties.
 */
int nc_kafka_props_check(const nc_config *cfg, FILE *out);

#endif
