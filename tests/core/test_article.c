/*
 * test_article.c - the input-message parser (daemon/core/article.h): every
 * reason code, field types and aliases, plain-text messages and the decisions
 * the header documents (duplicate keys rejected, "\u0000" accepted, null
 * fields absent, '[' rejected but any other non-'{' start is plain text, a
 * leading byte-order mark skipped), jansson's limits kept by the simdjson
 * reader, and the simdjson reader against the jansson reference on the corpus.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/article.h"
#include "testutil.h"

static int setup(void **state)
{
    *state = nc_article_new();
    return *state ? 0 : -1;
}

static int teardown(void **state)
{
    nc_article_free(*state);
    return 0;
}

static char last_err[512];

static enum nc_article_error parse_n(nc_article *a, const char *buf, size_t len, size_t max)
{
    return nc_article_parse(a, buf, len, max, last_err, sizeof(last_err));
}

static enum nc_article_error parse(nc_article *a, const char *s)
{
    return parse_n(a, s, strlen(s), 0);
}

/* Asserts the reason code, a one-line detail containing `detail`, and no fields left. */
static void expect_reject(nc_article *a, const char *msg, size_t len, size_t max,
                          enum nc_article_error want, const char *detail)
{
    enum nc_article_error e = parse_n(a, msg, len, max);
    if (e != want)
        fail_msg("\"%.*s\": expected %s, got %s (%s)", (int)(len > 80 ? 80 : len), msg,
                 nc_article_reason(want), nc_article_reason(e), last_err);
    assert_one_line(last_err);
    if (detail)
        assert_contains(last_err, detail);
    /* a rejected article exposes nothing from the message */
    size_t n = 1;
    assert_null(nc_article_id(a));
    assert_null(nc_article_title(a, &n));
    assert_int_equal(n, 0);
    assert_null(nc_article_body(a, &n));
    assert_int_equal(n, 0);
    assert_null(nc_article_lang(a));
    assert_null(nc_article_json(a));
}

#define REJECT(msg, want, detail) expect_reject(a, msg, strlen(msg), 0, want, detail)

static void expect_ok(nc_article *a, const char *msg)
{
    enum nc_article_error e = parse(a, msg);
    if (e != NC_ART_OK)
        fail_msg("\"%s\": expected ok, got %s (%s)", msg, nc_article_reason(e), last_err);
    assert_string_equal(last_err, "");
}

static void expect_field(const char *got, size_t glen, const char *want)
{
    assert_non_null(got);
    assert_int_equal(glen, strlen(want));
    assert_memory_equal(got, want, glen);
}

static void expect_body(const nc_article *a, const char *want)
{
    size_t n = 0;
    const char *b = nc_article_body(a, &n);
    expect_field(b, n, want);
}

static void expect_title(const nc_article *a, const char *want)
{
    size_t n = 0;
    const char *t = nc_article_title(a, &n);
    expect_field(t, n, want);
}

static void test_reason_names(void **state)
{
    (void)state;
    assert_string_equal(nc_article_reason(NC_ART_OK), "ok");
    assert_string_equal(nc_article_reason(NC_ART_INVALID_JSON), "invalid_json");
    assert_string_equal(nc_article_reason(NC_ART_NOT_AN_OBJECT), "not_an_object");
    assert_string_equal(nc_article_reason(NC_ART_INVALID_UTF8), "invalid_utf8");
    assert_string_equal(nc_article_reason(NC_ART_EMPTY), "empty");
    assert_string_equal(nc_article_reason(NC_ART_TOO_LARGE), "too_large");
    assert_string_equal(nc_article_reason(NC_ART_BAD_FIELD), "bad_field");
    assert_string_equal(nc_article_reason((enum nc_article_error)99), "unknown");
}

