/* model.c - see model.h and manifest.h. */
#define _GNU_SOURCE /* memfd_create */
#include "core/model.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <svm.h>
#include <sys/mman.h>
#include <unistd.h>

#include "core/combine.h"
#include "core/featurize.h"
#include "core/linear.h"
#include "core/manifest.h"
#include "core/svmfile.h"
#include "base/util.h"

#define MAX_MANIFEST_BYTES (16u << 20)
#define MAX_SVM_BYTES (1u << 30)
#define MAX_DF_BYTES (256u << 20)
#define MAX_LANGS 16

struct label {
    char name[NC_LABEL_MAX];
    double threshold;
    struct nc_combine comb;
};

struct nc_model {
    char *dir;
    char *name, *version;
    char langs[MAX_LANGS][16];
    size_t nlangs;
    size_t nlabels;
    struct label label[NC_MAX_LABELS];
    nc_featurizer *feat;
    nc_linear lin;
};

struct nc_workspace {
    nc_fscratch *fs;
    struct nc_svec v;
    struct nc_scores scores; /* of the last classification */
};

/* Errors name the model directory once, then the detail. */
#define ERR(...)                                                                                   \
    do {                                                                                           \
        char d_[400];                                                                              \
        snprintf(d_, sizeof(d_), __VA_ARGS__);                                                     \
        snprintf(err, errlen, "model %s: %s", dir, d_);                                            \
        goto fail;                                                                                 \
    } while (0)

static int path_join(char *out, size_t outlen, const char *dir, const char *file)
{
    int n = snprintf(out, outlen, "%s/%s", dir, file);
    return n < 0 || (size_t)n >= outlen ? -1 : 0;
}

static int plain_file_name(const char *s)
{
    return s[0] != '\0' && s[0] != '.' && strchr(s, '/') == NULL && strlen(s) < 128;
}

/* Reads dir/file and checks its xxh3 against the manifest. */
static int read_checked(const char *dir, const char *file, const char *want_hash, size_t max,
                        char **data, size_t *len, char *err, size_t errlen)
{
    char path[4096], e[300];
    if (path_join(path, sizeof(path), dir, file) != 0) {
        snprintf(err, errlen, "model %s: path too long", dir);
        return -1;
    }
    if (nc_read_file(path, data, len, max, e, sizeof(e)) != 0) {
        snprintf(err, errlen, "model %s: cannot read %s (%s)", dir, file, e);
        return -1;
    }
    char got[17];
    nc_hash_hex(*data, *len, got);
    if (strcmp(got, want_hash) != 0) {
        snprintf(err, errlen, "model %s: %s is damaged or truncated (checksum %s, manifest says %s)",
                 dir, file, got, want_hash);
        free(*data);
        *data = NULL;
        return -1;
    }
    return 0;
}

static int get_uint(json_t *o, const char *key, unsigned *out)
{
    json_t *v = json_object_get(o, key);
    if (!json_is_integer(v) || json_integer_value(v) < 0 || json_integer_value(v) > 1000000)
        return -1;
    *out = (unsigned)json_integer_value(v);
    return 0;
}

static const char *get_str(json_t *o, const char *key)
{
    json_t *v = json_object_get(o, key);
    return json_is_string(v) ? json_string_value(v) : NULL;
}

static int str_is(json_t *o, const char *key, const char *want)
{
    const char *s = get_str(o, key);
    return s && strcmp(s, want) == 0;
}

