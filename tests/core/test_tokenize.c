/*
 * test_tokenize.c - edge cases of the UTF-8 tokenizer (daemon/core/tokenize.h):
 * empty and blank input, the NC_TOKEN_MAX cut (at a character boundary,
 * rest of the word skipped), invalid UTF-8 and NUL as separators, scripts,
 * combining marks, diacritic folding and digit mapping; nc_tokens_push; the
 * ASCII path (nc_tokenize) against the full UTF-8 path (nc_tokenize_utf8) on
 * every title and body of the corpus (train+dev), raw and HTML-stripped.
 *
 * Byte strings use \xHH escapes, or octal \OOO ones where a letter or digit
 * follows (a hex escape would swallow it).
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
#include "core/html.h"
#include "core/tokenize.h"
#include "base/util.h"
#include "testutil.h"

/* Tokenizes text[0..len) and checks the tokens are exactly want[0..n). */
static void expect_tokens_n(const char *text, size_t len, const char *const *want, size_t n)
{
    nc_tokens t;
    nc_tokens_init(&t);
    assert_int_equal(nc_tokenize(text, len, &t), 0);
    if (t.n != n) {
        fprintf(stderr, "got %zu tokens:", t.n);
        for (size_t i = 0; i < t.n; i++)
            fprintf(stderr, " [%.*s]", (int)t.tok[i].len, t.chars + t.tok[i].off);
        fprintf(stderr, "\n");
        fail_msg("expected %zu tokens, got %zu", n, t.n);
    }
    for (size_t i = 0; i < n; i++) {
        const char *got = t.chars + t.tok[i].off;
        size_t glen = t.tok[i].len;
        if (glen != strlen(want[i]) || memcmp(got, want[i], glen) != 0)
            fail_msg("token %zu: expected [%s], got [%.*s]", i, want[i], (int)glen, got);
    }
    nc_tokens_release(&t);
}

#define EXPECT(text, ...)                                                                          \
    do {                                                                                           \
        static const char *const w_[] = {__VA_ARGS__};                                             \
        expect_tokens_n(text, strlen(text), w_, sizeof(w_) / sizeof(w_[0]));                       \
    } while (0)

#define EXPECT_NONE(text, len) expect_tokens_n(text, len, NULL, 0)

/* Every token is non-empty, at most NC_TOKEN_MAX bytes and valid UTF-8. */
static void check_tokens_sane(const nc_tokens *t)
{
    for (size_t i = 0; i < t->n; i++) {
        const char *s = t->chars + t->tok[i].off;
        size_t n = t->tok[i].len;
        assert_true(n > 0);
        assert_true(n <= NC_TOKEN_MAX);
        assert_true(t->tok[i].off + n <= t->nchars);
        if (!nc_utf8_valid(s, n))
            fail_msg("token %zu is not valid UTF-8 (%zu bytes)", i, n);
        assert_null(memchr(s, '\0', n));
    }
}

static void test_empty_and_blank(void **state)
{
    (void)state;
    EXPECT_NONE("", 0);
    EXPECT_NONE(" ", 1);
    EXPECT_NONE(" \t\r\n\v\f  ", 8);
    EXPECT_NONE("...,;:!?-()[]{}\"'/\\", 20);
    /* U+00A0 no-break space, U+2003 em space, U+3000 ideographic space */
    EXPECT_NONE("\xc2\xa0\xe2\x80\x83\xe3\x80\x80", 8);
}

static void test_ascii_basics(void **state)
{
    (void)state;
    EXPECT("Hello, World!", "hello", "world");
    EXPECT("  leading and trailing  ", "leading", "and", "trailing");
    EXPECT("e-mail user@example.com", "e", "mail", "user", "example", "com");
    EXPECT("x", "x");
}

static void test_digits_map_to_zero(void **state)
{
    (void)state;
    EXPECT("2020 covid19 3.14 A1B2", "0000", "covid00", "0", "00", "a0b0");
    EXPECT("0123456789", "0000000000");
}

