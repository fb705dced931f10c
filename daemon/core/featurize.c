/* featurize.c - see featurize.h. */
#include "core/featurize.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define XXH_INLINE_ALL
#include <xxhash.h>

#include "base/util.h"
#include "core/html.h"
#include "core/tokenize.h"

/* Hash seeds: one per feature namespace, so namespaces never share a hash. */
#define SEED_WORD 0x6e63776f7264ULL   /* unigrams, and stop-word look-up */
#define SEED_BIGRAM 0x6e636269ULL
#define SEED_CHAR 0x6e636368ULL

static const char *const default_stopwords[] = {
    "a", "about", "above", "after", "again", "against", "all", "am", "an", "and", "any", "are",
    "as", "at", "be", "because", "been", "before", "being", "below", "between", "both", "but",
    "by", "can", "could", "d", "did", "do", "does", "doing", "down", "during", "each", "few",
    "for", "from", "further", "had", "has", "have", "having", "he", "her", "here", "hers",
    "herself", "him", "himself", "his", "how", "i", "if", "in", "into", "is", "it", "its",
    "itself", "just", "ll", "m", "me", "more", "most", "my", "myself", "no", "nor", "not", "now",
    "of", "off", "on", "once", "only", "or", "other", "our", "ours", "ourselves", "out", "over",
    "own", "re", "s", "same", "she", "should", "so", "some", "such", "t", "than", "that", "the",
    "their", "theirs", "them", "themselves", "then", "there", "these", "they", "this", "those",
    "through", "to", "too", "under", "until", "up", "ve", "very", "was", "we", "were", "what",
    "when", "where", "which", "while", "who", "whom", "why", "will", "with", "would", "you",
    "your", "yours", "yourself", "yourselves", "said", "says", "also"};

const char *const *nc_default_stopwords(size_t *n)
{
    *n = sizeof(default_stopwords) / sizeof(default_stopwords[0]);
    return default_stopwords;
}

void nc_feature_settings_default(struct nc_feature_settings *s)
{
    memset(s, 0, sizeof(*s));
    s->word_bits = 18;
    s->word_ngram_max = 2;
    s->char_min = 4;
    s->char_max = 4;
    s->char_bits = 18;
    s->title_weight = 1.0;
    s->passage_words = 40;
    s->passage_stride = 20;
    s->passage_min_words = 60;
    s->min_df = 2;
    s->strip_html = 1;
    s->stopwords = (char **)default_stopwords; /* not owned: see header */
    s->nstopwords = sizeof(default_stopwords) / sizeof(default_stopwords[0]);
}

struct nc_featurizer {
    struct nc_feature_settings s; /* stop words owned (copies) */
    uint32_t wdim, cdim, dim;
    uint64_t *stop_hash; /* open addressing, 0 = empty */
    char **stop_word;
    size_t stop_cap;
    uint32_t *df;
    uint32_t ndocs; /* idf is derived from df and ndocs when asked (idf_of) */
};

struct nc_fscratch {
    nc_tokens tok;
    char *html;
    size_t htmlcap;
    struct nc_occ *occ;
    size_t nocc, capocc;
    uint32_t body_words;
    size_t body_from; /* first body occurrence */
    /* Direct-indexed term-count table: feature -> its slot + 1 in the range
     * being counted (nc_features_bag, nc_features_slots); one entry per
     * feature of the space, all zero between calls (each call clears only
     * the entries it set), so a look-up is one load and never a probe. */
    uint32_t *slot_at;
    uint32_t *slot_of;   /* per occurrence (capslot_of) */
    uint32_t *slot_feat; /* per distinct feature (capslot_feat) */
    size_t capslot_of, capslot_feat;
    int trace;
    nc_tokens names; /* tracing: one name per occurrence, each with its NUL */
};

void nc_svec_release(struct nc_svec *v)
{
    free(v->idx);
    free(v->val);
    memset(v, 0, sizeof(*v));
}

int nc_svec_reserve(struct nc_svec *v, size_t n)
{
    if (n <= v->cap)
        return 0;
    size_t cap = v->cap ? v->cap : 256;
    while (cap < n)
        cap *= 2;
    uint32_t *i = realloc(v->idx, cap * sizeof(*i));
    if (!i)
        return -1;
    v->idx = i;
    double *d = realloc(v->val, cap * sizeof(*d));
    if (!d)
        return -1;
    v->val = d;
    v->cap = cap;
    return 0;
}

