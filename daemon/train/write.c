/*
 * write.c - the model directory's df.tsv and manifest.json (the format of
 * core/manifest.h): labels with their combiner, threshold, C and
 * cross-validated figures, the nested cross-validated figures of both
 * combiners, every feature setting, checksums and the training options.
 * The .svm files are written by the workers (workers.c) before this runs,
 * so their checksums can go into the manifest.
 */
#include <jansson.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/clock.h"
#include "base/util.h"
#include "core/evaluate.h"
#include "core/manifest.h"
#include "train/trainer.h"

static int write_df(const struct trainer *t, char *hash, char *err, size_t errlen)
{
    uint32_t dim = nc_featurizer_dim(t->feat);
    const uint32_t *df = nc_featurizer_df(t->feat);
    size_t cap = 64 + (size_t)dim * 2, len = 0;
    char *buf = NULL;
    for (uint32_t i = 0; i < dim; i++)
        cap += df[i] ? 24 : 0;
    buf = malloc(cap);
    if (!buf) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    len += (size_t)snprintf(buf + len, cap - len, "%s %u %u\n", NC_DF_MAGIC, dim,
                            nc_featurizer_ndocs(t->feat));
    for (uint32_t i = 0; i < dim; i++)
        if (df[i])
            len += (size_t)snprintf(buf + len, cap - len, "%u\t%u\n", i, df[i]);
    nc_hash_hex(buf, len, hash);
    char path[4096];
    snprintf(path, sizeof(path), "%s/%s", t->o->out_dir, NC_DF_FILE);
    int rc = nc_write_file(path, buf, len, err, errlen);
    free(buf);
    return rc;
}

static int file_hash(const char *dir, const char *file, char *hash, char *err, size_t errlen)
{
    char path[4096], *data;
    size_t len;
    snprintf(path, sizeof(path), "%s/%s", dir, file);
    if (nc_read_file(path, &data, &len, (size_t)1 << 31, err, errlen) != 0)
        return -1;
    nc_hash_hex(data, len, hash);
    free(data);
    return 0;
}

static double round4(double x)
{
    return round(x * 10000.0) / 10000.0;
}