/* One MiB of a single word: one token of NC_TOKEN_MAX bytes, rest skipped. */
static void test_one_mib_word(void **state)
{
    (void)state;
    size_t n = (size_t)1 << 20;
    char *s = malloc(n + 3);
    assert_non_null(s);
    memset(s, 'a', n);
    char want[NC_TOKEN_MAX + 1];
    memset(want, 'a', NC_TOKEN_MAX);
    want[NC_TOKEN_MAX] = '\0';
    const char *w1[] = {want};
    expect_tokens_n(s, n, w1, 1);
    /* the next word after the cut one is a token of its own */
    s[n] = ' ';
    s[n + 1] = 'b';
    s[n + 2] = '\0';
    const char *w2[] = {want, "b"};
    expect_tokens_n(s, n + 2, w2, 2);
    /* upper case is lower-cased before the cut */
    memset(s, 'Z', n);
    memset(want, 'z', NC_TOKEN_MAX);
    expect_tokens_n(s, n, w1, 1);
    free(s);
}

static void test_cut_exactly_at_limit(void **state)
{
    (void)state;
    char s[NC_TOKEN_MAX + 2];
    memset(s, 'q', NC_TOKEN_MAX);
    s[NC_TOKEN_MAX] = '\0';
    const char *w[] = {s};
    expect_tokens_n(s, NC_TOKEN_MAX, w, 1); /* 48 bytes: kept whole */
    char t[NC_TOKEN_MAX + 2];
    memset(t, 'q', NC_TOKEN_MAX + 1);
    t[NC_TOKEN_MAX + 1] = '\0';
    expect_tokens_n(t, NC_TOKEN_MAX + 1, w, 1); /* 49 bytes: cut to 48 */
}

/* Repeats a UTF-8 character `times` times (optionally after a prefix). */
static char *repeat(const char *prefix, const char *ch, size_t times, size_t *len)
{
    size_t pl = strlen(prefix), cl = strlen(ch);
    char *s = malloc(pl + cl * times + 1);
    assert_non_null(s);
    memcpy(s, prefix, pl);
    for (size_t i = 0; i < times; i++)
        memcpy(s + pl + i * cl, ch, cl);
    *len = pl + cl * times;
    s[*len] = '\0';
    return s;
}

/* The expected cut of a word made of `prefix` then `ch` repeated. */
static void expect_cut(const char *prefix, const char *ch, const char *foldch, size_t times,
                       size_t want_chars)
{
    size_t len, wl;
    char *s = repeat(prefix, ch, times, &len);
    char *w = repeat(prefix, foldch, want_chars, &wl);
    assert_true(wl <= NC_TOKEN_MAX);
    const char *want[] = {w};
    expect_tokens_n(s, len, want, 1);
    nc_tokens t;
    nc_tokens_init(&t);
    assert_int_equal(nc_tokenize(s, len, &t), 0);
    check_tokens_sane(&t);
    nc_tokens_release(&t);
    free(s);
    free(w);
}

static void test_long_multibyte_tokens(void **state)
{
    (void)state;
    expect_cut("", "\xd0\xb6", "\xd0\xb6", 1000, 24);                /* ж: 2 bytes, 24 fit */
    expect_cut("", "\xd0\x96", "\xd0\xb6", 1000, 24);                /* Ж lower-cased to ж */
    expect_cut("", "\xe4\xb8\xad", "\xe4\xb8\xad", 1000, 16);        /* 中: 3 bytes, 16 fit */
    expect_cut("", "\xf0\xa0\x80\x80", "\xf0\xa0\x80\x80", 100, 12); /* U+20000: 4 bytes */
    /* 1 + 15 * 3 = 46 bytes; a 16th character would make 49: cut before it */
    expect_cut("a", "\xe4\xb8\xad", "\xe4\xb8\xad", 100, 15);
    expect_cut("ab", "\xe4\xb8\xad", "\xe4\xb8\xad", 100, 15);        /* 2 + 45 = 47 */
    expect_cut("abc", "\xe4\xb8\xad", "\xe4\xb8\xad", 100, 15);       /* 3 + 45 = 48 */
    expect_cut("a", "\xf0\xa0\x80\x80", "\xf0\xa0\x80\x80", 100, 11); /* 1 + 44 = 45 */
    /* folds that expand: ß -> ss (2 bytes), never half of it */
    expect_cut("", "\xc3\x9f", "ss", 100, 24);
    char p47[48];
    memset(p47, 'a', 47);
    p47[47] = '\0';
    expect_cut(p47, "\xc3\x9f", "ss", 3, 0); /* 47 + 2 > 48: ß dropped whole */
    p47[46] = '\0';
    expect_cut(p47, "\xc3\x9f", "ss", 3, 1); /* 46 + 2 = 48 */
    /* combining marks inside a cut word do not count */
    expect_cut("", "e\xcc\x81", "e", 100, 48);
}

