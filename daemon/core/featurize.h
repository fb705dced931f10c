/*
 * featurize.h - article text -> sparse tf-idf vectors (the one featurizer used
 * at training and at serving time).
 *
 * Pipeline: optional HTML stripping (html.h) -> tokens (tokenize.h) -> stop
 * words dropped -> features hashed with xxh3 into two blocks:
 *   block 0: word unigrams and bigrams (bigrams of adjacent kept words of the
 *            same field), 2^word_bits buckets;
 *   block 1: character n-grams (char_min..char_max code points) taken inside
 *            word boundaries ("<word>"), 2^char_bits buckets.
 * Title tokens count title_weight times. Values are sublinear tf
 * (1 + ln tf) times smoothed idf (ln((1+N)/(1+df)) + 1), and each block is
 * L2-normalised on its own. Features that occurred in fewer than min_df
 * training articles are dropped (they only let the model memorise single
 * articles, and they would bloat the model files).
 *
 * Besides the whole document, the body can be cut into overlapping passages
 * of passage_words words (stride passage_stride) when it is longer than
 * passage_min_words; scorers take each label's maximum over the document and
 * its passages, so a topic confined to one paragraph of a long article is not
 * diluted away.
 *
 * A featurizer is immutable once built; per-thread state lives in an
 * nc_fscratch.
 */
#ifndef NC_FEATURIZE_H
#define NC_FEATURIZE_H

#include <math.h>
#include <stddef.h>
#include <stdint.h>

/* Identifies this implementation in model manifests; bump when features change. */
#define NC_FEATURIZER_ID "nc-features-1"

struct nc_feature_settings {
    unsigned word_bits;      /* 2^word_bits word buckets (10..24) */
    unsigned word_ngram_max; /* 1 or 2 */
    unsigned char_min;       /* 0: no character n-grams */
    unsigned char_max;
    unsigned char_bits;      /* 2^char_bits character buckets (10..24) */
    double title_weight;
    unsigned passage_words;     /* 0: no passages */
    unsigned passage_stride;
    unsigned passage_min_words; /* bodies up to this many words are not cut */
    unsigned min_df;            /* features seen in fewer training articles are dropped */
    int strip_html;
    char **stopwords; /* owned by whoever owns the settings */
    size_t nstopwords;
};

/* Fills s with the built-in defaults (stop words: a static English list). */
void nc_feature_settings_default(struct nc_feature_settings *s);
/* The built-in English stop-word list. */
const char *const *nc_default_stopwords(size_t *n);

typedef struct nc_featurizer nc_featurizer;
typedef struct nc_fscratch nc_fscratch;

/* One feature occurrence: index into the vector, body word position, weight. */
struct nc_occ {
    uint32_t idx;
    uint32_t pos; /* NC_POS_TITLE for title features */
    float w;
};
#define NC_POS_TITLE UINT32_MAX

/* A sparse vector (indices not sorted unless said so). */
struct nc_svec {
    uint32_t *idx;
    double *val;
    size_t n, cap;
};
void nc_svec_release(struct nc_svec *v);
/* Sorts by index (libsvm needs ascending indices). */
void nc_svec_sort(struct nc_svec *v);
/* Makes room for n entries in idx and val. Returns 0, or -1 when out of memory. */
int nc_svec_reserve(struct nc_svec *v, size_t n);

/* Copies the settings (stop words included). */
nc_featurizer *nc_featurizer_new(const struct nc_feature_settings *s, char *err, size_t errlen);
void nc_featurizer_free(nc_featurizer *f);
const struct nc_feature_settings *nc_featurizer_settings(const nc_featurizer *f);
uint32_t nc_featurizer_dim(const nc_featurizer *f);
/* Indices below this are word features, the others character n-grams. */
uint32_t nc_featurizer_word_dim(const nc_featurizer *f);
/* idf of a feature, 0 for features dropped by min_df (needs the df table). */
double nc_featurizer_idf(const nc_featurizer *f, uint32_t idx);
/* 1 + ln tf (tf > 0), with a table for whole counts. */
#define NC_SUBLINEAR_TABLE 64
extern const double nc_sublinear_table[NC_SUBLINEAR_TABLE];
static inline double nc_sublinear_tf(double tf)
{
    int i = (int)tf;
    if (i >= 1 && i < NC_SUBLINEAR_TABLE && (double)i == tf)
        return nc_sublinear_table[i];
    return 1.0 + log(tf);
}
/* Document frequencies of the training set (dim entries) and its size. */
int nc_featurizer_set_df(nc_featurizer *f, const uint32_t *df, uint32_t ndocs);
const uint32_t *nc_featurizer_df(const nc_featurizer *f);
uint32_t nc_featurizer_ndocs(const nc_featurizer *f);

nc_fscratch *nc_fscratch_new(const nc_featurizer *f);
void nc_fscratch_free(nc_fscratch *s);

/* Extracts all occurrences of an article (title first, then the body in
 * word order). Returns 0, or -1 when out of memory. */
int nc_features_extract(const nc_featurizer *f, nc_fscratch *s, const char *title, size_t tlen,
                        const char *body, size_t blen);
const struct nc_occ *nc_fscratch_occ(const nc_fscratch *s, size_t *n);
uint32_t nc_fscratch_body_words(const nc_fscratch *s);

/*
 * Tracing (for `newsclf explain`): when on, every occurrence also records a
 * readable name such as "word:sanctions", "bigram:trade war", "char:<tar"
 * (prefixed "title:" for title features). Off by default: no cost.
 */
void nc_fscratch_trace(nc_fscratch *s, int on);
/* Name of occurrence i of the last extraction (tracing on), else "". */
const char *nc_fscratch_name(const nc_fscratch *s, size_t i);

/* Distinct indices (with raw tf) of occurrences [from, to). */
int nc_features_bag(const nc_featurizer *f, nc_fscratch *s, size_t from, size_t to,
                    struct nc_svec *out);
/*
 * Distinct features of the last extracted article, numbered in order of first
 * occurrence: slot j is feature (*feat)[j], and occurrence i belongs to slot
 * (*slot_of)[i]. Scorers that visit the article several times (whole document,
 * then passages) look each feature up once per slot instead of once per
 * visit. The arrays live in s until the next extraction. Returns 0 or -1
 * (out of memory).
 */
int nc_features_slots(const nc_featurizer *f, nc_fscratch *s, const uint32_t **feat,
                      const uint32_t **slot_of, size_t *nslots);

/* tf-idf, per-block L2-normalised vector of occurrences [from, to). */
int nc_features_vector(const nc_featurizer *f, nc_fscratch *s, size_t from, size_t to,
                       struct nc_svec *out);

/*
 * Passage ranges (occurrence index ranges [from, to)) of the last extracted
 * article; at most max written; returns how many passages there are (0 when
 * the body is short or passages are off).
 */
size_t nc_features_passages(const nc_featurizer *f, const nc_fscratch *s, size_t (*ranges)[2],
                            size_t max);

#endif