void nc_svec_sort(struct nc_svec *v)
{
    /* Insertion sort for short vectors, else shell sort: no allocation. */
    size_t n = v->n;
    static const size_t gaps[] = {1750, 701, 301, 132, 57, 23, 10, 4, 1};
    for (size_t g = 0; g < sizeof(gaps) / sizeof(gaps[0]); g++) {
        size_t gap = gaps[g];
        for (size_t i = gap; i < n; i++) {
            uint32_t ki = v->idx[i];
            double kv = v->val[i];
            size_t j = i;
            while (j >= gap && v->idx[j - gap] > ki) {
                v->idx[j] = v->idx[j - gap];
                v->val[j] = v->val[j - gap];
                j -= gap;
            }
            v->idx[j] = ki;
            v->val[j] = kv;
        }
    }
}

static uint64_t word_hash(const char *w, size_t n)
{
    return XXH3_64bits_withSeed(w, n, SEED_WORD);
}

static int stop_insert(nc_featurizer *f, const char *w)
{
    size_t n = strlen(w);
    uint64_t h = word_hash(w, n) | 1; /* never 0 */
    size_t i = h & (f->stop_cap - 1);
    while (f->stop_hash[i]) {
        if (f->stop_hash[i] == h && strcmp(f->stop_word[i], w) == 0)
            return 0; /* duplicate */
        i = (i + 1) & (f->stop_cap - 1);
    }
    f->stop_word[i] = strdup(w);
    if (!f->stop_word[i])
        return -1;
    f->stop_hash[i] = h;
    return 0;
}

static int is_stop(const nc_featurizer *f, uint64_t h, const char *w, size_t n)
{
    h |= 1;
    size_t i = h & (f->stop_cap - 1);
    while (f->stop_hash[i]) {
        if (f->stop_hash[i] == h && strlen(f->stop_word[i]) == n &&
            memcmp(f->stop_word[i], w, n) == 0)
            return 1;
        i = (i + 1) & (f->stop_cap - 1);
    }
    return 0;
}

nc_featurizer *nc_featurizer_new(const struct nc_feature_settings *s, char *err, size_t errlen)
{
    if (s->word_bits < 10 || s->word_bits > 24) {
        snprintf(err, errlen, "word_bits %u out of range 10..24", s->word_bits);
        return NULL;
    }
    if (s->word_ngram_max < 1 || s->word_ngram_max > 2) {
        snprintf(err, errlen, "word_ngram_max %u not 1 or 2", s->word_ngram_max);
        return NULL;
    }
    if (s->char_min != 0 && (s->char_min < 1 || s->char_max < s->char_min || s->char_max > 8 ||
                             s->char_bits < 10 || s->char_bits > 24)) {
        snprintf(err, errlen, "character n-gram settings out of range (1 <= min <= max <= 8, bits 10..24)");
        return NULL;
    }
    /* Below 1, a title-only word would get tf < 1 and a negative 1 + ln tf. */
    if (!(s->title_weight >= 1 && s->title_weight <= 100)) {
        snprintf(err, errlen, "title_weight out of range [1, 100]");
        return NULL;
    }
    if (s->passage_words != 0 &&
        (s->passage_stride == 0 || s->passage_stride > s->passage_words ||
         s->passage_min_words < s->passage_words || s->passage_words > 100000)) {
        snprintf(err, errlen, "passage settings invalid (need 0 < stride <= words <= min_words)");
        return NULL;
    }
    if (s->nstopwords > 100000) {
        snprintf(err, errlen, "too many stop words");
        return NULL;
    }
    nc_featurizer *f = calloc(1, sizeof(*f));
    if (!f)
        goto oom;
    f->s = *s;
    f->s.stopwords = NULL;
    f->s.nstopwords = 0;
    f->wdim = 1u << s->word_bits;
    f->cdim = s->char_min ? 1u << s->char_bits : 0;
    f->dim = f->wdim + f->cdim;
    f->stop_cap = 16;
    while (f->stop_cap < s->nstopwords * 2 + 1)
        f->stop_cap *= 2;
    f->stop_hash = calloc(f->stop_cap, sizeof(*f->stop_hash));
    f->stop_word = calloc(f->stop_cap, sizeof(*f->stop_word));
    f->s.stopwords = calloc(s->nstopwords + 1, sizeof(char *));
    if (!f->stop_hash || !f->stop_word || !f->s.stopwords)
        goto oom;
    for (size_t i = 0; i < s->nstopwords; i++) {
        f->s.stopwords[i] = strdup(s->stopwords[i]);
        if (!f->s.stopwords[i])
            goto oom;
        f->s.nstopwords++;
        if (stop_insert(f, s->stopwords[i]) != 0)
            goto oom;
    }
    return f;
oom:
    snprintf(err, errlen, "out of memory");
    nc_featurizer_free(f);
    return NULL;
}