/* Feature settings from the manifest; stop words borrowed from the JSON. */
static int parse_features(json_t *fj, struct nc_feature_settings *fs, const char **df_hash,
                          char *err, size_t errlen, const char *dir)
{
    memset(fs, 0, sizeof(*fs));
    if (!json_is_object(fj))
        ERR("manifest: \"features\" missing or not an object");
    if (!str_is(fj, "featurizer", NC_FEATURIZER_ID))
        ERR("manifest: features.featurizer is not \"%s\": the model was built by an incompatible "
            "newsclf",
            NC_FEATURIZER_ID);
    if (!str_is(fj, "hash", NC_HASH_NAME) || !str_is(fj, "tf", NC_TF_NAME) ||
        !str_is(fj, "idf", NC_IDF_NAME) || !str_is(fj, "norm", NC_NORM_NAME))
        ERR("manifest: features.hash/tf/idf/norm must be %s/%s/%s/%s", NC_HASH_NAME, NC_TF_NAME,
            NC_IDF_NAME, NC_NORM_NAME);
    if (get_uint(fj, "word_bits", &fs->word_bits) || get_uint(fj, "word_ngram_max", &fs->word_ngram_max))
        ERR("manifest: features.word_bits/word_ngram_max missing or not integers");
    json_t *cg = json_object_get(fj, "char_ngrams");
    if (json_is_array(cg) && json_array_size(cg) == 2 && json_is_integer(json_array_get(cg, 0)) &&
        json_is_integer(json_array_get(cg, 1))) {
        json_int_t a = json_integer_value(json_array_get(cg, 0));
        json_int_t b = json_integer_value(json_array_get(cg, 1));
        if (a < 0 || b < 0 || a > 100 || b > 100)
            ERR("manifest: features.char_ngrams out of range");
        fs->char_min = (unsigned)a;
        fs->char_max = (unsigned)b;
        if (a > 0 && get_uint(fj, "char_bits", &fs->char_bits))
            ERR("manifest: features.char_bits missing");
    } else if (!json_is_null(cg)) {
        ERR("manifest: features.char_ngrams must be [min, max] or null");
    }
    if (get_uint(fj, "min_df", &fs->min_df))
        ERR("manifest: features.min_df missing or not an integer");
    json_t *tw = json_object_get(fj, "title_weight"), *sh = json_object_get(fj, "strip_html");
    if (!json_is_number(tw))
        ERR("manifest: features.title_weight missing");
    if (!json_is_boolean(sh))
        ERR("manifest: features.strip_html must be true or false");
    fs->title_weight = json_number_value(tw);
    fs->strip_html = json_is_true(sh);
    json_t *pj = json_object_get(fj, "passages");
    if (json_is_object(pj)) {
        if (get_uint(pj, "words", &fs->passage_words) || get_uint(pj, "stride", &fs->passage_stride) ||
            get_uint(pj, "min_words", &fs->passage_min_words))
            ERR("manifest: features.passages needs words, stride, min_words");
    } else if (!json_is_null(pj)) {
        ERR("manifest: features.passages must be an object or null");
    }
    json_t *sw = json_object_get(fj, "stopwords");
    if (!json_is_array(sw))
        ERR("manifest: features.stopwords must be an array");
    fs->nstopwords = json_array_size(sw);
    fs->stopwords = calloc(fs->nstopwords + 1, sizeof(char *));
    if (!fs->stopwords)
        ERR("out of memory");
    for (size_t i = 0; i < fs->nstopwords; i++) {
        json_t *w = json_array_get(sw, i);
        if (!json_is_string(w) || json_string_length(w) == 0 || json_string_length(w) > 64)
            ERR("manifest: features.stopwords[%zu] must be a non-empty string", i);
        fs->stopwords[i] = (char *)json_string_value(w);
    }
    *df_hash = get_str(fj, "df_sha");
    if (!*df_hash)
        ERR("manifest: features.df_sha missing");
    return 0;
fail:
    return -1;
}

static int load_label_model(nc_model *m, size_t k, const char *dir, const char *file,
                            const char *hash, char *err, size_t errlen)
{
    char *data = NULL;
    size_t len;
    struct svm_model *sm = NULL;
    if (read_checked(dir, file, hash, MAX_SVM_BYTES, &data, &len, err, errlen) != 0)
        return -1;
    struct nc_svmfile_info info;
    char e[300];
    if (nc_svmfile_check(data, len, nc_featurizer_dim(m->feat), &info, e, sizeof(e)) != 0) {
        snprintf(err, errlen, "model %s: %s: %s", dir, file, e);
        free(data);
        return -1;
    }
    /*
     * libsvm reads from a path. Hand it the very bytes we checked, through an
     * in-memory file, so a file replaced on disk meanwhile cannot slip past
     * the strict reader.
     */
    char path[4096];
    int fd = memfd_create("newsclf-svm", MFD_CLOEXEC);
    if (fd >= 0) {
        size_t off = 0;
        while (off < len) {
            ssize_t w = write(fd, data + off, len - off);
            if (w <= 0)
                break;
            off += (size_t)w;
        }
        if (off == len)
            snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
        else
            path[0] = '\0';
    } else if (path_join(path, sizeof(path), dir, file) != 0) {
        path[0] = '\0';
    }
    free(data);
    if (path[0])
        sm = svm_load_model(path);
    if (fd >= 0)
        close(fd);
    if (!sm) {
        snprintf(err, errlen, "model %s: libsvm cannot load %s", dir, file);
        return -1;
    }
    int rc = nc_linear_set_from_svm(&m->lin, k, sm, 1, e, sizeof(e));
    if (rc != 0)
        snprintf(err, errlen, "model %s: %s: %s", dir, file, e);
    svm_free_and_destroy_model(&sm);
    return rc;
}