static void test_invalid_utf8_separates(void **state)
{
    (void)state;
    EXPECT("ab\377cd", "ab", "cd");
    EXPECT("ab\200cd", "ab", "cd");             /* lone continuation byte */
    EXPECT("ab\xc3(cd", "ab", "cd");            /* bad continuation */
    EXPECT("ab\300\257cd", "ab", "cd");         /* overlong '/' */
    EXPECT("ab\340\200\257cd", "ab", "cd");     /* overlong 3-byte */
    EXPECT("ab\355\240\200cd", "ab", "cd");     /* UTF-16 surrogate */
    EXPECT("ab\364\220\200\200cd", "ab", "cd"); /* beyond U+10FFFF */
    EXPECT("ab\365\200\200\200cd", "ab", "cd");
    EXPECT("caf\xc3", "caf"); /* truncated at the end */
    EXPECT("caf\xe4\xb8", "caf");
    EXPECT("\344\270abc", "abc"); /* truncated, then ASCII */
    /* a valid character right after an invalid byte is kept whole */
    EXPECT("\xff\xd0\xb6\xff", "\xd0\xb6");
    EXPECT("\xe4\xe4\xb8\xad", "\xe4\xb8\xad");
}

/* Random bytes (deterministic): every token must still be valid UTF-8. */
static void test_random_bytes_give_valid_tokens(void **state)
{
    (void)state;
    static const char *const pieces[] = {
        "\xc3\xa9", "\xe4\xb8\xad", "\xf0\xa0\x80\x80", "a",       "Z", "9",
        " ",        "\xcc\x81",     "\xc3\x9f",         "\xc5\x92"};
    uint64_t x = 0x9e3779b97f4a7c15ULL;
    size_t n = 64 * 1024;
    unsigned char *s = malloc(n);
    assert_non_null(s);
    nc_tokens t;
    nc_tokens_init(&t);
    for (int round = 0; round < 8; round++) {
        size_t i = 0;
        while (i < n) {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            if (x % 3 == 0) { /* a raw byte, often invalid */
                s[i++] = (unsigned char)(x >> 24);
            } else { /* a valid piece, possibly cut by the end of the buffer */
                const char *p = pieces[(x >> 8) % (sizeof(pieces) / sizeof(pieces[0]))];
                for (size_t k = 0; p[k] && i < n; k++)
                    s[i++] = (unsigned char)p[k];
            }
        }
        nc_tokens_clear(&t);
        assert_int_equal(nc_tokenize((const char *)s, n - (size_t)round, &t), 0);
        assert_true(t.n > 0);
        check_tokens_sane(&t);
    }
    nc_tokens_release(&t);
    free(s);
}

static void test_nul_bytes_separate(void **state)
{
    (void)state;
    const char s[] = "foo\0bar\0\0baz";
    const char *w[] = {"foo", "bar", "baz"};
    expect_tokens_n(s, sizeof(s) - 1, w, 3);
    const char z[] = "\0\0\0";
    EXPECT_NONE(z, 3);
    /* a NUL never ends the input early: the length does */
    const char y[] = "\0x";
    const char *wy[] = {"x"};
    expect_tokens_n(y, 2, wy, 1);
}