void nc_featurizer_free(nc_featurizer *f)
{
    if (!f)
        return;
    if (f->stop_word)
        for (size_t i = 0; i < f->stop_cap; i++)
            free(f->stop_word[i]);
    if (f->s.stopwords)
        for (size_t i = 0; i < f->s.nstopwords; i++)
            free(f->s.stopwords[i]);
    free(f->s.stopwords);
    free(f->stop_word);
    free(f->stop_hash);
    free(f->df);
    free(f);
}

const struct nc_feature_settings *nc_featurizer_settings(const nc_featurizer *f)
{
    return &f->s;
}

uint32_t nc_featurizer_dim(const nc_featurizer *f)
{
    return f->dim;
}

int nc_featurizer_set_df(nc_featurizer *f, const uint32_t *df, uint32_t ndocs)
{
    uint32_t *d = malloc((size_t)f->dim * sizeof(*d));
    if (!d)
        return -1;
    memcpy(d, df, (size_t)f->dim * sizeof(*d));
    free(f->df);
    f->df = d;
    f->ndocs = ndocs;
    return 0;
}

/* Smoothed idf of a feature (no table: the scorer keeps its own copy of the
 * kept features' idf in its rows, linear.h, so a second dim-sized table of
 * doubles would only cost memory). */
static double idf_of(const nc_featurizer *f, uint32_t idx)
{
    return log((1.0 + f->ndocs) / (1.0 + f->df[idx])) + 1.0;
}

uint32_t nc_featurizer_word_dim(const nc_featurizer *f)
{
    return f->wdim;
}

double nc_featurizer_idf(const nc_featurizer *f, uint32_t idx)
{
    if (!f->df || idx >= f->dim || f->df[idx] < f->s.min_df)
        return 0.0;
    return idf_of(f, idx);
}

const uint32_t *nc_featurizer_df(const nc_featurizer *f)
{
    return f->df;
}

uint32_t nc_featurizer_ndocs(const nc_featurizer *f)
{
    return f->ndocs;
}

nc_fscratch *nc_fscratch_new(const nc_featurizer *f)
{
    nc_fscratch *s = calloc(1, sizeof(*s)); /* empty nc_tokens are all zero */
    uint32_t *slot_at = calloc(f->dim, sizeof(*slot_at));
    if (s && slot_at) {
        s->slot_at = slot_at;
        return s;
    }
    free(slot_at);
    free(s);
    return NULL;
}

void nc_fscratch_free(nc_fscratch *s)
{
    if (!s)
        return;
    nc_tokens_release(&s->tok);
    nc_tokens_release(&s->names);
    free(s->html);
    free(s->occ);
    free(s->slot_at);
    free(s->slot_of);
    free(s->slot_feat);
    free(s);
}

void nc_fscratch_trace(nc_fscratch *s, int on)
{
    s->trace = on;
}

const char *nc_fscratch_name(const nc_fscratch *s, size_t i)
{
    if (!s->trace || i >= s->nocc || i >= s->names.n)
        return "";
    return s->names.chars + s->names.tok[i].off;
}

