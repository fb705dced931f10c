/*
 * tokenize.h - text -> normalised word tokens (UTF-8 aware).
 *
 * Letters and digits form tokens; everything else separates them. The
 * tokenizer lower-cases ASCII, Latin-1, Latin Extended-A, Greek and Cyrillic
 * letters, folds Latin diacritics to their base letters (é -> e, ß -> ss,
 * Œ -> oe), drops combining marks (U+0300..U+036F), and maps every ASCII digit
 * to '0' so numbers of the same shape share a feature ("2020" -> "0000").
 * Invalid UTF-8 bytes and NUL act as separators; a multi-byte sequence is
 * never cut. A token is cut after NC_TOKEN_MAX bytes (at a character
 * boundary) and the rest of that word is skipped.
 *
 * Tokens are appended to an nc_tokens buffer, which the caller reuses: the
 * bytes of all tokens in one array, an offset and a length per token.
 */
#ifndef NC_TOKENIZE_H
#define NC_TOKENIZE_H

#include <stddef.h>
#include <stdint.h>

#define NC_TOKEN_MAX 48

struct nc_token {
    uint32_t off; /* into nc_tokens.chars */
    uint32_t len;
};

typedef struct nc_tokens {
    char *chars;
    size_t nchars, capchars;
    struct nc_token *tok;
    size_t n, captok;
} nc_tokens;

void nc_tokens_init(nc_tokens *t);
void nc_tokens_clear(nc_tokens *t);
void nc_tokens_release(nc_tokens *t);

/* Appends the tokens of text[0..len). Returns 0, or -1 when out of memory.
 * ASCII spans take a branch-light path; text around other bytes the full
 * UTF-8 path, nc_tokenize_utf8(), which gives the same tokens on any input. */
int nc_tokenize(const char *text, size_t len, nc_tokens *out);
/* The full UTF-8 path alone (the reference for the ASCII path). */
int nc_tokenize_utf8(const char *text, size_t len, nc_tokens *out);

/* Appends s[0..len) as one token, as it is (the featurizer keeps its trace
 * names in an nc_tokens too). Returns 0, or -1 when out of memory. */
int nc_tokens_push(nc_tokens *t, const char *s, size_t len);

#endif
