/*
 * errors.c - the error sink of a load or a validation: every problem is one
 * line ("file:line:column: message"), all of them are collected, then copied
 * into the caller's buffer cut at a line boundary. Also cfg_quote(): how
 * user text appears inside a message.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config/internal.h"

enum { MAX_SINK_BYTES = 256 * 1024 }; /* error text kept before counting only */

void cfg_sink_vadd(struct cfg_sink *s, const char *fmt, va_list ap)
{
    char line[1024];
    int n = vsnprintf(line, sizeof line, fmt, ap);
    if (n < 0)
        return;
    size_t ln = strlen(line);
    /* One error per line, whatever the message contains. */
    for (size_t i = 0; i < ln; i++)
        if (line[i] == '\n' || line[i] == '\r')
            line[i] = ' ';
    s->nlines++;
    if (s->len + ln + 1 > MAX_SINK_BYTES)
        return; /* counted as "more errors" */
    if (s->len + ln + 2 > s->cap) {
        size_t ncap = s->cap ? s->cap * 2 : 1024;
        while (ncap < s->len + ln + 2)
            ncap *= 2;
        char *nb = realloc(s->buf, ncap);
        if (!nb) {
            s->oom = true;
            return;
        }
        s->buf = nb;
        s->cap = ncap;
    }
    memcpy(s->buf + s->len, line, ln);
    s->len += ln;
    s->buf[s->len++] = '\n';
    s->buf[s->len] = '\0';
}

void cfg_sink_add(struct cfg_sink *s, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    cfg_sink_vadd(s, fmt, ap);
    va_end(ap);
}

void cfg_sink_finish(const struct cfg_sink *s, char *err, size_t errlen)
{
    if (!err || errlen == 0)
        return;
    err[0] = '\0';
    if (s->nlines == 0) {
        if (s->oom)
            snprintf(err, errlen, "out of memory");
        return;
    }
    size_t used = 0, shown = 0;
    const char *p = s->buf ? s->buf : "";
    char tail[64];
    while (*p) {
        const char *nl = strchr(p, '\n');
        size_t ll = nl ? (size_t)(nl - p) : strlen(p);
        size_t need = (used ? 1 : 0) + ll;
        size_t rest = s->nlines - shown - 1;
        size_t reserve = rest ? sizeof tail : 0;
        if (used + need + reserve >= errlen)
            break;
        if (used)
            err[used++] = '\n';
        memcpy(err + used, p, ll);
        used += ll;
        err[used] = '\0';
        shown++;
        p = nl ? nl + 1 : p + ll;
    }
    if (shown < s->nlines) {
        size_t more = s->nlines - shown;
        snprintf(tail, sizeof tail, "%s... %zu more error%s", used ? "\n" : "", more,
                 more == 1 ? "" : "s");
        if (used + strlen(tail) < errlen)
            memcpy(err + used, tail, strlen(tail) + 1);
        else if (used == 0)
            snprintf(err, errlen, "%s", s->buf ? s->buf : "error");
    }
}

void cfg_sink_free(struct cfg_sink *s)
{
    free(s->buf);
    memset(s, 0, sizeof *s);
}

const char *cfg_quote(const char *s, char *buf, size_t n)
{
    size_t o = 0;
    if (n < 8) {
        if (n)
            buf[0] = '\0';
        return buf;
    }
    buf[o++] = '\'';
    for (size_t i = 0; s[i]; i++) {
        unsigned char ch = (unsigned char)s[i];
        if (o + 8 >= n || i >= 80) {
            memcpy(buf + o, "...", 3);
            o += 3;
            break;
        }
        if (ch < 0x20 || ch == 0x7f) {
            o += (size_t)snprintf(buf + o, n - o, "\\x%02x", ch);
        } else {
            buf[o++] = (char)ch;
        }
    }
    buf[o++] = '\'';
    buf[o] = '\0';
    return buf;
}