static void test_invalid_json(void **state)
{
    nc_article *a = *state;
    REJECT("{", NC_ART_INVALID_JSON, NULL);
    REJECT("{\"title\": }", NC_ART_INVALID_JSON, "line 1");
    REJECT("{\"title\": \"a\",}", NC_ART_INVALID_JSON, NULL);
    REJECT("{'title': 'single quotes'}", NC_ART_INVALID_JSON, NULL);
    REJECT("{\"title\": \"unterminated}", NC_ART_INVALID_JSON, NULL);
    REJECT("{\"title\": \"bad escape \\x\"}", NC_ART_INVALID_JSON, NULL);
    /* trailing garbage after the object */
    REJECT("{\"title\": \"a\"} x", NC_ART_INVALID_JSON, NULL);
    REJECT("{\"title\": \"a\"}{\"title\": \"b\"}", NC_ART_INVALID_JSON, NULL);
    /* duplicate keys: which title is the real one would be a guess */
    REJECT("{\"title\": \"a\", \"title\": \"b\"}", NC_ART_INVALID_JSON, "duplicate");
    REJECT("{\"id\": 1, \"body\": \"x\", \"meta\": {\"k\": 1, \"k\": 2}}", NC_ART_INVALID_JSON,
           "duplicate");
    /* trailing white space is fine */
    expect_ok(a, "{\"title\": \"a\"}  \r\n\t ");
}

static void test_not_an_object(void **state)
{
    nc_article *a = *state;
    REJECT("[1, 2]", NC_ART_NOT_AN_OBJECT, "array");
    REJECT("  \n [{\"title\": \"a\"}]", NC_ART_NOT_AN_OBJECT, NULL);
    REJECT("[", NC_ART_NOT_AN_OBJECT, NULL); /* rejected by its first byte, even if broken */
}

/* Anything that does not start with '{' or '[' is a plain-text body. */
static void test_plain_text(void **state)
{
    nc_article *a = *state;
    size_t n;
    expect_ok(a, "Hello world, this is news.");
    assert_null(nc_article_id(a));
    assert_null(nc_article_title(a, &n));
    assert_int_equal(n, 0);
    expect_body(a, "Hello world, this is news.");
    assert_null(nc_article_json(a));
    assert_null(nc_article_lang(a));
    /* a JSON string or number is plain text too (see article.h) */
    expect_ok(a, "\"x\"");
    expect_body(a, "\"x\"");
    assert_null(nc_article_json(a));
    expect_ok(a, "42");
    expect_body(a, "42");
    /* the whole message is the body, leading space included */
    expect_ok(a, "  indented");
    expect_body(a, "  indented");
    /* a NUL inside a plain-text body is kept (it is a separator later) */
    const char nul[] = "ab\0cd";
    assert_int_equal(parse_n(a, nul, 5, 0), NC_ART_OK);
    const char *b = nc_article_body(a, &n);
    assert_int_equal(n, 5);
    assert_memory_equal(b, nul, 5);
}

static void test_invalid_utf8(void **state)
{
    nc_article *a = *state;
    REJECT("caf\xe9", NC_ART_INVALID_UTF8, "UTF-8");
    REJECT("{\"title\": \"caf\xe9\"}", NC_ART_INVALID_UTF8, NULL);
    REJECT("{\"title\": \"\xed\xa0\x80\"}", NC_ART_INVALID_UTF8, NULL); /* surrogate */
    REJECT("{\"title\": \"\xc0\xaf\"}", NC_ART_INVALID_UTF8, NULL);     /* overlong */
    REJECT("text then a cut character \xe4\xb8", NC_ART_INVALID_UTF8, NULL);
    REJECT("[\xff]", NC_ART_INVALID_UTF8, NULL); /* checked before the first byte */
    /* valid multi-byte text passes */
    expect_ok(a, "{\"title\": \"\xe4\xb8\xad\xe6\x96\x87 caf\xc3\xa9 \xf0\x9f\x98\x80\"}");
}

static void test_empty(void **state)
{
    nc_article *a = *state;
    expect_reject(a, "", 0, 0, NC_ART_EMPTY, NULL);
    expect_reject(a, NULL, 0, 0, NC_ART_EMPTY, NULL);
    REJECT(" \t\r\n ", NC_ART_EMPTY, NULL);
    REJECT("{}", NC_ART_EMPTY, "no title and no body");
    REJECT("{\"id\": \"x\", \"url\": \"http://x.test\"}", NC_ART_EMPTY, NULL);
    REJECT("{\"title\": \"\", \"body\": \"\"}", NC_ART_EMPTY, NULL);
    REJECT("{\"title\": \"  \", \"body\": \" \\n\\t\\r \"}", NC_ART_EMPTY, NULL);
    REJECT("{\"title\": null, \"body\": null, \"text\": null}", NC_ART_EMPTY, NULL);
    /* one non-blank field is enough */
    expect_ok(a, "{\"title\": \"t\"}");
    expect_ok(a, "{\"body\": \"b\"}");
}