static void test_mixed_scripts(void **state)
{
    (void)state;
    /* Latin, Cyrillic, Greek (capital -> small, tonos kept), CJK runs */
    EXPECT("Hello \xd0\x9c\xd0\xb8\xd1\x80 \xce\x9a\xcf\x8c\xcf\x83\xce\xbc\xce\xbf\xcf\x82 "
           "\xe4\xb8\x96\xe7\x95\x8c",
           "hello", "\xd0\xbc\xd0\xb8\xd1\x80", "\xce\xba\xcf\x8c\xcf\x83\xce\xbc\xce\xbf\xcf\x82",
           "\xe4\xb8\x96\xe7\x95\x8c");
    /* ΑΒΓ -> αβγ ; ЁЖ -> ёж ; Ѐ (U+0400) -> ѐ (U+0450) */
    EXPECT("\xce\x91\xce\x92\xce\x93", "\xce\xb1\xce\xb2\xce\xb3");
    EXPECT("\xd0\x81\xd0\x96", "\xd1\x91\xd0\xb6");
    EXPECT("\xd0\x80", "\xd1\x90");
    /* scripts glued together stay one token (no script boundary split) */
    EXPECT("abc\xd0\xb6\xe4\xb8\xad", "abc\xd0\xb6\xe4\xb8\xad");
    /* punctuation of other scripts separates: em dash, CJK full stop, fullwidth comma */
    EXPECT("foo\342\200\224bar\343\200\202baz\357\274\214qux", "foo", "bar", "baz", "qux");
    /* symbols: multiplication sign, euro sign, emoji */
    EXPECT("3\303\2274 5\xe2\x82\xac x\xf0\x9f\x98\x80y", "0", "0", "0", "x", "y");
}

static void test_combining_marks_dropped(void **state)
{
    (void)state;
    EXPECT("e\xcc\x81", "e"); /* e + U+0301 */
    EXPECT("Cafe\xcc\x81 au lait", "cafe", "au", "lait");
    EXPECT("a\xcc\x80\xcc\x81\xcd\xafz", "az"); /* several marks, up to U+036F */
    EXPECT_NONE(" \xcc\x81 ", 4);               /* a mark alone is no token */
    EXPECT("x \xcc\x81y", "x", "y");
}

static void test_diacritic_folding(void **state)
{
    (void)state;
    EXPECT("\xc3\x89", "e");                             /* É */
    EXPECT("\xc3\xa9t\xc3\xa9", "ete");                  /* été */
    EXPECT("Stra\303\237e", "strasse");                  /* ß -> ss */
    EXPECT("\xc5\x92uvre \xc5\x93uf", "oeuvre", "oeuf"); /* Œ œ -> oe */
    EXPECT("\xc3\x86sir", "aesir");                      /* Æ -> ae */
    EXPECT("\xc3\x85ngstr\xc3\xb6m", "angstrom");        /* Å ö */
    EXPECT("\xc3\x9e\xc3\xb3r", "thor");                 /* Þ ó */
    EXPECT("\305\201\303\263d\xc5\xba", "lodz");         /* Ł ó ź (Latin Extended-A) */
    EXPECT("\xc4\xb2sselmeer", "ijsselmeer");            /* Ĳ -> ij */
    EXPECT("\xc3\xbf\xc5\xb8", "yy");                    /* ÿ Ÿ */
    EXPECT("Se\303\261or Fran\303\247ais", "senor", "francais");
}

/* Tokens are appended; clear() resets; the buffer is reusable. */
static void test_append_and_reuse(void **state)
{
    (void)state;
    nc_tokens t;
    nc_tokens_init(&t);
    assert_int_equal(nc_tokenize("one two", 7, &t), 0);
    assert_int_equal(nc_tokenize("three", 5, &t), 0);
    assert_int_equal(t.n, 3);
    assert_memory_equal(t.chars + t.tok[2].off, "three", 5);
    nc_tokens_clear(&t);
    assert_int_equal(t.n, 0);
    /* many tokens force both buffers to grow */
    size_t len;
    char *s = repeat("", "ab ", 20000, &len);
    assert_int_equal(nc_tokenize(s, len, &t), 0);
    assert_int_equal(t.n, 20000);
    assert_memory_equal(t.chars + t.tok[19999].off, "ab", 2);
    check_tokens_sane(&t);
    free(s);
    nc_tokens_release(&t);
    nc_tokens_release(&t); /* idempotent */
}

