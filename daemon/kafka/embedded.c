/*
 * embedded.c - librdkafka mock cluster hosting (see embedded.h).
 */
#include "kafka/embedded.h"

#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct nc_embedded {
    rd_kafka_t *rk; /* owner handle of the mock cluster (never produces) */
    rd_kafka_mock_cluster_t *mc;
    int nbrokers;
};

/* The owner handle: it only hosts the mock (never produces); quiet. */
static rd_kafka_t *owner_handle(char *err, size_t errlen)
{
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    char errstr[512];
    rd_kafka_t *rk = NULL;

    if (rd_kafka_conf_set(conf, "log_level", "3", errstr, sizeof(errstr)) == RD_KAFKA_CONF_OK)
        rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, errstr, sizeof(errstr));
    if (!rk) {
        rd_kafka_conf_destroy(conf); /* not taken over */
        snprintf(err, errlen, "embedded broker: %s", errstr);
    }
    return rk;
}

int nc_embedded_new(int nbrokers, nc_embedded **out, char *err, size_t errlen)
{
    nc_embedded *e = calloc(1, sizeof(*e));

    *out = NULL;
    if (!e) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    e->nbrokers = nbrokers < 1 ? 1 : nbrokers;
    e->rk = owner_handle(err, errlen);
    if (e->rk && !(e->mc = rd_kafka_mock_cluster_new(e->rk, e->nbrokers)))
        snprintf(err, errlen, "embedded broker: cannot start the mock cluster");
    if (!e->mc) {
        nc_embedded_free(e);
        return -1;
    }
    *out = e;
    return 0;
}

void nc_embedded_free(nc_embedded *e)
{
    if (!e)
        return;
    if (e->mc)
        rd_kafka_mock_cluster_destroy(e->mc);
    if (e->rk)
        rd_kafka_destroy(e->rk);
    free(e);
}

const char *nc_embedded_bootstraps(const nc_embedded *e)
{
    return rd_kafka_mock_cluster_bootstraps(e->mc);
}

int nc_embedded_create_topic(nc_embedded *e, const char *topic, int partitions, char *err,
                             size_t errlen)
{
    rd_kafka_resp_err_t r;

    if (partitions < 1)
        partitions = 1;
    /* The mock ignores CreateTopics requests in 2.0.2 (docs/kafka.md), so
     * topics are created through the mock API; replication is one copy on
     * each of up to three brokers. */
    r = rd_kafka_mock_topic_create(e->mc, topic, partitions, e->nbrokers < 3 ? e->nbrokers : 3);
    if (r && r != RD_KAFKA_RESP_ERR_TOPIC_ALREADY_EXISTS) {
        snprintf(err, errlen, "embedded broker: cannot create topic %s: %s", topic,
                 rd_kafka_err2str(r));
        return -1;
    }
    return 0;
}

int nc_embedded_set_up(nc_embedded *e, int up, char *err, size_t errlen)
{
    for (int id = 1; id <= e->nbrokers; id++) {
        rd_kafka_resp_err_t r =
            up ? rd_kafka_mock_broker_set_up(e->mc, id) : rd_kafka_mock_broker_set_down(e->mc, id);
        if (r) {
            snprintf(err, errlen, "embedded broker %d: %s", id, rd_kafka_err2str(r));
            return -1;
        }
    }
    return 0;
}