static void test_too_large(void **state)
{
    nc_article *a = *state;
    const char *msg = "{\"title\": \"abc\"}"; /* 16 bytes */
    expect_reject(a, msg, 16, 15, NC_ART_TOO_LARGE, "limit is 15");
    assert_int_equal(parse_n(a, msg, 16, 16), NC_ART_OK);
    /* the size check comes first, before UTF-8 and JSON */
    expect_reject(a, "\xff\xff\xff", 3, 2, NC_ART_TOO_LARGE, NULL);
    /* default limit (max_bytes 0): NC_ARTICLE_DEFAULT_MAX_BYTES */
    size_t big = NC_ARTICLE_DEFAULT_MAX_BYTES + 1;
    char *s = malloc(big);
    assert_non_null(s);
    memset(s, 'a', big);
    expect_reject(a, s, big, 0, NC_ART_TOO_LARGE, NULL);
    assert_int_equal(parse_n(a, s, big - 1, 0), NC_ART_OK);
    size_t n;
    nc_article_body(a, &n);
    assert_int_equal(n, big - 1);
    free(s);
}

static void test_bad_field(void **state)
{
    nc_article *a = *state;
    REJECT("{\"title\": \"t\", \"body\": 42}", NC_ART_BAD_FIELD, "\"body\"");
    REJECT("{\"title\": {\"text\": \"t\"}, \"body\": \"b\"}", NC_ART_BAD_FIELD, "\"title\"");
    REJECT("{\"title\": [\"t\"], \"body\": \"b\"}", NC_ART_BAD_FIELD, "\"title\"");
    REJECT("{\"id\": true, \"title\": \"t\"}", NC_ART_BAD_FIELD, "\"id\"");
    REJECT("{\"id\": [1], \"title\": \"t\"}", NC_ART_BAD_FIELD, "\"id\"");
    REJECT("{\"id\": {}, \"title\": \"t\"}", NC_ART_BAD_FIELD, "\"id\"");
    REJECT("{\"title\": \"t\", \"text\": false}", NC_ART_BAD_FIELD, "\"text\"");
    REJECT("{\"title\": \"t\", \"content\": 1.5}", NC_ART_BAD_FIELD, "\"content\"");
    REJECT("{\"title\": \"t\", \"lang\": 7}", NC_ART_BAD_FIELD, "\"lang\"");
    REJECT("{\"title\": \"t\", \"url\": 7}", NC_ART_BAD_FIELD, "\"url\"");
    REJECT("{\"title\": \"t\", \"source\": []}", NC_ART_BAD_FIELD, "\"source\"");
    REJECT("{\"title\": \"t\", \"outlet\": {}}", NC_ART_BAD_FIELD, "\"outlet\"");
    REJECT("{\"title\": \"t\", \"published\": true}", NC_ART_BAD_FIELD, "\"published\"");
    REJECT("{\"title\": \"t\", \"date\": []}", NC_ART_BAD_FIELD, "\"date\"");
    /* NUL is only allowed in title and body */
    REJECT("{\"id\": \"a\\u0000b\", \"title\": \"t\"}", NC_ART_BAD_FIELD, "NUL");
    REJECT("{\"title\": \"t\", \"lang\": \"e\\u0000n\"}", NC_ART_BAD_FIELD, "NUL");
    /* accepted types */
    expect_ok(a, "{\"title\": \"t\", \"published\": \"2024-01-01\", \"date\": 1700000000}");
    expect_ok(a, "{\"title\": \"t\", \"published\": null, \"url\": null, \"lang\": null}");
}