/* nc_tokens_push appends bytes as they are, as one token, after tokenized ones. */
static void test_push(void **state)
{
    (void)state;
    nc_tokens t;
    nc_tokens_init(&t);
    assert_int_equal(nc_tokenize("Hello", 5, &t), 0);
    assert_int_equal(nc_tokens_push(&t, "As Is\0", 6), 0);
    assert_int_equal(nc_tokens_push(&t, "", 0), 0);
    assert_int_equal(t.n, 3);
    assert_int_equal(t.tok[1].len, 6);
    assert_memory_equal(t.chars + t.tok[1].off, "As Is\0", 6);
    assert_int_equal(t.tok[2].len, 0);
    assert_memory_equal(t.chars + t.tok[0].off, "hello", 5);
    /* growing both arrays keeps every token */
    for (int i = 0; i < 5000; i++)
        assert_int_equal(nc_tokens_push(&t, "0123456789", 10), 0);
    assert_int_equal(t.n, 5003);
    assert_memory_equal(t.chars + t.tok[5002].off, "0123456789", 10);
    assert_memory_equal(t.chars + t.tok[1].off, "As Is\0", 6);
    nc_tokens_release(&t);
}

/* nc_tokenize (ASCII spans fast) and nc_tokenize_utf8 give the same tokens. */
static void expect_paths_agree(const char *text, size_t len, nc_tokens *a, nc_tokens *b)
{
    nc_tokens_clear(a);
    nc_tokens_clear(b);
    assert_int_equal(nc_tokenize(text, len, a), 0);
    assert_int_equal(nc_tokenize_utf8(text, len, b), 0);
    assert_int_equal(a->n, b->n);
    for (size_t i = 0; i < a->n; i++) {
        assert_int_equal(a->tok[i].len, b->tok[i].len);
        assert_memory_equal(a->chars + a->tok[i].off, b->chars + b->tok[i].off, a->tok[i].len);
    }
}

static void test_ascii_path_on_corpus(void **state)
{
    (void)state;
    static const char *const files[] = {"train.jsonl", "dev.jsonl"};
    nc_tokens a, b;
    nc_tokens_init(&a);
    nc_tokens_init(&b);
    nc_article *art = nc_article_new();
    assert_non_null(art);
    size_t articles = 0, mixed = 0, tokens = 0;
    for (size_t f = 0; f < 2; f++) {
        char path[4096], err[256];
        snprintf(path, sizeof(path), "%s/%s", NC_TEST_CORPUS, files[f]);
        size_t len;
        char *data = tu_read(path, &len);
        assert_non_null(data);
        for (char *p = data; p < data + len;) {
            char *nl = memchr(p, '\n', (size_t)(data + len - p));
            size_t l = nl ? (size_t)(nl - p) : (size_t)(data + len - p);
            assert_int_equal(nc_article_parse(art, p, l, 1 << 20, err, sizeof(err)), 0);
            for (int field = 0; field < 2; field++) {
                size_t n;
                const char *t = field ? nc_article_body(art, &n) : nc_article_title(art, &n);
                expect_paths_agree(t, n, &a, &b);
                tokens += a.n;
                char *stripped = malloc(n + 1);
                assert_non_null(stripped);
                size_t sn = nc_html_strip(t, n, stripped);
                expect_paths_agree(stripped, sn, &a, &b);
                free(stripped);
                for (size_t i = 0; i < n; i++)
                    if ((unsigned char)t[i] >= 0x80) {
                        mixed++;
                        break;
                    }
            }
            articles++;
            p += l + 1;
        }
        free(data);
    }
    /* The corpus has both kinds of text, so both paths and their seams ran. */
    assert_true(articles > 8000);
    assert_true(mixed > 0 && mixed < 2 * articles);
    assert_true(tokens > 10 * articles);
    nc_article_free(art);
    nc_tokens_release(&a);
    nc_tokens_release(&b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_empty_and_blank),
        cmocka_unit_test(test_ascii_basics),
        cmocka_unit_test(test_digits_map_to_zero),
        cmocka_unit_test(test_one_mib_word),
        cmocka_unit_test(test_cut_exactly_at_limit),
        cmocka_unit_test(test_long_multibyte_tokens),
        cmocka_unit_test(test_invalid_utf8_separates),
        cmocka_unit_test(test_random_bytes_give_valid_tokens),
        cmocka_unit_test(test_nul_bytes_separate),
        cmocka_unit_test(test_mixed_scripts),
        cmocka_unit_test(test_combining_marks_dropped),
        cmocka_unit_test(test_diacritic_folding),
        cmocka_unit_test(test_append_and_reuse),
        cmocka_unit_test(test_push),
        cmocka_unit_test(test_ascii_path_on_corpus),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
