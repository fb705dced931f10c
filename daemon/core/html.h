/*
 * html.h - strip HTML tags and decode character entities.
 *
 * RSS and web bodies carry markup. nc_html_strip() replaces every tag
 * (<...>, comments, <script>/<style> with their content) by a space and
 * decodes numeric (&#39; &#x27;) and common named entities (&amp; &nbsp;
 * &eacute; ...) to UTF-8. Text that only looks like markup ("a < b") is
 * kept. The output is never longer than the input.
 */
#ifndef NC_HTML_H
#define NC_HTML_H

#include <stddef.h>

/* True when text[0..len) may contain markup or entities worth stripping. */
int nc_html_maybe(const char *text, size_t len);

/* Writes the stripped text to out (capacity >= len); returns its length. */
size_t nc_html_strip(const char *text, size_t len, char *out);

#endif