/* Records the name of the occurrence just added (tracing only). */
static int trace_name(nc_fscratch *s, int title, const char *kind, const char *a, size_t an,
                      const char *b, size_t bn)
{
    /* "title:bigram:" and two tokens of at most NC_TOKEN_MAX + 2 bytes each */
    char name[2 * NC_TOKEN_MAX + 32];
    int n = snprintf(name, sizeof(name), "%s%s:%.*s%s%.*s", title ? "title:" : "", kind, (int)an,
                     a, bn ? " " : "", (int)bn, b);
    if (n < 0)
        return -1;
    size_t len = (size_t)n < sizeof(name) ? (size_t)n : sizeof(name) - 1;
    return nc_tokens_push(&s->names, name, len + 1); /* with its NUL */
}

static int occ_reserve(nc_fscratch *s, size_t more)
{
    void *occ = s->occ;
    int rc = nc_grow(&occ, &s->capocc, s->nocc + more, sizeof(*s->occ), 1024);
    s->occ = occ;
    return rc;
}

/* Character n-grams of "<word>" (n counted in code points). */
static int char_grams(const nc_featurizer *f, nc_fscratch *s, const char *w, size_t n, uint32_t pos,
                       float weight)
{
    char buf[NC_TOKEN_MAX + 2];
    uint8_t start[NC_TOKEN_MAX + 3]; /* byte offset of each code point */
    size_t nb = 0, ncp = 0;
    buf[nb++] = '<';
    memcpy(buf + nb, w, n);
    nb += n;
    buf[nb++] = '>';
    for (size_t i = 0; i < nb; i++)
        if (((unsigned char)buf[i] & 0xC0) != 0x80)
            start[ncp++] = (uint8_t)i;
    start[ncp] = (uint8_t)nb;
    unsigned lo = f->s.char_min, hi = f->s.char_max;
    uint32_t mask = f->cdim - 1;
    for (size_t i = 0; i < ncp; i++) {
        for (unsigned k = lo; k <= hi && i + k <= ncp; k++) {
            size_t b = start[i], e = start[i + k];
            uint64_t h = XXH3_64bits_withSeed(buf + b, e - b, SEED_CHAR);
            struct nc_occ *o = &s->occ[s->nocc++];
            o->idx = f->wdim + ((uint32_t)h & mask);
            o->pos = pos;
            o->w = weight;
            if (s->trace && trace_name(s, pos == NC_POS_TITLE, "char", buf + b, e - b, "", 0) != 0)
                return -1;
        }
    }
    return 0;
}

static int is_number(const char *w, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (w[i] != '0')
            return 0;
    return 1;
}

static int field(const nc_featurizer *f, nc_fscratch *s, const char *text, size_t len, int title)
{
    if (len == 0)
        return 0;
    if (f->s.strip_html && nc_html_maybe(text, len)) {
        if (len > s->htmlcap) {
            char *p = realloc(s->html, len);
            if (!p)
                return -1;
            s->html = p;
            s->htmlcap = len;
        }
        len = nc_html_strip(text, len, s->html);
        text = s->html;
    }
    nc_tokens_clear(&s->tok);
    if (nc_tokenize(text, len, &s->tok) != 0)
        return -1;
    float weight = title ? (float)f->s.title_weight : 1.0f;
    uint32_t wmask = f->wdim - 1;
    uint64_t prev = 0;
    const char *prev_w = NULL;
    size_t prev_n = 0;
    int have_prev = 0;
    /* Upper bound of occurrences per token: unigram + bigram + char grams. */
    size_t per_tok = 2 + (f->s.char_min ? (size_t)(NC_TOKEN_MAX + 2) * (f->s.char_max - f->s.char_min + 1) : 0);
    for (size_t t = 0; t < s->tok.n; t++) {
        const char *w = s->tok.chars + s->tok.tok[t].off;
        size_t n = s->tok.tok[t].len;
        uint32_t pos = title ? NC_POS_TITLE : s->body_words++;
        uint64_t h = word_hash(w, n);
        if (is_stop(f, h, w, n))
            continue;
        if (occ_reserve(s, per_tok) != 0)
            return -1;
        struct nc_occ *o = &s->occ[s->nocc++];
        o->idx = (uint32_t)h & wmask;
        o->pos = pos;
        o->w = weight;
        if (s->trace && trace_name(s, title, "word", w, n, "", 0) != 0)
            return -1;
        if (f->s.word_ngram_max >= 2 && have_prev) {
            uint64_t pair[2] = {prev, h};
            uint64_t hb = XXH3_64bits_withSeed(pair, sizeof(pair), SEED_BIGRAM);
            o = &s->occ[s->nocc++];
            o->idx = (uint32_t)hb & wmask;
            o->pos = pos;
            o->w = weight;
            if (s->trace && trace_name(s, title, "bigram", prev_w, prev_n, w, n) != 0)
                return -1;
        }
        prev = h;
        prev_w = w;
        prev_n = n;
        have_prev = 1;
        if (f->s.char_min && !is_number(w, n) && char_grams(f, s, w, n, pos, weight) != 0)
            return -1;
    }
    return 0;
}

