/* tokenize.c - see tokenize.h. */
#include "core/tokenize.h"

#include <stdlib.h>
#include <string.h>

#include "base/util.h"

void nc_tokens_init(nc_tokens *t)
{
    memset(t, 0, sizeof(*t));
}

void nc_tokens_clear(nc_tokens *t)
{
    t->nchars = 0;
    t->n = 0;
}

void nc_tokens_release(nc_tokens *t)
{
    free(t->chars);
    free(t->tok);
    nc_tokens_init(t);
}

/* ASCII: the lower-cased letter, '0' for a digit, 0 for a separator. */
static const char ascii_map[128] = {
    ['0'] = '0', ['1'] = '0', ['2'] = '0', ['3'] = '0', ['4'] = '0', ['5'] = '0', ['6'] = '0',
    ['7'] = '0', ['8'] = '0', ['9'] = '0', ['A'] = 'a', ['B'] = 'b', ['C'] = 'c', ['D'] = 'd',
    ['E'] = 'e', ['F'] = 'f', ['G'] = 'g', ['H'] = 'h', ['I'] = 'i', ['J'] = 'j', ['K'] = 'k',
    ['L'] = 'l', ['M'] = 'm', ['N'] = 'n', ['O'] = 'o', ['P'] = 'p', ['Q'] = 'q', ['R'] = 'r',
    ['S'] = 's', ['T'] = 't', ['U'] = 'u', ['V'] = 'v', ['W'] = 'w', ['X'] = 'x', ['Y'] = 'y',
    ['Z'] = 'z', ['a'] = 'a', ['b'] = 'b', ['c'] = 'c', ['d'] = 'd', ['e'] = 'e', ['f'] = 'f',
    ['g'] = 'g', ['h'] = 'h', ['i'] = 'i', ['j'] = 'j', ['k'] = 'k', ['l'] = 'l', ['m'] = 'm',
    ['n'] = 'n', ['o'] = 'o', ['p'] = 'p', ['q'] = 'q', ['r'] = 'r', ['s'] = 's', ['t'] = 't',
    ['u'] = 'u', ['v'] = 'v', ['w'] = 'w', ['x'] = 'x', ['y'] = 'y', ['z'] = 'z'};

/* Folded lower-case forms of U+00C0..U+00FF; "" marks a separator. */
static const char *const latin1[64] = {
    "a", "a", "a", "a", "a", "a", "ae", "c", "e", "e", "e", "e", "i", "i", "i", "i",
    "d", "n", "o", "o", "o", "o", "o", "",  "o", "u", "u", "u", "u", "y", "th", "ss",
    "a", "a", "a", "a", "a", "a", "ae", "c", "e", "e", "e", "e", "i", "i", "i", "i",
    "d", "n", "o", "o", "o", "o", "o", "",  "o", "u", "u", "u", "u", "y", "th", "y"};

/* Base letters of U+0100..U+017F (Latin Extended-A), two per pair mostly. */
static const char *latin_ext_a(uint32_t cp)
{
    static const struct {
        uint16_t last;
        const char *s;
    } ranges[] = {{0x105, "a"}, {0x10D, "c"}, {0x111, "d"}, {0x11B, "e"}, {0x123, "g"},
                  {0x127, "h"}, {0x131, "i"}, {0x133, "ij"}, {0x135, "j"}, {0x138, "k"},
                  {0x142, "l"}, {0x14B, "n"}, {0x151, "o"}, {0x153, "oe"}, {0x159, "r"},
                  {0x161, "s"}, {0x167, "t"}, {0x173, "u"}, {0x175, "w"}, {0x178, "y"},
                  {0x17E, "z"}, {0x17F, "s"}};
    for (size_t i = 0; i < sizeof(ranges) / sizeof(ranges[0]); i++)
        if (cp <= ranges[i].last)
            return ranges[i].s;
    return NULL;
}

/* Code points outside ASCII that separate tokens (punctuation, symbols). */
static int is_separator(uint32_t cp)
{
    return (cp >= 0x80 && cp <= 0xBF) || cp == 0xD7 || cp == 0xF7 ||
           (cp >= 0x2000 && cp <= 0x206F) || (cp >= 0x20A0 && cp <= 0x20CF) ||
           (cp >= 0x2190 && cp <= 0x2BFF) || (cp >= 0x3000 && cp <= 0x303F) ||
           (cp >= 0xFE30 && cp <= 0xFE4F) || (cp >= 0xFF00 && cp <= 0xFF0F) ||
           (cp >= 0xFF1A && cp <= 0xFF20) || (cp >= 0xFF3B && cp <= 0xFF40) ||
           (cp >= 0xFF5B && cp <= 0xFF65) || cp == 0xFEFF || (cp >= 0xD800 && cp <= 0xDFFF) ||
           (cp >= 0x1F000 && cp <= 0x1FAFF) || (cp >= 0xE000 && cp <= 0xF8FF);
}

/* Lower-case mapping outside the folded Latin ranges. */
static uint32_t lower_other(uint32_t cp)
{
    if (cp >= 0x391 && cp <= 0x3A9 && cp != 0x3A2)
        return cp + 0x20; /* Greek capitals */
    if (cp >= 0x410 && cp <= 0x42F)
        return cp + 0x20; /* Cyrillic А..Я */
    if (cp >= 0x400 && cp <= 0x40F)
        return cp + 0x50; /* Cyrillic Ѐ..Џ */
    return cp;
}