int nc_model_load(const char *dir, nc_model **out, char *err, size_t errlen)
{
    nc_model *m = calloc(1, sizeof(*m));
    char *mdata = NULL, *dfdata = NULL;
    uint32_t *df = NULL;
    json_t *root = NULL;
    struct nc_feature_settings fs = {0};
    size_t len;
    char path[4096], e[300];
    int rc = -1;
    *out = NULL;
    if (!m)
        ERR("out of memory");
    if (!(m->dir = strdup(dir)))
        ERR("out of memory");
    if (path_join(path, sizeof(path), dir, NC_MANIFEST_FILE) != 0)
        ERR("path too long");
    if (nc_read_file(path, &mdata, &len, MAX_MANIFEST_BYTES, e, sizeof(e)) != 0)
        ERR("cannot read manifest (%s)", e);
    json_error_t je;
    root = json_loadb(mdata, len, JSON_REJECT_DUPLICATES, &je);
    if (!root)
        ERR("%s:%d:%d: %s", NC_MANIFEST_FILE, je.line, je.column, je.text);
    if (!json_is_object(root) || !str_is(root, "format", NC_MODEL_FORMAT))
        ERR("%s is not a newsclf model manifest (\"format\" must be \"%s\")", NC_MANIFEST_FILE,
            NC_MODEL_FORMAT);
    json_t *fv = json_object_get(root, "format_version");
    if (!json_is_integer(fv) || json_integer_value(fv) < 1)
        ERR("manifest: format_version missing or invalid");
    if (json_integer_value(fv) > NC_MODEL_FORMAT_VERSION)
        ERR("model format version %lld is newer than this newsclf supports (%d): upgrade newsclf",
            (long long)json_integer_value(fv), NC_MODEL_FORMAT_VERSION);
    int format_version = (int)json_integer_value(fv);
    const char *name = get_str(root, "name"), *version = get_str(root, "version");
    if (!name || !nc_valid_name(name) || !version || !nc_valid_name(version))
        ERR("manifest: name and version must be strings of [A-Za-z0-9._-]");
    if (!(m->name = strdup(name)) || !(m->version = strdup(version)))
        ERR("out of memory");
    json_t *langs = json_object_get(root, "languages");
    if (!json_is_array(langs) || json_array_size(langs) > MAX_LANGS)
        ERR("manifest: languages must be an array of at most %d codes", MAX_LANGS);
    for (size_t i = 0; i < json_array_size(langs); i++) {
        json_t *l = json_array_get(langs, i);
        if (!json_is_string(l) || json_string_length(l) == 0 || json_string_length(l) > 15)
            ERR("manifest: languages[%zu] must be a short string", i);
        snprintf(m->langs[m->nlangs++], sizeof(m->langs[0]), "%s", json_string_value(l));
    }

    const char *df_hash;
    if (parse_features(json_object_get(root, "features"), &fs, &df_hash, err, errlen, dir) != 0)
        goto fail_quiet;
    if (!(m->feat = nc_featurizer_new(&fs, e, sizeof(e))))
        ERR("manifest: features: %s", e);
    uint32_t dim = nc_featurizer_dim(m->feat), ndocs;
    if (!(df = calloc(dim, sizeof(*df))))
        ERR("out of memory");
    if (read_checked(dir, NC_DF_FILE, df_hash, MAX_DF_BYTES, &dfdata, &len, err, errlen) != 0)
        goto fail_quiet;
    if (nc_df_parse(dfdata, len, dim, df, &ndocs, e, sizeof(e)) != 0)
        ERR("%s", e);
    if (nc_featurizer_set_df(m->feat, df, ndocs) != 0)
        ERR("out of memory");

    json_t *labels = json_object_get(root, "labels");
    if (!json_is_array(labels) || json_array_size(labels) == 0 ||
        json_array_size(labels) > NC_MAX_LABELS)
        ERR("manifest: labels must be an array of 1..%d labels", NC_MAX_LABELS);
    m->nlabels = json_array_size(labels);
    if (nc_linear_init(&m->lin, m->nlabels, dim) != 0)
        ERR("out of memory");
    for (size_t k = 0; k < m->nlabels; k++) {
        json_t *lj = json_array_get(labels, k);
        const char *ln = json_is_object(lj) ? get_str(lj, "name") : NULL;
        if (!ln || !nc_valid_label(ln))
            ERR("manifest: labels[%zu].name must be 1..63 characters of [a-z0-9._-]", k);
        for (size_t j = 0; j < k; j++)
            if (strcmp(m->label[j].name, ln) == 0)
                ERR("manifest: label \"%s\" appears twice", ln);
        snprintf(m->label[k].name, sizeof(m->label[k].name), "%s", ln);
        json_t *th = json_object_get(lj, "threshold");
        if (!json_is_number(th) || !(json_number_value(th) > 0 && json_number_value(th) < 1))
            ERR("manifest: labels[%zu].threshold must be a probability in (0, 1)", k);
        m->label[k].threshold = json_number_value(th);
        if (nc_combine_from_json(lj, format_version, k, &m->label[k].comb, e, sizeof(e)) != 0)
            ERR("%s", e);
        const char *file = get_str(lj, "file"), *sha = get_str(lj, "sha");
        if (!file || !plain_file_name(file) || !sha)
            ERR("manifest: labels[%zu] needs a plain \"file\" name and its \"sha\"", k);
        if (load_label_model(m, k, dir, file, sha, err, errlen) != 0)
            goto fail_quiet;
    }
    if (nc_linear_pack(&m->lin, m->feat) != 0)
        ERR("out of memory");
    *out = m;
    m = NULL;
    rc = 0;
fail:
fail_quiet:
    free(fs.stopwords);
    json_decref(root);
    free(mdata);
    free(dfdata);
    free(df);
    nc_model_free(m);
    return rc;
}