/* Scratch grown by one huge article is given back before the next one, so a
 * rare 900 KiB article does not pin tens of MiB per worker for good; buffers
 * for ordinary articles (a few hundred occurrences) are kept. */
#define SCRATCH_KEEP_OCC ((size_t)1 << 16)

static void scratch_trim(nc_fscratch *s)
{
    if (s->capocc <= SCRATCH_KEEP_OCC)
        return;
    free(s->occ);
    free(s->slot_of);
    free(s->slot_feat);
    free(s->html);
    s->occ = NULL;
    s->slot_of = s->slot_feat = NULL;
    s->html = NULL;
    s->capocc = s->capslot_of = s->capslot_feat = s->htmlcap = 0;
    nc_tokens_release(&s->tok);
    nc_tokens_init(&s->tok);
}

int nc_features_extract(const nc_featurizer *f, nc_fscratch *s, const char *title, size_t tlen,
                        const char *body, size_t blen)
{
    scratch_trim(s);
    s->nocc = 0;
    nc_tokens_clear(&s->names);
    s->body_words = 0;
    if (title && field(f, s, title, tlen, 1) != 0)
        return -1;
    s->body_from = s->nocc;
    if (body && field(f, s, body, blen, 0) != 0)
        return -1;
    return 0;
}

const struct nc_occ *nc_fscratch_occ(const nc_fscratch *s, size_t *n)
{
    *n = s->nocc;
    return s->occ;
}

uint32_t nc_fscratch_body_words(const nc_fscratch *s)
{
    return s->body_words;
}

int nc_features_bag(const nc_featurizer *f, nc_fscratch *s, size_t from, size_t to,
                    struct nc_svec *out)
{
    (void)f;
    out->n = 0;
    if (to > s->nocc)
        to = s->nocc;
    if (from >= to)
        return 0;
    if (nc_svec_reserve(out, to - from) != 0)
        return -1;
    /* tf in float, as a float accumulator would sum it (float -> double ->
     * float is exact), in order of first occurrence. */
    size_t nt = 0;
    for (size_t i = from; i < to; i++) {
        uint32_t idx = s->occ[i].idx, u = s->slot_at[idx];
        if (u == 0) {
            out->idx[nt] = idx;
            out->val[nt] = 0.0;
            s->slot_at[idx] = u = (uint32_t)++nt;
        }
        out->val[u - 1] = (double)((float)out->val[u - 1] + s->occ[i].w);
    }
    for (size_t i = 0; i < nt; i++)
        s->slot_at[out->idx[i]] = 0;
    out->n = nt;
    return 0;
}

int nc_features_slots(const nc_featurizer *f, nc_fscratch *s, const uint32_t **feat,
                      const uint32_t **slot_of, size_t *nslots)
{
    (void)f;
    if (s->nocc > s->capslot_of) {
        uint32_t *p = realloc(s->slot_of, s->capocc * sizeof(*p));
        if (!p)
            return -1;
        s->slot_of = p;
        s->capslot_of = s->capocc;
    }
    uint32_t n = 0;
    int rc = 0;
    for (size_t i = 0; i < s->nocc; i++) {
        uint32_t idx = s->occ[i].idx, u = s->slot_at[idx];
        if (u == 0) {
            if (n == s->capslot_feat) { /* sized by distinct features, not occurrences */
                size_t cap = s->capslot_feat ? s->capslot_feat * 2 : 1024;
                uint32_t *p = realloc(s->slot_feat, cap * sizeof(*p));
                if (!p) {
                    rc = -1;
                    break;
                }
                s->slot_feat = p;
                s->capslot_feat = cap;
            }
            s->slot_feat[n] = idx;
            s->slot_at[idx] = u = ++n;
        }
        s->slot_of[i] = u - 1;
    }
    for (uint32_t j = 0; j < n; j++)
        s->slot_at[s->slot_feat[j]] = 0;
    if (rc != 0)
        return -1;
    *feat = s->slot_feat;
    *slot_of = s->slot_of;
    *nslots = n;
    return 0;
}

