/*
 * test_html.c - HTML stripping (daemon/html.h): tags become one space,
 * entities are decoded, <script>/<style>/comments vanish with their content,
 * text that only looks like markup stays, and the output never outgrows the
 * input (every call writes into a buffer of exactly the input's size, so
 * ASan catches an overrun).
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

#include "core/html.h"
#include "base/util.h"

/* Strips text[0..len) into an exactly-sized heap buffer; returns a NUL-terminated copy. */
static char *strip_n(const char *text, size_t len, size_t *outlen)
{
    char *out = malloc(len ? len : 1);
    assert_non_null(out);
    size_t n = nc_html_strip(text, len, out);
    if (n > len)
        fail_msg("output (%zu bytes) longer than input (%zu bytes)", n, len);
    char *s = malloc(n + 1);
    assert_non_null(s);
    memcpy(s, out, n);
    s[n] = '\0';
    free(out);
    if (outlen)
        *outlen = n;
    return s;
}

static void expect_strip(const char *in, const char *want)
{
    size_t n;
    char *got = strip_n(in, strlen(in), &n);
    if (n != strlen(want) || memcmp(got, want, n) != 0)
        fail_msg("strip(\"%s\"): expected \"%s\", got \"%s\"", in, want, got);
    free(got);
}

static void test_tags(void **state)
{
    (void)state;
    expect_strip("<p>Hello <b>world</b></p>", " Hello  world  ");
    expect_strip("a<br/>b<BR>c", "a b c");
    expect_strip("<a href=\"http://x.test/?a=1&b=2\">link</a>", " link ");
    expect_strip("<!DOCTYPE html><?xml version=\"1.0\"?>x", "  x");
    expect_strip("x<img src=\"a.png\" alt='>'>y", "x '>y"); /* the first '>' ends the tag */
    expect_strip("", "");
    expect_strip("no markup at all", "no markup at all");
}

static void test_entities(void **state)
{
    (void)state;
    expect_strip("AT&amp;T &lt;x&gt; &quot;q&quot; &apos;a&apos;", "AT&T <x> \"q\" 'a'");
    expect_strip("&#39;&#x27;&#X27;&#65;&#x41;", "'''AA");
    expect_strip("caf&eacute; &Eacute;t&eacute; na&iuml;ve",
                 "caf\xc3\xa9 \xc3\x89t\xc3\xa9 na&iuml;ve");
    expect_strip("a&nbsp;b", "a\302\240b");
    expect_strip("&euro;5 &mdash; &hellip;", "\342\202\2545 \xe2\x80\x94 \xe2\x80\xa6");
    expect_strip("&#x4E2D;&#20013;", "\xe4\xb8\xad\xe4\xb8\xad");
    expect_strip("&#x1F600;", "\xf0\x9f\x98\x80");
    expect_strip("&#1114111;", "\xf4\x8f\xbf\xbf");
    /* invalid code points become a space, never invalid UTF-8 */
    expect_strip("a&#0;b&#xD800;c&#x110000;d", "a b c d");
    /* not entities: kept as they are */
    expect_strip("&bogus; & amp; &amp &#; &#x; &#12a; &", "&bogus; & amp; &amp &#; &#x; &#12a; &");
    expect_strip("Q&A", "Q&A");
    expect_strip("&#999999999999;", "&#999999999999;"); /* too many digits */
    /* decoding is single-pass: &amp;lt; is "&lt;" text, not "<" */
    expect_strip("&amp;lt;", "&lt;");
}

static void test_script_style_comment(void **state)
{
    (void)state;
    expect_strip("a<script>var x = '<b>' + 1 > 0;</script>b", "a b");
    expect_strip("a<SCRIPT type=\"text/javascript\">x()</ScRiPt >b", "a b");
    expect_strip("<style>p { color: red }</style>text", " text");
    expect_strip("<STYLE media=x>p{}</STYLE>c", " c");
    expect_strip("a<!-- hidden <b>bold</b> -->b", "a b");
    expect_strip("a<!---->b", "a b");
    /* unterminated: the rest is dropped, nothing is read past the end */
    expect_strip("a<script>never closed", "a ");
    expect_strip("a<script>x</script", "a ");
    expect_strip("a<style>x", "a ");
    expect_strip("a<!-- never closed", "a ");
    expect_strip("a<!--", "a ");
}

static void test_looks_like_markup(void **state)
{
    (void)state;
    expect_strip("a < b and c > d", "a < b and c > d");
    expect_strip("if x<5 then", "if x<5 then");
    expect_strip("1 <= 2, 3 << 4, <>", "1 <= 2, 3 << 4, <>");
    expect_strip("ends with <", "ends with <");
    expect_strip("<", "<");
    expect_strip("&", "&");
}

static void test_unterminated_tag(void **state)
{
    (void)state;
    /* no closing '>': not a tag, the text stays */
    expect_strip("x <div class=\"y\"", "x <div class=\"y\"");
    expect_strip("a<b", "a<b");
    expect_strip("</", "</");
    expect_strip("a <b> c <d", "a   c <d");
}

static void test_maybe(void **state)
{
    (void)state;
    assert_false(nc_html_maybe("plain text", 10));
    assert_false(nc_html_maybe("", 0));
    assert_true(nc_html_maybe("a<b", 3));
    assert_true(nc_html_maybe("a&b", 3));
    /* only the given length is looked at */
    assert_false(nc_html_maybe("ab<", 2));
}

/*
 * Random mixtures of markup fragments: the output is never longer than the
 * input and valid UTF-8 input stays valid UTF-8.
 */
static void test_never_longer_random(void **state)
{
    (void)state;
    static const char *const frag[] = {
        "<",      ">",        "&",          ";",        "#",
        "x",      "<!--",     "-->",        "<script",  "</script",
        "<style", "</style>", "&#x10FFFF;", "&#65536;", "&#x80;",
        "&#128;", "&#0;",     "&amp;",      "&lt;",     "&euro;",
        "&nbsp;", "&hellip;", "<b>",        "</b>",     "<a href='x'>",
        "a",      "Z",        " ",          "\xc3\xa9", "\xe4\xb8\xad",
        "&#x",    "&#",       "<!",         "<?",       "</",
        "9",      "&#xD800;"};
    uint64_t x = 0x2545f4914f6cdd1dULL;
    for (int round = 0; round < 3000; round++) {
        char in[600];
        size_t n = 0;
        size_t want = (size_t)(round % 500) + 1;
        while (n < want) {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            const char *f = frag[x % (sizeof(frag) / sizeof(frag[0]))];
            size_t fl = strlen(f);
            if (n + fl > sizeof(in))
                break;
            memcpy(in + n, f, fl);
            n += fl;
        }
        /* the input may end in the middle of a fragment */
        size_t cut = n - (size_t)(x % 3 < n ? x % 3 : 0);
        size_t outn;
        char *out = strip_n(in, cut, &outn);
        if (nc_utf8_valid(in, cut) && !nc_utf8_valid(out, outn))
            fail_msg("valid input became invalid UTF-8: \"%.*s\"", (int)cut, in);
        free(out);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_tags),
        cmocka_unit_test(test_entities),
        cmocka_unit_test(test_script_style_comment),
        cmocka_unit_test(test_looks_like_markup),
        cmocka_unit_test(test_unterminated_tag),
        cmocka_unit_test(test_maybe),
        cmocka_unit_test(test_never_longer_random),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
