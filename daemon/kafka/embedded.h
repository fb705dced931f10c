/*
 * embedded.h - the embedded broker: librdkafka's mock cluster on 127.0.0.1.
 *
 * For trying newsclf without Kafka and for tests only: the mock keeps about
 * 5 MiB (or 100,000 message sets) per partition and silently drops older data,
 * has no TLS/SASL, no transactions and no CreateTopics handling, so topics are
 * created here with rd_kafka_mock_topic_create (docs/kafka.md, "The mock
 * cluster"). Its state lives in the hosting process; newsclf-mockbroker hosts
 * it in a separate process so a test can kill the daemon and keep the broker.
 */
#ifndef NC_EMBEDDED_H
#define NC_EMBEDDED_H

#include <stddef.h>

typedef struct nc_embedded nc_embedded;

/* Starts a mock cluster of nbrokers (>= 1) brokers. */
int nc_embedded_new(int nbrokers, nc_embedded **out, char *err, size_t errlen);
void nc_embedded_free(nc_embedded *e);

/* "127.0.0.1:port,..." valid until nc_embedded_free. */
const char *nc_embedded_bootstraps(const nc_embedded *e);

/* Creates topic with partitions (>= 1) partitions; an existing topic is kept. */
int nc_embedded_create_topic(nc_embedded *e, const char *topic, int partitions, char *err,
                             size_t errlen);

/* Takes every broker down (connections dropped, new ones refused) or up. */
int nc_embedded_set_up(nc_embedded *e, int up, char *err, size_t errlen);

#endif