static void test_ids(void **state)
{
    nc_article *a = *state;
    expect_ok(a, "{\"id\": \"abc-1\", \"title\": \"t\"}");
    assert_string_equal(nc_article_id(a), "abc-1");
    expect_ok(a, "{\"id\": 12345, \"title\": \"t\"}");
    assert_string_equal(nc_article_id(a), "12345");
    expect_ok(a, "{\"id\": -7, \"title\": \"t\"}");
    assert_string_equal(nc_article_id(a), "-7");
    expect_ok(a, "{\"id\": 9007199254740993, \"title\": \"t\"}");
    assert_string_equal(nc_article_id(a), "9007199254740993"); /* no double rounding */
    expect_ok(a, "{\"id\": 9223372036854775807, \"title\": \"t\"}");
    assert_string_equal(nc_article_id(a), "9223372036854775807");
    expect_ok(a, "{\"id\": 1.5, \"title\": \"t\"}");
    assert_string_equal(nc_article_id(a), "1.5");
    expect_ok(a, "{\"id\": null, \"title\": \"t\"}");
    assert_null(nc_article_id(a));
    expect_ok(a, "{\"title\": \"t\"}");
    assert_null(nc_article_id(a));
}

static void test_body_aliases(void **state)
{
    nc_article *a = *state;
    expect_ok(a, "{\"text\": \"from text\"}");
    expect_body(a, "from text");
    expect_ok(a, "{\"content\": \"from content\"}");
    expect_body(a, "from content");
    /* body wins over text, text over content */
    expect_ok(a, "{\"content\": \"c\", \"text\": \"t\", \"body\": \"b\"}");
    expect_body(a, "b");
    expect_ok(a, "{\"content\": \"c\", \"text\": \"t\"}");
    expect_body(a, "t");
    /* a null field is absent: the next alias is used */
    expect_ok(a, "{\"body\": null, \"text\": null, \"content\": \"c\"}");
    expect_body(a, "c");
    expect_ok(a, "{\"title\": \"T\", \"body\": \"B\", \"source\": \"s\", \"outlet\": \"o\"}");
    expect_title(a, "T");
    expect_body(a, "B");
}

static void test_nul_escape_accepted(void **state)
{
    nc_article *a = *state;
    size_t n;
    expect_ok(a, "{\"title\": \"a\\u0000b\", \"body\": \"\\u0000x\"}");
    const char *t = nc_article_title(a, &n);
    assert_int_equal(n, 3);
    assert_memory_equal(t, "a\0b", 3);
    const char *b = nc_article_body(a, &n);
    assert_int_equal(n, 2);
    assert_memory_equal(b, "\0x", 2);
    /* a title that is only NUL is not blank (NUL is not white space) */
    expect_ok(a, "{\"title\": \"\\u0000\"}");
}

static void test_lang_and_passthrough(void **state)
{
    nc_article *a = *state;
    expect_ok(a, "{\"title\": \"t\", \"lang\": \"de\", \"extra\": {\"k\": [1, 2]}, \"n\": 1}");
    assert_string_equal(nc_article_lang(a), "de");
    json_t *o = nc_article_json(a);
    assert_non_null(o);
    assert_true(json_is_object(json_object_get(o, "extra")));
    assert_int_equal(json_integer_value(json_object_get(o, "n")), 1);
    expect_ok(a, "{\"title\": \"t\"}");
    assert_null(nc_article_lang(a));
}

/* Re-parsing replaces everything from the previous message. */
static void test_reuse(void **state)
{
    nc_article *a = *state;
    size_t n;
    expect_ok(a, "{\"id\": 5, \"title\": \"old title\", \"body\": \"old\", \"lang\": \"en\"}");
    expect_ok(a, "just text");
    assert_null(nc_article_id(a));
    assert_null(nc_article_title(a, &n));
    assert_null(nc_article_lang(a));
    expect_body(a, "just text");
    expect_ok(a, "{\"id\": \"x\", \"title\": \"new\"}");
    assert_null(nc_article_body(a, &n));
    assert_int_equal(n, 0);
    assert_string_equal(nc_article_id(a), "x");
    /* leading white space before '{' still means JSON */
    expect_ok(a, " \r\n\t{\"title\": \"spaced\"}");
    assert_non_null(nc_article_json(a));
    expect_title(a, "spaced");
    /* lengths come from the caller, not from a terminating NUL */
    const char buf[] = "{\"title\": \"abc\"}GARBAGE";
    assert_int_equal(parse_n(a, buf, 16, 0), NC_ART_OK);
    expect_title(a, "abc");
    /* a huge article, then small ones again (the reader gives its buffers back) */
    size_t big = 800 * 1024;
    char *huge = malloc(big + 32);
    assert_non_null(huge);
    int h = snprintf(huge, 32, "{\"id\": 9, \"body\": \"");
    memset(huge + h, 'w', big);
    memcpy(huge + h + big, "\"}", 2);
    assert_int_equal(parse_n(a, huge, (size_t)h + big + 2, 0), NC_ART_OK);
    assert_int_equal(nc_article_fast(a), 1);
    nc_article_body(a, &n);
    assert_int_equal(n, big);
    free(huge);
    expect_ok(a, "{\"id\": \"small\", \"title\": \"again\"}");
    assert_int_equal(nc_article_fast(a), 1);
    assert_string_equal(nc_article_id(a), "small");
    expect_title(a, "again");
}

