/* html.c - see html.h. */
#include "core/html.h"

#include <stdint.h>
#include <string.h>

#include "base/util.h"

int nc_html_maybe(const char *text, size_t len)
{
    return memchr(text, '<', len) != NULL || memchr(text, '&', len) != NULL;
}

/* Encodes a decoded entity; NUL, surrogates and out-of-range values become a space. */
static size_t put_utf8(unsigned long cp, char *out)
{
    if (cp == 0 || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
        cp = 0x20;
    return nc_utf8_encode((uint32_t)cp, out);
}

static const struct {
    const char *name;
    unsigned cp;
} entities[] = {
    {"amp", '&'},      {"lt", '<'},        {"gt", '>'},       {"quot", '"'},
    {"apos", '\''},    {"nbsp", 0xA0},     {"ndash", 0x2013}, {"mdash", 0x2014},
    {"lsquo", 0x2018}, {"rsquo", 0x2019},  {"ldquo", 0x201C}, {"rdquo", 0x201D},
    {"hellip", 0x2026}, {"laquo", 0xAB},   {"raquo", 0xBB},   {"copy", 0xA9},
    {"reg", 0xAE},     {"euro", 0x20AC},   {"pound", 0xA3},   {"eacute", 0xE9},
    {"egrave", 0xE8},  {"aacute", 0xE1},   {"agrave", 0xE0},  {"iacute", 0xED},
    {"oacute", 0xF3},  {"uacute", 0xFA},   {"ntilde", 0xF1},  {"ccedil", 0xE7},
    {"auml", 0xE4},    {"ouml", 0xF6},     {"uuml", 0xFC},    {"szlig", 0xDF},
    {"Eacute", 0xC9},  {"Auml", 0xC4},     {"Ouml", 0xD6},    {"Uuml", 0xDC},
    {"bull", 0x2022},  {"middot", 0xB7},   {"deg", 0xB0},     {"times", 0xD7},
};

/* Decodes the entity at t[0] == '&'; returns input bytes consumed (0: none). */
static size_t entity(const char *t, size_t len, char *out, size_t *outlen)
{
    size_t i = 1;
    if (len > 2 && t[1] == '#') {
        unsigned long cp = 0;
        int hex = (t[2] == 'x' || t[2] == 'X');
        size_t digits = 0;
        for (i = hex ? 3 : 2; i < len && digits < 8; i++, digits++) {
            char c = t[i];
            if (c >= '0' && c <= '9')
                cp = cp * (hex ? 16 : 10) + (unsigned long)(c - '0');
            else if (hex && c >= 'a' && c <= 'f')
                cp = cp * 16 + (unsigned long)(c - 'a' + 10);
            else if (hex && c >= 'A' && c <= 'F')
                cp = cp * 16 + (unsigned long)(c - 'A' + 10);
            else
                break;
        }
        if (digits == 0 || i >= len || t[i] != ';')
            return 0;
        *outlen = put_utf8(cp, out);
        return i + 1;
    }
    while (i < len && i < 10 && ((t[i] >= 'a' && t[i] <= 'z') || (t[i] >= 'A' && t[i] <= 'Z')))
        i++;
    if (i == 1 || i >= len || t[i] != ';')
        return 0;
    for (size_t k = 0; k < sizeof(entities) / sizeof(entities[0]); k++) {
        if (strlen(entities[k].name) == i - 1 && memcmp(entities[k].name, t + 1, i - 1) == 0) {
            *outlen = put_utf8(entities[k].cp, out);
            return i + 1;
        }
    }
    return 0;
}

static int ieq_prefix(const char *t, size_t len, const char *word)
{
    size_t n = strlen(word);
    if (len < n)
        return 0;
    for (size_t i = 0; i < n; i++) {
        char c = t[i];
        if (c >= 'A' && c <= 'Z')
            c = (char)(c + 32);
        if (c != word[i])
            return 0;
    }
    return 1;
}

/* Finds needle (lower-case ASCII) case-insensitively; returns offset or len. */
static size_t ifind(const char *t, size_t len, const char *needle)
{
    size_t n = strlen(needle);
    for (size_t i = 0; i + n <= len; i++)
        if (ieq_prefix(t + i, len - i, needle))
            return i;
    return len;
}

size_t nc_html_strip(const char *t, size_t len, char *out)
{
    size_t o = 0, i = 0;
    while (i < len) {
        char c = t[i];
        if (c == '&') {
            size_t ol = 0;
            size_t used = entity(t + i, len - i, out + o, &ol);
            if (used) {
                o += ol;
                i += used;
                continue;
            }
        } else if (c == '<' && i + 1 < len) {
            char d = t[i + 1];
            int tagish = (d >= 'a' && d <= 'z') || (d >= 'A' && d <= 'Z') || d == '/' ||
                         d == '!' || d == '?';
            if (tagish) {
                size_t end;
                if (ieq_prefix(t + i, len - i, "<!--")) {
                    size_t k = ifind(t + i + 4, len - i - 4, "-->");
                    end = i + 4 + k + 3;
                } else if (ieq_prefix(t + i, len - i, "<script") ||
                           ieq_prefix(t + i, len - i, "<style")) {
                    const char *close = t[i + 2] == 'c' || t[i + 2] == 'C' ? "</script" : "</style";
                    size_t k = ifind(t + i + 1, len - i - 1, close);
                    size_t gt = k + i + 1 < len ? ifind(t + i + 1 + k, len - i - 1 - k, ">") : 0;
                    end = i + 1 + k + gt + 1;
                } else {
                    const char *gt = memchr(t + i, '>', len - i);
                    end = gt ? (size_t)(gt - t) + 1 : len + 1;
                    if (!gt) { /* no closing '>': not a tag, keep the text */
                        out[o++] = c;
                        i++;
                        continue;
                    }
                }
                if (end > len)
                    end = len;
                out[o++] = ' ';
                i = end;
                continue;
            }
        }
        out[o++] = c;
        i++;
    }
    return o;
}