/* Room for n more bytes and k more tokens. */
static int tokens_reserve(nc_tokens *t, size_t n, size_t k)
{
    void *chars = t->chars, *tok = t->tok;
    int rc = nc_grow(&chars, &t->capchars, t->nchars + n, 1, 4096);
    t->chars = chars;
    if (rc == 0)
        rc = nc_grow(&tok, &t->captok, t->n + k, sizeof(*t->tok), 512);
    t->tok = tok;
    return rc;
}

int nc_tokens_push(nc_tokens *t, const char *s, size_t len)
{
    if (tokens_reserve(t, len, 1) != 0)
        return -1;
    memcpy(t->chars + t->nchars, s, len);
    t->tok[t->n].off = (uint32_t)t->nchars;
    t->tok[t->n].len = (uint32_t)len;
    t->n++;
    t->nchars += len;
    return 0;
}

int nc_tokenize_utf8(const char *text, size_t len, nc_tokens *out)
{
    const unsigned char *s = (const unsigned char *)text;
    size_t i = 0;
    /* Worst case a token is NC_TOKEN_MAX bytes plus one folded character. */
    char word[NC_TOKEN_MAX + 8];
    size_t wl = 0;
    int truncated = 0;

    while (i <= len) {
        uint32_t cp = 0;
        size_t n = 0;
        const char *fold = NULL;
        char enc[4];
        size_t enclen = 0;
        int sep = 1;

        if (i < len) {
            unsigned char c = s[i];
            if (c < 0x80) {
                n = 1;
                char m = ascii_map[c];
                if (m) {
                    /* Fast path: append ASCII word characters directly. */
                    if (!truncated && wl < NC_TOKEN_MAX) {
                        word[wl++] = m;
                        i++;
                        continue;
                    }
                    enc[0] = m;
                    enclen = 1;
                    sep = 0;
                }
            } else {
                n = nc_utf8_decode(s + i, len - i, &cp);
                if (n == 0) {
                    n = 1; /* invalid byte: a separator */
                } else if (cp >= 0x300 && cp <= 0x36F) {
                    sep = 0; /* combining mark: part of the word, dropped */
                } else if (cp >= 0xC0 && cp <= 0xFF) {
                    fold = latin1[cp - 0xC0];
                    sep = fold[0] == '\0';
                } else if (cp >= 0x100 && cp <= 0x17F) {
                    fold = latin_ext_a(cp);
                    sep = 0;
                } else if (!is_separator(cp)) {
                    enclen = nc_utf8_encode(lower_other(cp), enc);
                    sep = 0;
                }
            }
        }

        if (sep) {
            if (wl > 0 && nc_tokens_push(out, word, wl) != 0)
                return -1;
            wl = 0;
            truncated = 0;
            i += n ? n : 1;
            continue;
        }
        if (!truncated) {
            const char *add = fold ? fold : enc;
            size_t addlen = fold ? strlen(fold) : enclen;
            if (wl + addlen > NC_TOKEN_MAX)
                truncated = 1;
            else {
                memcpy(word + wl, add, addlen);
                wl += addlen;
            }
        }
        i += n;
    }
    return 0;
}

/*
 * Tokens of an all-ASCII span, written straight into out: every byte is
 * stored (mapped) at the end of the current token, which only grows while it
 * is under NC_TOKEN_MAX bytes, so the cut and the skipped rest of a long word
 * cost no branch; a separator closes a non-empty token.
 */
static int tokenize_ascii(const unsigned char *s, size_t len, nc_tokens *out)
{
    if (tokens_reserve(out, len + 1, len / 2 + 1) != 0)
        return -1;
    char *dst = out->chars;
    size_t nc = out->nchars, start = nc, nt = out->n;
    for (size_t i = 0; i < len; i++) {
        char m = ascii_map[s[i]];
        if (m) {
            dst[nc] = m;
            nc += nc - start < NC_TOKEN_MAX;
        } else if (nc != start) {
            out->tok[nt].off = (uint32_t)start;
            out->tok[nt++].len = (uint32_t)(nc - start);
            start = nc;
        }
    }
    if (nc != start) {
        out->tok[nt].off = (uint32_t)start;
        out->tok[nt++].len = (uint32_t)(nc - start);
    }
    out->nchars = nc;
    out->n = nt;
    return 0;
}

/* Index of the first byte >= 0x80 in s[i..len), or len. */
static size_t next_non_ascii(const unsigned char *s, size_t i, size_t len)
{
    for (; i + 8 <= len; i += 8) {
        uint64_t w;
        memcpy(&w, s + i, 8);
        if (w & 0x8080808080808080ULL)
            break;
    }
    while (i < len && s[i] < 0x80)
        i++;
    return i;
}

/*
 * Spans of ASCII go through tokenize_ascii(); a span around non-ASCII bytes,
 * from the ASCII separator before them to the ASCII separator after them (a
 * separator ends any token, so the spans tokenize independently), goes
 * through the full path. Both give the same tokens (tests/core/
 * test_tokenize.c runs both over the corpus).
 */
int nc_tokenize(const char *text, size_t len, nc_tokens *out)
{
    const unsigned char *s = (const unsigned char *)text;
    size_t i = 0;
    while (i < len) {
        size_t p = next_non_ascii(s, i, len);
        if (p == len)
            return tokenize_ascii(s + i, len - i, out);
        size_t q = p; /* back to the ASCII separator before p (or i) */
        while (q > i && (s[q - 1] >= 0x80 || ascii_map[s[q - 1]]))
            q--;
        if (q > i && tokenize_ascii(s + i, q - i, out) != 0)
            return -1;
        size_t r = p; /* on to the ASCII separator after p (or len) */
        while (r < len && (s[r] >= 0x80 || ascii_map[s[r]]))
            r++;
        if (nc_tokenize_utf8(text + q, r - q, out) != 0)
            return -1;
        i = r;
    }
    return 0;
}