/* The object's text as received, for outputs to embed: on one line only. */
static void test_raw_text(void **state)
{
    nc_article *a = *state;
    size_t n = 99;
    const char *one = "{\"id\": 7, \"title\": \"caf\\u00e9\", \"x\": 1.0000000000000002}";
    char msg[256];
    snprintf(msg, sizeof(msg), " \t%s \r\n", one); /* outer white space is cut */
    expect_ok(a, msg);
    const char *raw = nc_article_raw(a, &n);
    expect_field(raw, n, one);
    /* a line break between tokens: no raw text (an output must stay on one line) */
    expect_ok(a, "{\"title\": \"t\",\n \"body\": \"b\"}");
    assert_null(nc_article_raw(a, &n));
    assert_int_equal(n, 0);
    /* a raw NUL between tokens (jansson lets it pass): no raw text either */
    static const char nul[] = "{\"title\": \"t\"\0, \"body\": \"b\"}";
    if (parse_n(a, nul, sizeof(nul) - 1, 0) == NC_ART_OK)
        assert_null(nc_article_raw(a, &n));
    expect_ok(a, "{\"title\": \"short\"}");
    raw = nc_article_raw(a, &n);
    expect_field(raw, n, "{\"title\": \"short\"}");
    expect_ok(a, "plain text is not JSON");
    assert_null(nc_article_raw(a, &n));
    REJECT("{\"title\": 1}", NC_ART_BAD_FIELD, NULL);
    assert_null(nc_article_raw(a, &n));
}

/* A leading UTF-8 byte-order mark is skipped before the first-byte rule. */
static void test_bom(void **state)
{
    nc_article *a = *state;
    size_t n;
    const char *obj = "{\"id\": \"b1\", \"title\": \"T\", \"body\": \"B\"}";
    char msg[128];
    static const char *const marks[] = {"\xEF\xBB\xBF", "\xEF\xBB\xBF \r\n"}; /* + white space */
    for (size_t i = 0; i < 2; i++) {
        snprintf(msg, sizeof(msg), "%s%s", marks[i], obj);
        expect_ok(a, msg);
        assert_string_equal(nc_article_id(a), "b1");
        expect_title(a, "T");
        expect_body(a, "B");
        assert_non_null(nc_article_json(a));
        const char *raw = nc_article_raw(a, &n);
        expect_field(raw, n, obj); /* the mark is not part of the object */
    }
    /* plain text: the body is the message after the mark */
    expect_ok(a, "\xEF\xBB\xBFplain words");
    expect_body(a, "plain words");
    assert_null(nc_article_id(a));
    assert_null(nc_article_json(a));
    /* only one mark is skipped: a second one starts a plain-text body */
    expect_ok(a, "\xEF\xBB\xBF\xEF\xBB\xBF{\"title\": \"t\"}");
    expect_body(a, "\xEF\xBB\xBF{\"title\": \"t\"}");
    /* a mark alone, or with white space only, is an empty message */
    REJECT("\xEF\xBB\xBF", NC_ART_EMPTY, "empty message");
    REJECT("\xEF\xBB\xBF \n", NC_ART_EMPTY, NULL);
    /* the first-byte rule applies after the mark */
    REJECT("\xEF\xBB\xBF[1]", NC_ART_NOT_AN_OBJECT, NULL);
    REJECT("\xEF\xBB\xBF{\"title\": 1}", NC_ART_BAD_FIELD, "\"title\"");
    /* a cut mark is not one: invalid UTF-8 */
    REJECT("\xEF\xBB{\"title\": \"t\"}", NC_ART_INVALID_UTF8, NULL);
    /* the size limit counts the whole message, mark included */
    expect_reject(a, msg, strlen(msg), strlen(msg) - 1, NC_ART_TOO_LARGE, NULL);
}

