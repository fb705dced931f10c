/*
 * config_table.h - the shape of the key table: what one configuration key is
 * (dotted path, type, where it lives in struct nc_config, default, range,
 * check, help), and the table itself (config_table.c) with the librdkafka
 * properties the pass-through maps refuse. Private to daemon/config/.
 */
#ifndef NC_CONFIG_TABLE_H
#define NC_CONFIG_TABLE_H

#include <stddef.h>

#include "config/config.h"

enum nc_ctype {
    CT_STR,     /* char *                                     */
    CT_BOOL,    /* bool                                       */
    CT_INT,     /* int, in [min, max]                         */
    CT_SIZE,    /* size_t, in [min, max]                      */
    CT_ENUM,    /* enum stored as int, names in `names`       */
    CT_STRLIST, /* char ** + size_t count                     */
    CT_KV,      /* nc_kv * + size_t count: librdkafka props   */
    CT_THRESH,  /* nc_threshold * + size_t count              */
    CT_ROUTES,  /* nc_route * + size_t count                  */
    CT_FIELDS,  /* enum nc_config_fields + char ** + count    */
};

/* Extra checks on string values (and list items). */
enum nc_ccheck {
    CK_ANY = 0,
    CK_NONEMPTY,     /* any non-empty text                          */
    CK_KAFKA_NAME,   /* Kafka-legal name: [A-Za-z0-9._-]{1,249}     */
    CK_KAFKA_NAME0,  /* the same, or empty                          */
    CK_TOPIC,        /* topic name (not "." or "..")                */
    CK_TOPIC_PREFIX, /* topic name prefix                           */
    CK_INPUT_TOPIC,  /* topic name or ^regex (POSIX ERE)            */
    CK_HOSTPORT,     /* host:port or [v6]:port                      */
};

enum { KF_RELOAD = 1u << 0 }; /* applied by a reload without a restart */

struct nc_ckey {
    const char *path;
    enum nc_ctype type;
    size_t off;       /* the value (or the list/array pointer) */
    size_t off_items; /* CT_FIELDS: the char ** list */
    size_t off_count; /* lists and maps: the size_t count */
    const char *def;  /* default, as --set text */
    long long min, max;
    const char *const *names; /* CT_ENUM: value i is names[i]; NULL-terminated */
    enum nc_ccheck check;
    unsigned flags;
    const char *help;
};

extern const struct nc_ckey nc_ckeys[];
extern const size_t nc_nckeys;

/*
 * librdkafka properties kafka.consumer / kafka.producer may not set, and why.
 * Matched case-insensitively, aliases included.
 */
struct nc_refused {
    const char *prop;
    const char *why;
};

extern const struct nc_refused nc_refused_props[];
extern const size_t nc_nrefused;

#endif
