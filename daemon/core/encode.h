/*
 * encode.h - the labeled output record (JSON), shared by `newsclf classify`
 * and newsclfd so offline and streaming outputs compare field by field.
 *
 * Schema (schema_version 1), keys in this order:
 *   schema_version, id, labels, scores, decision, [skipped], model,
 *   [input], [classified_at], [article]
 * "input" and "classified_at" are written when opts->input is given (the
 * daemon); "article" according to opts->article_mode.
 */
#ifndef NC_ENCODE_H
#define NC_ENCODE_H

#include <stddef.h>
#include <stdint.h>

#include "core/article.h"
#include "core/model.h"

#define NC_SCHEMA_VERSION 1

enum nc_article_mode { NC_ARTICLE_NONE = 0, NC_ARTICLE_ALL, NC_ARTICLE_LIST };

struct nc_input_meta {
    const char *topic;
    int32_t partition;
    int64_t offset;
    int64_t timestamp_ms;   /* message timestamp, -1 if none */
    int64_t classified_at_ms; /* wall clock, milliseconds since the epoch */
};

struct nc_encode_opts {
    enum nc_article_mode article_mode;
    const char *const *fields; /* NC_ARTICLE_LIST: field names to copy */
    size_t nfields;
    const struct nc_input_meta *input; /* NULL: omit input and classified_at */
};

/*
 * Encodes one result as a compact JSON object (no trailing newline) into a
 * malloc'd buffer; *len gets its length. Returns NULL with err on failure.
 */
char *nc_encode_result(const nc_model *m, const nc_article *a, const nc_result *r,
                       const struct nc_encode_opts *opts, size_t *len, char *err, size_t errlen);

/*
 * A score as the record writes it (jansson's JSON_REAL_PRECISION(6) form,
 * e.g. "0.5", "1e-5", "3.0"), NUL-terminated into buf; returns its length,
 * 0 when it does not fit.
 */
size_t nc_encode_real(double v, char *buf, size_t buflen);

/* The comma-separated label list of a result ("" when none), into buf. */
size_t nc_encode_labels_csv(const nc_model *m, const nc_result *r, char *buf, size_t buflen);

#endif
