/*
 * hostile_produce.c - produces arbitrary Kafka records for the hardening
 * tests: any key and value bytes (or none), any header bytes, to a chosen
 * partition, with a raised message.max.bytes. bench/pipeline_load cannot:
 * it reads lines or whole files and sets the same headers on every record.
 *
 *   hostile_produce BROKERS TOPIC SPEC_FILE REPORT_FILE [PROPERTY=VALUE]...
 *
 * SPEC_FILE: records, each (little-endian int32 fields)
 *   partition (-1: the partitioner), key_len (-1: no key), key bytes,
 *   value_len (-1: no value), value bytes, n_headers, then per header
 *   name_len, name bytes (no NUL), value_len (-1: null), value bytes.
 * REPORT_FILE: one line per record from its delivery report:
 *   "INDEX PARTITION OFFSET ERROR" (ERROR: NO_ERROR or librdkafka's name).
 * Exit 0 when every record was delivered, 1 otherwise.
 */
#include <librdkafka/rdkafka.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static FILE *report;
static long delivered, failed;

static void die(const char *what, const char *why)
{
    fprintf(stderr, "hostile_produce: %s: %s\n", what, why);
    exit(2);
}

static void on_dr(rd_kafka_t *rk, const rd_kafka_message_t *m, void *opaque)
{
    (void)rk;
    (void)opaque;
    fprintf(report, "%ld %d %lld %s\n", (long)(intptr_t)m->_private, (int)m->partition,
            (long long)m->offset, rd_kafka_err2name(m->err));
    if (m->err)
        failed++;
    else
        delivered++;
}

static int32_t get_i32(const unsigned char **p, const unsigned char *end)
{
    uint32_t v;
    if (end - *p < 4)
        die("spec", "truncated");
    v = (uint32_t)(*p)[0] | (uint32_t)(*p)[1] << 8 | (uint32_t)(*p)[2] << 16 |
        (uint32_t)(*p)[3] << 24;
    *p += 4;
    return (int32_t)v;
}

static const unsigned char *get_bytes(const unsigned char **p, const unsigned char *end,
                                      int32_t len)
{
    const unsigned char *b = *p;
    if (len < 0)
        return NULL;
    if (end - *p < len)
        die("spec", "truncated");
    *p += len;
    return b;
}

static unsigned char *read_all(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    unsigned char *buf = NULL;
    size_t cap = 0, n = 0;
    if (!f)
        die(path, "cannot open");
    for (;;) {
        size_t r;
        if (n == cap) {
            cap = cap ? cap * 2 : 1 << 20;
            buf = realloc(buf, cap);
            if (!buf)
                die(path, "out of memory");
        }
        r = fread(buf + n, 1, cap - n, f);
        if (r == 0)
            break;
        n += r;
    }
    fclose(f);
    *len = n;
    return buf;
}

int main(int argc, char **argv)
{
    char errstr[512];
    rd_kafka_conf_t *conf;
    rd_kafka_t *rk;
    unsigned char *spec;
    const unsigned char *p, *end;
    size_t speclen;
    long idx = 0;

    if (argc < 5) {
        fprintf(stderr, "usage: hostile_produce BROKERS TOPIC SPEC_FILE REPORT_FILE [K=V]...\n");
        return 2;
    }
    conf = rd_kafka_conf_new();
    if (rd_kafka_conf_set(conf, "bootstrap.servers", argv[1], errstr, sizeof(errstr)) ||
        rd_kafka_conf_set(conf, "acks", "all", errstr, sizeof(errstr)) ||
        rd_kafka_conf_set(conf, "enable.idempotence", "true", errstr, sizeof(errstr)) ||
        rd_kafka_conf_set(conf, "linger.ms", "5", errstr, sizeof(errstr)) ||
        rd_kafka_conf_set(conf, "message.max.bytes", "8000000", errstr, sizeof(errstr)) ||
        rd_kafka_conf_set(conf, "queue.buffering.max.kbytes", "262144", errstr, sizeof(errstr)) ||
        rd_kafka_conf_set(conf, "message.timeout.ms", "60000", errstr, sizeof(errstr)) ||
        rd_kafka_conf_set(conf, "log_level", "3", errstr, sizeof(errstr)))
        die("conf", errstr);
    for (int i = 5; i < argc; i++) {
        char *eq = strchr(argv[i], '=');
        if (!eq)
            die("property", argv[i]);
        *eq = '\0';
        if (rd_kafka_conf_set(conf, argv[i], eq + 1, errstr, sizeof(errstr)))
            die("conf", errstr);
    }
    rd_kafka_conf_set_dr_msg_cb(conf, on_dr);
    rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, errstr, sizeof(errstr));
    if (!rk)
        die("producer", errstr);
    report = fopen(argv[4], "w");
    if (!report)
        die(argv[4], "cannot write");
    spec = read_all(argv[3], &speclen);
    p = spec;
    end = spec + speclen;
    while (p < end) {
        int32_t part = get_i32(&p, end);
        int32_t klen = get_i32(&p, end);
        const unsigned char *key = get_bytes(&p, end, klen);
        int32_t vlen = get_i32(&p, end);
        const unsigned char *val = get_bytes(&p, end, vlen);
        int32_t nh = get_i32(&p, end);
        rd_kafka_headers_t *h = rd_kafka_headers_new(nh > 0 ? (size_t)nh : 1);
        rd_kafka_resp_err_t err;

        for (int32_t i = 0; i < nh; i++) {
            int32_t nlen = get_i32(&p, end);
            const unsigned char *name = get_bytes(&p, end, nlen);
            int32_t hvlen = get_i32(&p, end);
            const unsigned char *hv = get_bytes(&p, end, hvlen);
            if (!name)
                die("spec", "header without a name");
            rd_kafka_header_add(h, (const char *)name, nlen, hv, hvlen < 0 ? 0 : hvlen);
        }
        for (;;) {
            err = rd_kafka_producev(
                rk, RD_KAFKA_V_TOPIC(argv[2]),
                RD_KAFKA_V_PARTITION(part < 0 ? RD_KAFKA_PARTITION_UA : part),
                RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
                RD_KAFKA_V_KEY(key, klen < 0 ? 0 : (size_t)klen),
                RD_KAFKA_V_VALUE((void *)val, vlen < 0 ? 0 : (size_t)vlen),
                /* the opaque is the record's index, not an address */
                RD_KAFKA_V_OPAQUE((void *)(intptr_t)idx), /* NOLINT(performance-no-int-to-ptr) */
                RD_KAFKA_V_HEADERS(h), RD_KAFKA_V_END);
            if (err != RD_KAFKA_RESP_ERR__QUEUE_FULL)
                break;
            rd_kafka_poll(rk, 50);
        }
        if (err) {
            fprintf(stderr, "hostile_produce: record %ld: %s\n", idx, rd_kafka_err2str(err));
            rd_kafka_headers_destroy(h);
            fprintf(report, "%ld -1 -1 %s\n", idx, rd_kafka_err2name(err));
            failed++;
        }
        rd_kafka_poll(rk, 0);
        idx++;
    }
    while (rd_kafka_flush(rk, 1000) == RD_KAFKA_RESP_ERR__TIMED_OUT)
        ;
    rd_kafka_destroy(rk);
    fclose(report);
    free(spec);
    fprintf(stderr, "hostile_produce: %ld records, %ld delivered, %ld failed\n", idx, delivered,
            failed);
    return failed ? 1 : 0;
}