void nc_model_free(nc_model *m)
{
    if (!m)
        return;
    nc_featurizer_free(m->feat);
    nc_linear_release(&m->lin);
    free(m->dir);
    free(m->name);
    free(m->version);
    free(m);
}

const char *nc_model_name(const nc_model *m)
{
    return m->name;
}

const char *nc_model_version(const nc_model *m)
{
    return m->version;
}

const char *nc_model_dir(const nc_model *m)
{
    return m->dir;
}

size_t nc_model_nlabels(const nc_model *m)
{
    return m->nlabels;
}

const char *nc_model_label(const nc_model *m, size_t i)
{
    return i < m->nlabels ? m->label[i].name : NULL;
}

int nc_model_label_index(const nc_model *m, const char *label)
{
    for (size_t i = 0; i < m->nlabels; i++)
        if (strcmp(m->label[i].name, label) == 0)
            return (int)i;
    return -1;
}

double nc_model_threshold(const nc_model *m, size_t i)
{
    return m->label[i].threshold;
}

int nc_model_set_threshold(nc_model *m, const char *label, double p, char *err, size_t errlen)
{
    int i = nc_model_label_index(m, label);
    if (i < 0) {
        snprintf(err, errlen, "model %s has no label \"%s\"", m->version, label);
        return -1;
    }
    if (!(p > 0 && p < 1)) {
        snprintf(err, errlen, "threshold for \"%s\" must be in (0, 1)", label);
        return -1;
    }
    m->label[i].threshold = p;
    return 0;
}

const nc_featurizer *nc_model_featurizer(const nc_model *m)
{
    return m->feat;
}

const nc_linear *nc_model_linear(const nc_model *m)
{
    return &m->lin;
}

const struct nc_combine *nc_model_combiner(const nc_model *m, size_t i)
{
    return &m->label[i].comb;
}

nc_workspace *nc_workspace_new(const nc_model *m)
{
    nc_workspace *ws = calloc(1, sizeof(*ws));
    if (ws && !(ws->fs = nc_fscratch_new(m->feat))) {
        free(ws);
        ws = NULL;
    }
    return ws;
}

void nc_workspace_free(nc_workspace *ws)
{
    if (ws) {
        nc_fscratch_free(ws->fs);
        nc_svec_release(&ws->v);
        free(ws);
    }
}

nc_fscratch *nc_workspace_fscratch(nc_workspace *ws)
{
    return ws->fs;
}

const struct nc_scores *nc_workspace_scores(const nc_workspace *ws)
{
    return &ws->scores;
}

/* "en-GB" matches "en": compare the primary subtag, case-insensitively. */
static int lang_known(const nc_model *m, const char *lang)
{
    if (m->nlangs == 0)
        return 1;
    size_t n = strcspn(lang, "-_");
    for (size_t i = 0; i < m->nlangs; i++)
        if (strlen(m->langs[i]) == n && strncasecmp(m->langs[i], lang, n) == 0)
            return 1;
    return 0;
}

int nc_model_classify(const nc_model *m, nc_workspace *ws, const nc_article *a, nc_result *r,
                      char *err, size_t errlen)
{
    memset(r, 0, sizeof(*r));
    r->nlabels = m->nlabels;
    const char *lang = nc_article_lang(a);
    if (lang && !lang_known(m, lang)) {
        r->skipped = NC_SKIP_LANGUAGE;
        return 0;
    }
    size_t tlen, blen;
    const char *title = nc_article_title(a, &tlen), *body = nc_article_body(a, &blen);
    if (nc_linear_score(&m->lin, m->feat, ws->fs, &ws->v, title, tlen, body, blen, &ws->scores) !=
        0) {
        snprintf(err, errlen, "out of memory while classifying");
        return -1;
    }
    for (size_t k = 0; k < m->nlabels; k++) {
        const struct nc_label_score *ls = &ws->scores.label[k];
        r->decision[k] = nc_label_score_max(ls);
        r->prob[k] = nc_combine_prob(&m->label[k].comb, ls);
        r->on[k] = r->prob[k] >= m->label[k].threshold;
    }
    return 0;
}