/* {"title":"t","x":[[...]]} nested `depth` levels deep, object included. */
static char *nested(size_t depth)
{
    const char *head = "{\"title\":\"t\",\"x\":";
    size_t hl = strlen(head), arrays = depth - 1;
    char *s = malloc(hl + 2 * arrays + 2);
    assert_non_null(s);
    memcpy(s, head, hl);
    memset(s + hl, '[', arrays);
    memset(s + hl + arrays, ']', arrays);
    strcpy(s + hl + 2 * arrays, "}");
    return s;
}

static void test_depth_limit(void **state)
{
    nc_article *a = *state;
    char *ok = nested(1000), *deep = nested(1001), *deeper = nested(5000);
    expect_ok(a, ok);
    assert_int_equal(nc_article_fast(a), 1);
    REJECT(deep, NC_ART_INVALID_JSON, "nesting deeper than 1000 levels");
    REJECT(deeper, NC_ART_INVALID_JSON, "nesting deeper than 1000 levels");
    free(ok);
    free(deep);
    free(deeper);
}

/* What simdjson accepts and jansson does not stays refused (jansson's detail). */
static void test_jansson_limits(void **state)
{
    nc_article *a = *state;
    /* integers beyond int64: simdjson reads up to 2^64-1 as unsigned */
    REJECT("{\"title\": \"t\", \"n\": 9223372036854775808}", NC_ART_INVALID_JSON, "too big");
    REJECT("{\"title\": \"t\", \"n\": [18446744073709551615]}", NC_ART_INVALID_JSON, "too big");
    REJECT("{\"id\": 18446744073709551616, \"title\": \"t\"}", NC_ART_INVALID_JSON, NULL);
    REJECT("{\"title\": \"t\", \"n\": -9223372036854775809}", NC_ART_INVALID_JSON, NULL);
    REJECT("{\"title\": \"t\", \"n\": 1e400}", NC_ART_INVALID_JSON, NULL);
    /* a NUL in a key, at any depth */
    REJECT("{\"title\": \"t\", \"a\\u0000b\": 1}", NC_ART_INVALID_JSON, "NUL");
    REJECT("{\"title\": \"t\", \"m\": [{\"\\u0000\": 1}]}", NC_ART_INVALID_JSON, "NUL");
    /* duplicates inside arrays, and in objects too big for the pairwise check */
    REJECT("{\"title\": \"t\", \"m\": [1, {\"k\": 1, \"k\": 2}]}", NC_ART_INVALID_JSON,
           "duplicate");
    char big[1024];
    size_t n = (size_t)snprintf(big, sizeof(big), "{\"title\": \"t\"");
    for (int i = 0; i < 40; i++)
        n += (size_t)snprintf(big + n, sizeof(big) - n, ", \"k%d\": %d", i, i);
    snprintf(big + n, sizeof(big) - n, "}");
    expect_ok(a, big);
    assert_int_equal(nc_article_fast(a), 1);
    snprintf(big + n, sizeof(big) - n, ", \"k17\": 0}");
    REJECT(big, NC_ART_INVALID_JSON, "duplicate");
    /* escapes: lone surrogates are refused, pairs decoded */
    REJECT("{\"title\": \"\\udc00\"}", NC_ART_INVALID_JSON, NULL);
    REJECT("{\"title\": \"\\ud800x\"}", NC_ART_INVALID_JSON, NULL);
    expect_ok(a, "{\"title\": \"\\ud83d\\ude00\"}");
    expect_title(a, "\xf0\x9f\x98\x80");
    /* ids as jansson renders them: integer if no '.', 'e' or 'E' */
    static const char *const ids[][2] = {
        {"-0", "0"},
        {"-0.0", "-0"},
        {"1E2", "100"},
        {"0.1", "0.10000000000000001"},
        {"-9223372036854775808", "-9223372036854775808"},
        {"9007199254740993.0", "9007199254740992"},
        {"2.2250738585072011e-308", "2.2250738585072009e-308"},
        {"1e-400", "0"},
        {"4.9406564584124654e-324", "4.9406564584124654e-324"},
    };
    for (size_t i = 0; i < sizeof(ids) / sizeof(ids[0]); i++) {
        char msg[128];
        snprintf(msg, sizeof(msg), "{\"id\": %s, \"title\": \"t\"}", ids[i][0]);
        expect_ok(a, msg);
        assert_int_equal(nc_article_fast(a), 1);
        assert_string_equal(nc_article_id(a), ids[i][1]);
    }
}

