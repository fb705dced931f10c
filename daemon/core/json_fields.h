/*
 * json_fields.h - the fast JSON reader of article.c: simdjson (C++, in
 * json_fields.cc) behind a C interface.
 *
 * One reader per article object, reused for every message: the text is
 * copied into a buffer padded with SIMDJSON_PADDING bytes (simdjson reads
 * past the end in blocks), parsed into simdjson's reused document, and the
 * top-level fields the caller names are reported with their type and value.
 *
 * The reader only decides what it can decide exactly as jansson's
 * json_loadb(JSON_REJECT_DUPLICATES | JSON_ALLOW_NUL) would: a text it
 * reports as accepted is one JSON object that jansson accepts too, nested no
 * deeper than the depth given to nc_jfields_new(), with no duplicate key and
 * no NUL in a key in any object, no integer beyond int64 (simdjson reads
 * 2^63..2^64-1 as an unsigned integer, jansson refuses it). Everything else
 * -- any text simdjson refuses, and the cases just named -- is left to the
 * caller, who parses it with jansson: the reason code and the detail of a
 * refusal always come from jansson.
 */
#ifndef NC_JSON_FIELDS_H
#define NC_JSON_FIELDS_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct nc_jfields nc_jfields;

enum nc_jf_type {
    NC_JF_ABSENT = 0, /* no such key */
    NC_JF_NULL,
    NC_JF_STRING,
    NC_JF_INT,  /* a number without '.', 'e' or 'E' (jansson's integer) */
    NC_JF_REAL, /* any other number */
    NC_JF_OTHER /* true, false, an array or an object */
};

struct nc_jf_value {
    enum nc_jf_type type;
    const char *s; /* NC_JF_STRING: the decoded bytes (may hold NUL), s[len] is NUL */
    size_t len;
    long long i; /* NC_JF_INT */
    double d;    /* NC_JF_REAL */
};

/* A reader that refuses nesting deeper than max_depth. NULL: out of memory. */
nc_jfields *nc_jfields_new(size_t max_depth);
void nc_jfields_free(nc_jfields *p);

/* Copies text[0..len) into the reader's padded buffer (0, or -1 when out of
 * memory). Buffers grown for one huge text are given back at the next
 * ordinary one. */
int nc_jfields_load(nc_jfields *p, const char *text, size_t len);

/* The text loaded last; valid until the next load. */
const char *nc_jfields_text(const nc_jfields *p, size_t *len);

/*
 * Parses the loaded text and fills out[k] for keys[k] (k < nkeys) from the
 * top-level object. Returns 1 when the text is accepted (see above), 0 when
 * it is left to jansson, -1 when out of memory. Strings stay valid until the
 * next load or parse.
 */
int nc_jfields_parse(nc_jfields *p, const char *const *keys, size_t nkeys,
                     struct nc_jf_value *out);

#ifdef __cplusplus
}
#endif

#endif
