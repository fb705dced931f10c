/*
 * article.h - one input message -> struct nc_article.
 *
 * A leading UTF-8 byte-order mark (EF BB BF) is skipped first: it is not part
 * of the article (a JSON article with one stays JSON), and a message that is
 * only a mark is empty. Then a message whose first non-space byte is '{' must
 * be a JSON object; one starting with '[' is rejected as not_an_object;
 * anything else is plain text: the whole message after the mark is the body
 * and there is no id. Recognised JSON fields: id (string or number, numbers
 * rendered as strings), title, body (or text, content), published (or date),
 * url, lang, source (or outlet). Every other field is kept in the parsed
 * object for pass-through. Only title and body feed the features.
 *
 * Decisions: duplicate object keys are rejected (invalid_json, "duplicate
 * key"), because which title is the real one would be a guess; "\u0000"
 * escapes are accepted and a NUL inside title/body is treated as a separator.
 * Fields that are null count as absent.
 *
 * JSON is read by simdjson (json_fields.h) where it can decide exactly as
 * jansson would, and by jansson otherwise: jansson's verdict is the rule, so
 * an invalid_json or invalid_utf8 refusal has jansson's detail. The same
 * field rules then apply whichever parser read the fields. The jansson
 * object (nc_article_json) is built only when asked for.
 *
 * The article owns its memory; nc_article_parse() may be called again on the
 * same object to reuse it. One article belongs to one thread at a time (even
 * nc_article_json, which builds the object on first use, writes to it).
 */
#ifndef NC_ARTICLE_H
#define NC_ARTICLE_H

#include <jansson.h>
#include <stddef.h>

/* Stable reason codes: they appear in dead-letter headers and CLI output. */
enum nc_article_error {
    NC_ART_OK = 0,
    NC_ART_INVALID_JSON,
    NC_ART_NOT_AN_OBJECT,
    NC_ART_INVALID_UTF8,
    NC_ART_EMPTY,
    NC_ART_TOO_LARGE,
    NC_ART_BAD_FIELD,
};

/* Default size limit: 900 KiB, so a labeled output still fits Kafka's 1 MB. */
#define NC_ARTICLE_DEFAULT_MAX_BYTES ((size_t)900 * 1024)

typedef struct nc_article nc_article;

nc_article *nc_article_new(void);
void nc_article_free(nc_article *a);

/* "invalid_json", "not_an_object", ... ; "ok" for NC_ART_OK. */
const char *nc_article_reason(enum nc_article_error e);

/*
 * Parses buf[0..len). max_bytes 0 means NC_ARTICLE_DEFAULT_MAX_BYTES.
 * Returns NC_ART_OK or the reason code (a positive enum value) and writes a
 * one-line detail to err.
 */
enum nc_article_error nc_article_parse(nc_article *a, const char *buf, size_t len,
                                       size_t max_bytes, char *err, size_t errlen);

/* The same with jansson alone: the reference the differential fuzz target
 * (tests/fuzz/harness_article_diff.c) holds nc_article_parse() to. */
enum nc_article_error nc_article_parse_jansson(nc_article *a, const char *buf, size_t len,
                                               size_t max_bytes, char *err, size_t errlen);

/* 1 when the last message was JSON that simdjson decided alone (accepted, or
 * refused for a field: bad_field, empty), without jansson; else 0. */
int nc_article_fast(const nc_article *a);

/* Accessors; valid until the next parse or free. Absent fields give NULL
 * (and *len = 0). Strings may contain NUL bytes only in title/body. */
const char *nc_article_id(const nc_article *a);
const char *nc_article_title(const nc_article *a, size_t *len);
const char *nc_article_body(const nc_article *a, size_t *len);
const char *nc_article_lang(const nc_article *a);
/* The parsed JSON object (borrowed), or NULL for a plain-text article. After
 * the fast reader, jansson parses the text on the first call. */
json_t *nc_article_json(const nc_article *a);
/*
 * The JSON object's text exactly as received (a byte-order mark and the
 * surrounding white space cut),
 * or NULL: for plain text, when the text spans several lines (so that a
 * record embedding it stays on one line), and when it holds a NUL byte
 * (jansson accepts one between tokens, other JSON parsers do not). It is a
 * valid JSON object with no duplicate keys, so outputs can embed it without
 * serialising the parsed object again, and the article's numbers and escapes
 * pass through untouched.
 */
const char *nc_article_raw(const nc_article *a, size_t *len);

#endif