/* One label's manifest entry; NULL with err set on failure. */
static json_t *label_json(const struct trainer *t, size_t k, const struct label_result *r,
                          char *err, size_t errlen)
{
    const struct nc_train_opts *o = t->o;
    char file[128], sha[17];
    snprintf(file, sizeof(file), "%s.svm", t->cp.labels[k]);
    if (file_hash(o->out_dir, file, sha, err, errlen) != 0)
        return NULL;
    json_t *lj = json_pack("{s:s,s:s,s:s,s:f}", "name", t->cp.labels[k], "file", file, "sha", sha,
                           "threshold", r->threshold);
    int bad = !lj || nc_combine_to_json(&r->comb, lj) != 0;
    size_t support = 0;
    for (size_t i = 0; i < t->cp.n; i++)
        support += t->cp.docs[i].labels >> k & 1;
    bad = bad || json_object_set_new(lj, "C", json_real(o->c_grid[r->c])) != 0 ||
          json_object_set_new(lj, "training_support", json_integer((json_int_t)support)) != 0;
    if (!bad && o->folds > 1) {
        json_t *grid = json_object();
        for (size_t c = 0; c < o->nc; c++) {
            char key[32];
            snprintf(key, sizeof(key), "%g", o->c_grid[c]);
            json_object_set_new(grid, key, json_real(round4(r->grid_f1[c])));
        }
        bad = json_object_set_new(
            lj, "cv",
            json_pack("{s:f,s:f,s:f,s:f,s:o,s:f}", "f1", round4(r->f1), "precision",
                      round4(r->precision), "recall", round4(r->recall), "f1_at_0.5",
                      round4(r->f1_half), "f1_by_C", grid, "f1_tuned_threshold_nested",
                      round4(r->f1_tuned_cv))) != 0;
    }
    if (bad) {
        json_decref(lj);
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    return lj;
}

static json_t *features_json(const struct trainer *t, const char *df_hash)
{
    const struct nc_feature_settings *fs = nc_featurizer_settings(t->feat);
    json_t *sw = json_array();
    for (size_t i = 0; i < fs->nstopwords; i++)
        json_array_append_new(sw, json_string(fs->stopwords[i]));
    json_t *feat = json_pack("{s:s,s:s,s:s,s:s,s:s,s:i,s:i}", "featurizer", NC_FEATURIZER_ID,
                             "hash", NC_HASH_NAME, "tf", NC_TF_NAME, "idf", NC_IDF_NAME, "norm",
                             NC_NORM_NAME, "word_bits", (int)fs->word_bits, "word_ngram_max",
                             (int)fs->word_ngram_max);
    if (fs->char_min) {
        json_object_set_new(feat, "char_ngrams",
                            json_pack("[i,i]", (int)fs->char_min, (int)fs->char_max));
        json_object_set_new(feat, "char_bits", json_integer(fs->char_bits));
    } else {
        json_object_set_new(feat, "char_ngrams", json_null());
    }
    json_object_set_new(feat, "min_df", json_integer(fs->min_df));
    json_object_set_new(feat, "title_weight", json_real(fs->title_weight));
    if (fs->passage_words)
        json_object_set_new(feat, "passages",
                            json_pack("{s:i,s:i,s:i}", "words", (int)fs->passage_words, "stride",
                                      (int)fs->passage_stride, "min_words",
                                      (int)fs->passage_min_words));
    else
        json_object_set_new(feat, "passages", json_null());
    json_object_set_new(feat, "strip_html", json_boolean(fs->strip_html));
    json_object_set_new(feat, "stopwords", sw);
    json_object_set_new(feat, "df_file", json_string(NC_DF_FILE));
    json_object_set_new(feat, "df_sha", json_string(df_hash));
    return feat;
}

static json_t *base_names(const char *const *paths, size_t n)
{
    json_t *files = json_array();
    for (size_t f = 0; f < n; f++) {
        const char *base = strrchr(paths[f], '/');
        json_array_append_new(files, json_string(base ? base + 1 : paths[f]));
    }
    return files;
}

static json_t *training_json(const struct trainer *t, const struct nested_result *nr)
{
    const struct nc_train_opts *o = t->o;
    json_t *grid = json_array();
    for (size_t c = 0; c < o->nc; c++)
        json_array_append_new(grid, json_real(o->c_grid[c]));
    json_t *tr = json_pack("{s:o,s:s,s:I,s:i,s:o,s:s,s:f}", "files",
                           base_names(o->data, o->ndata), "data_sha", t->cp.data_hash,
                           "documents", (json_int_t)t->cp.n, "folds", o->folds, "C_grid", grid,
                           "class_weight", "balanced", "eps", o->eps > 0 ? o->eps : 0.001);
    json_object_set_new(tr, "threshold_margin", json_real(o->threshold_margin));
    json_object_set_new(tr, "svm_files", json_string(o->full_sv ? "full" : "compact"));
    json_object_set_new(tr, "combine",
                        json_string(nc_combine_rule_name(o->folds > 1 ? o->combine
                                                                      : NC_COMBINE_MAX)));
    json_object_set_new(tr, "nested_cv", json_boolean(nr->done));
    json_object_set_new(tr, "idf_files", base_names(o->idf_data, o->nidf));
    json_object_set_new(tr, "idf_documents", json_integer((json_int_t)t->idf_docs));
    return tr;
}

/* Nested cross-validated figures of one combiner: per label, macro and micro. */
static json_t *nested_rule_json(const struct trainer *t, const struct nested_counts *ct)
{
    json_t *labels = json_object();
    size_t TP = 0, FP = 0, FN = 0;
    double macro = 0;
    for (size_t k = 0; k < t->cp.nlabels; k++) {
        const struct nested_counts *c = &ct[k];
        double f1 = nc_f1(c->tp, c->fp, c->fn);
        double p = c->tp + c->fp ? (double)c->tp / (double)(c->tp + c->fp) : 0;
        double r = c->tp + c->fn ? (double)c->tp / (double)(c->tp + c->fn) : 0;
        json_object_set_new(labels, t->cp.labels[k],
                            json_pack("{s:f,s:f,s:f}", "f1", round4(f1), "precision", round4(p),
                                      "recall", round4(r)));
        macro += f1;
        TP += c->tp;
        FP += c->fp;
        FN += c->fn;
    }
    return json_pack("{s:f,s:f,s:o}", "macro_f1", round4(macro / (double)t->cp.nlabels),
                     "micro_f1", round4(nc_f1(TP, FP, FN)), "labels", labels);
}

static json_t *cv_json(const struct trainer *t, const struct label_result *res,
                       const struct nested_result *nr)
{
    double macro = 0, macro_half = 0;
    for (size_t k = 0; k < t->cp.nlabels; k++) {
        macro += res[k].f1;
        macro_half += res[k].f1_half;
    }
    json_t *cv = json_pack("{s:f,s:f}", "macro_f1", round4(macro / (double)t->cp.nlabels),
                           "macro_f1_at_0.5", round4(macro_half / (double)t->cp.nlabels));
    if (nr->done)
        json_object_set_new(cv, "nested",
                            json_pack("{s:i,s:o,s:o}", "folds", t->o->folds, "learned",
                                      nested_rule_json(t, nr->rule[NC_COMBINE_LEARNED]), "max",
                                      nested_rule_json(t, nr->rule[NC_COMBINE_MAX])));
    return cv;
}

/*
 * "version": name-date-hash, the hash over everything else in the manifest
 * but the creation time: the training data's checksum, the labels with
 * their files' checksums, thresholds and combiners, the feature settings.
 * A model that differs in anything gets another version, a rebuild of the
 * same model the same one.
 */
static int set_version(json_t *root, const char *name, const char *date)
{
    json_t *copy = json_deep_copy(root);
    if (!copy || json_object_del(copy, "created") != 0 || json_object_del(copy, "version") != 0) {
        json_decref(copy);
        return -1;
    }
    char *s = json_dumps(copy, JSON_COMPACT | JSON_SORT_KEYS | JSON_REAL_PRECISION(17));
    json_decref(copy);
    if (!s)
        return -1;
    char hash[17], version[200];
    nc_hash_hex(s, strlen(s), hash);
    free(s);
    snprintf(version, sizeof(version), "%s-%s-%.8s", name, date, hash);
    return json_object_set_new(root, "version", json_string(version));
}

static int write_manifest(const struct trainer *t, const struct label_result *res,
                          const struct nested_result *nr, const char *df_hash, char *err,
                          size_t errlen)
{
    const struct nc_train_opts *o = t->o;
    time_t now = nc_build_time();
    struct tm tm;
    gmtime_r(&now, &tm);
    char created[40], date[16];
    strftime(created, sizeof(created), "%Y-%m-%dT%H:%M:%SZ", &tm);
    strftime(date, sizeof(date), "%Y.%m.%d", &tm);

    json_t *root = json_object();
    json_object_set_new(root, "format", json_string(NC_MODEL_FORMAT));
    json_object_set_new(root, "format_version", json_integer(NC_MODEL_FORMAT_VERSION));
    json_object_set_new(root, "name", json_string(o->name));
    json_object_set_new(root, "version", json_null()); /* set_version(), keeping its place */
    json_object_set_new(root, "created", json_string(created));
    json_object_set_new(root, "languages", json_pack("[s]", o->language));
    json_t *labels = json_array();
    json_object_set_new(root, "labels", labels);
    for (size_t k = 0; k < t->cp.nlabels; k++) {
        json_t *lj = label_json(t, k, &res[k], err, errlen);
        if (!lj) {
            json_decref(root);
            return -1;
        }
        json_array_append_new(labels, lj);
    }
    json_object_set_new(root, "features", features_json(t, df_hash));
    json_object_set_new(root, "training", training_json(t, nr));
    if (o->folds > 1)
        json_object_set_new(root, "cv", cv_json(t, res, nr));
    if (set_version(root, o->name, date) != 0) {
        json_decref(root);
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    char *s = json_dumps(root, JSON_INDENT(2) | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(10));
    json_decref(root);
    size_t len = s ? strlen(s) : 0;
    char *withnl = s ? realloc(s, len + 2) : NULL;
    if (!withnl) {
        free(s);
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    withnl[len] = '\n';
    withnl[len + 1] = '\0';
    char path[4096];
    snprintf(path, sizeof(path), "%s/%s", o->out_dir, NC_MANIFEST_FILE);
    int rc = nc_write_file(path, withnl, len + 1, err, errlen);
    free(withnl);
    return rc;
}

int nc_write_model(const struct trainer *t, const struct label_result *res,
                   const struct nested_result *nr, char *err, size_t errlen)
{
    char df_hash[17];
    if (write_df(t, df_hash, err, errlen) != 0)
        return -1;
    return write_manifest(t, res, nr, df_hash, err, errlen);
}