/* 1 + ln(tf) for whole tf 0..63 (entry 0 unused): nearly all tf are small counts. */
const double nc_sublinear_table[NC_SUBLINEAR_TABLE] = {
    0, 1.0, 1.6931471805599454, 2.09861228866811, 2.386294361119891, 2.6094379124341005,
    2.791759469228055, 2.9459101490553135, 3.0794415416798357, 3.1972245773362196,
    3.302585092994046, 3.3978952727983707, 3.4849066497880004, 3.5649493574615367,
    3.6390573296152584, 3.70805020110221, 3.772588722239781, 3.833213344056216,
    3.8903717578961645, 3.9444389791664403, 3.995732273553991, 4.044522437723423,
    4.091042453358316, 4.13549421592915, 4.178053830347945, 4.218875824868201, 4.258096538021482,
    4.295836866004329, 4.332204510175204, 4.367295829986475, 4.401197381662156,
    4.433987204485146, 4.465735902799727, 4.49650756146648, 4.526360524616162, 4.555348061489413,
    4.58351893845611, 4.610917912644224, 4.637586159726386, 4.663561646129646, 4.688879454113936,
    4.713572066704308, 4.737669618283368, 4.761200115693562, 4.7841896339182615,
    4.80666248977032, 4.828641396489095, 4.850147601710058, 4.871201010907891, 4.891820298110627,
    4.912023005428146, 4.931825632724326, 4.951243718581427, 4.970291913552122,
    4.9889840465642745, 5.007333185232471, 5.02535169073515, 5.04305126783455, 5.060443010546419,
    5.07753744390572, 5.0943445622221, 5.110873864173311, 5.127134385045092, 5.143134726391533};

int nc_features_vector(const nc_featurizer *f, nc_fscratch *s, size_t from, size_t to,
                       struct nc_svec *out)
{
    if (nc_features_bag(f, s, from, to, out) != 0)
        return -1;
    double norm2[2] = {0, 0};
    size_t kept = 0;
    for (size_t i = 0; i < out->n; i++) {
        uint32_t idx = out->idx[i];
        if (f->df && f->df[idx] < f->s.min_df)
            continue;
        double v = nc_sublinear_tf(out->val[i]) * (f->df ? idf_of(f, idx) : 1.0);
        out->idx[kept] = idx;
        out->val[kept++] = v;
        norm2[idx >= f->wdim] += v * v;
    }
    out->n = kept;
    double inv[2] = {norm2[0] > 0 ? 1.0 / sqrt(norm2[0]) : 0, norm2[1] > 0 ? 1.0 / sqrt(norm2[1]) : 0};
    for (size_t i = 0; i < out->n; i++)
        out->val[i] *= inv[out->idx[i] >= f->wdim];
    return 0;
}

size_t nc_features_passages(const nc_featurizer *f, const nc_fscratch *s, size_t (*ranges)[2],
                            size_t max)
{
    unsigned P = f->s.passage_words, S = f->s.passage_stride;
    if (P == 0 || s->body_words <= f->s.passage_min_words)
        return 0;
    size_t count = 0;
    size_t lo = s->body_from; /* first occurrence with pos >= start */
    for (uint32_t start = 0;; start += S) {
        int last = start + P >= s->body_words;
        if (last)
            start = s->body_words - P;
        while (lo < s->nocc && s->occ[lo].pos < start)
            lo++;
        size_t hi = lo;
        while (hi < s->nocc && s->occ[hi].pos < start + P)
            hi++;
        if (count < max) {
            ranges[count][0] = lo;
            ranges[count][1] = hi;
        }
        count++;
        if (last)
            break;
    }
    return count;
}