static void expect_same_field(const char *what, size_t line, const char *x, size_t xn,
                              const char *y, size_t yn)
{
    if (!x != !y || xn != yn || (x && memcmp(x, y, xn) != 0))
        fail_msg("line %zu: %s differs between simdjson and jansson", line, what);
}

/* Every corpus article takes the simdjson path, with jansson's fields. */
static void check_corpus(const char *file)
{
    char path[4096];
    tu_path(path, sizeof(path), NC_TEST_CORPUS, file);
    size_t len;
    char *data = tu_read(path, &len);
    assert_non_null(data);
    nc_article *fast = nc_article_new(), *ref = nc_article_new();
    assert_non_null(fast);
    assert_non_null(ref);
    char err[256];
    size_t line = 0;
    for (char *p = data, *end = data + len; p < end; line++) {
        char *nl = memchr(p, '\n', (size_t)(end - p));
        size_t n = nl ? (size_t)(nl - p) : (size_t)(end - p);
        assert_int_equal(nc_article_parse(fast, p, n, 0, err, sizeof(err)), NC_ART_OK);
        assert_int_equal(nc_article_fast(fast), 1);
        assert_int_equal(nc_article_parse_jansson(ref, p, n, 0, err, sizeof(err)), NC_ART_OK);
        assert_int_equal(nc_article_fast(ref), 0);
        const char *f = nc_article_id(fast), *r = nc_article_id(ref);
        expect_same_field("id", line, f, f ? strlen(f) : 0, r, r ? strlen(r) : 0);
        f = nc_article_lang(fast), r = nc_article_lang(ref);
        expect_same_field("lang", line, f, f ? strlen(f) : 0, r, r ? strlen(r) : 0);
        size_t fn, rn;
        f = nc_article_title(fast, &fn), r = nc_article_title(ref, &rn);
        expect_same_field("title", line, f, fn, r, rn);
        f = nc_article_body(fast, &fn), r = nc_article_body(ref, &rn);
        expect_same_field("body", line, f, fn, r, rn);
        f = nc_article_raw(fast, &fn), r = nc_article_raw(ref, &rn);
        expect_same_field("raw text", line, f, fn, r, rn);
        if (!json_equal(nc_article_json(fast), nc_article_json(ref)))
            fail_msg("%s line %zu: the JSON objects differ", file, line);
        p += n + 1;
    }
    assert_true(line > 100);
    nc_article_free(fast);
    nc_article_free(ref);
    free(data);
}

static void test_corpus_fast_path(void **state)
{
    (void)state;
    check_corpus("dev.jsonl");
    check_corpus("train.jsonl");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_reason_names),
        cmocka_unit_test_setup_teardown(test_invalid_json, setup, teardown),
        cmocka_unit_test_setup_teardown(test_not_an_object, setup, teardown),
        cmocka_unit_test_setup_teardown(test_plain_text, setup, teardown),
        cmocka_unit_test_setup_teardown(test_invalid_utf8, setup, teardown),
        cmocka_unit_test_setup_teardown(test_empty, setup, teardown),
        cmocka_unit_test_setup_teardown(test_too_large, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bad_field, setup, teardown),
        cmocka_unit_test_setup_teardown(test_ids, setup, teardown),
        cmocka_unit_test_setup_teardown(test_body_aliases, setup, teardown),
        cmocka_unit_test_setup_teardown(test_nul_escape_accepted, setup, teardown),
        cmocka_unit_test_setup_teardown(test_lang_and_passthrough, setup, teardown),
        cmocka_unit_test_setup_teardown(test_reuse, setup, teardown),
        cmocka_unit_test_setup_teardown(test_raw_text, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bom, setup, teardown),
        cmocka_unit_test_setup_teardown(test_depth_limit, setup, teardown),
        cmocka_unit_test_setup_teardown(test_jansson_limits, setup, teardown),
        cmocka_unit_test(test_corpus_fast_path),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
