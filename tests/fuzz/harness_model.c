/*
 * harness_model.c - fuzz target "model": the model-directory loader.
 *
 * At start-up a tiny model is trained with nc_train (300 articles of
 * models/corpus/dev.jsonl, 3-fold cross-validation with C = 1, so its labels
 * have learned combiners and its manifest nested figures, 2^12 + 2^12 hash
 * buckets, character 3..5-grams, SOURCE_DATE_EPOCH fixed so it is the same
 * model every time) into a scratch directory, and its files are kept in
 * memory.
 *
 * Input: the first byte selects what the rest is:
 *
 *   byte0 & 0x7f, modulo (nfiles + 1):
 *     0            manifest.json
 *     1            df.tsv
 *     2..nfiles-1  the label models (*.svm) in manifest order
 *     nfiles       raw bytes for nc_svmfile_check() (no model directory)
 *   byte0 & 0x80   "fix the checksum": after replacing df.tsv or a .svm
 *                  file, put its new xxh3 into the manifest, so the input
 *                  reaches the parsers behind the checksum check
 *
 * The selected file is replaced by the rest of the input, nc_model_load()
 * runs on the directory, and the file (and manifest) are restored. A model
 * that loads must classify three fixed articles with sane, encodable
 * results. A refusal must be one line starting "model <dir>: ". Raw bytes
 * that nc_svmfile_check() accepts are then given to libsvm's own
 * svm_load_model(), which the strict reader exists to protect: its result
 * must agree with what the reader counted.
 *
 * NC_FUZZ_EXPORT_MODEL=DIR copies the tiny model's files into DIR at
 * start-up (make_corpus.py builds the seeds from them).
 */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <svm.h>

#include "harness.h"
#include "core/svmfile.h"
#include "train/train.h"
#include "base/util.h"

#define T "model"

struct mfile {
    char name[128];
    char path[4400];
    char *data;
    size_t len;
    char hash[17];
};

#define MAX_FILES (2 + NC_MAX_LABELS)
static struct mfile files[MAX_FILES];
static size_t nfiles;
static const char *dir;
static char raw_path[4200];
static uint32_t dim;
static nc_model *pristine; /* for dim and label names */
static nc_article *articles[3];

static const char *const article_text[3] = {
    "{\"id\": \"a1\", \"title\": \"Sanctions on exports of oil\", \"body\": \"The government "
    "announced new sanctions and tariffs; vaccine trials and fighting continued.\", "
    "\"published\": 1700000000}",
    "<p>Troops shelled the city overnight as <b>talks</b> on a ceasefire stalled. The "
    "ministry said exports of grain fell while tariffs on steel rose again, and health officials "
    "urged people to get the new vaccine before winter. Officials said the sanctions would stay "
    "until the fighting stops; markets fell and the currency slid against the dollar for a third "
    "day. Negotiators will meet again next week in Geneva to discuss prisoner exchanges, "
    "humanitarian corridors and the reconstruction of bridges and power plants &amp; roads.</p>",
    "{\"title\": \"Impfstoff\", \"body\": \"Der neue Impfstoff\", \"lang\": \"de\"}",
};

static int read_into(struct mfile *f)
{
    char err[512];
    if (nc_read_file(f->path, &f->data, &f->len, (size_t)64 << 20, err, sizeof(err)) != 0) {
        fprintf(stderr, "fuzz " T ": %s\n", err);
        return -1;
    }
    nc_hash_hex(f->data, f->len, f->hash);
    return 0;
}

static int add_file(const char *name)
{
    if (nfiles == MAX_FILES)
        return -1;
    struct mfile *f = &files[nfiles++];
    snprintf(f->name, sizeof(f->name), "%s", name);
    snprintf(f->path, sizeof(f->path), "%s/%s", dir, name);
    return read_into(f);
}

int fuzz_model_init(void)
{
    if (pristine)
        return 0;
    char err[1024], data[4096];
    if (!(dir = nc_fuzz_scratch_dir("model")))
        return -1;
    snprintf(data, sizeof(data), "%s/models/corpus/dev.jsonl", nc_fuzz_source_dir());
    const char *datav[1] = {data};
    struct nc_train_opts o;
    nc_train_opts_default(&o);
    o.data = datav;
    o.ndata = 1;
    o.out_dir = dir;
    o.name = "fuzz";
    o.limit = 300;
    o.folds = 3;
    o.nc = 1;
    o.c_grid[0] = 1;
    o.jobs = 2;
    /* Every feature setting pinned, so a change of the defaults does not
     * change the model and stale the seeds (corpus/model/). */
    o.features.word_bits = 12;
    o.features.word_ngram_max = 2;
    o.features.char_min = 3;
    o.features.char_max = 5;
    o.features.char_bits = 12;
    o.features.title_weight = 1.0;
    o.features.passage_words = 40;
    o.features.passage_stride = 20;
    o.features.passage_min_words = 60;
    o.features.min_df = 2;
    o.features.strip_html = 1;
    setenv("SOURCE_DATE_EPOCH", "1700000000", 1); /* the same bytes every run */
    if (nc_train(&o, err, sizeof(err)) != 0) {
        fprintf(stderr, "fuzz " T ": training the tiny model failed: %s\n", err);
        return -1;
    }
    if (nc_model_load(dir, &pristine, err, sizeof(err)) != 0) {
        fprintf(stderr, "fuzz " T ": the tiny model does not load: %s\n", err);
        return -1;
    }
    dim = nc_featurizer_dim(nc_model_featurizer(pristine));
    if (add_file("manifest.json") != 0 || add_file("df.tsv") != 0)
        return -1;
    json_error_t je;
    json_t *root = json_loadb(files[0].data, files[0].len, 0, &je);
    json_t *labels = json_object_get(root, "labels");
    for (size_t k = 0; k < json_array_size(labels); k++) {
        const char *file = json_string_value(json_object_get(json_array_get(labels, k), "file"));
        if (!file || add_file(file) != 0) {
            json_decref(root);
            return -1;
        }
    }
    json_decref(root);
    /* make_corpus.py takes the model's files from here for the seeds. */
    const char *export = getenv("NC_FUZZ_EXPORT_MODEL");
    for (size_t i = 0; export && *export && i < nfiles; i++) {
        char p[4400];
        int n = snprintf(p, sizeof(p), "%s/%s", export, files[i].name);
        if (n < 0 || (size_t)n >= sizeof(p) || nc_fuzz_write(p, files[i].data, files[i].len) != 0) {
            fprintf(stderr, "fuzz " T ": cannot write %s\n", p);
            return -1;
        }
    }
    snprintf(raw_path, sizeof(raw_path), "%s/raw.svm", dir);
    for (size_t i = 0; i < 3; i++) {
        if (!(articles[i] = nc_article_new()) ||
            nc_article_parse(articles[i], article_text[i], strlen(article_text[i]), 0, err,
                             sizeof(err)) != NC_ART_OK) {
            fprintf(stderr, "fuzz " T ": fixed article %zu: %s\n", i, err);
            return -1;
        }
    }
    return 0;
}

/* Raw bytes -> the strict reader; what it accepts, libsvm must load sanely. */
static void raw_svmfile(const uint8_t *data, size_t size)
{
    char *buf = malloc(size + 1);
    FUZZ_CHECK(T, buf, "out of memory");
    if (size)
        memcpy(buf, data, size);
    buf[size] = '\0';
    struct nc_svmfile_info info;
    char err[300];
    err[0] = '\0';
    int rc = nc_svmfile_check(buf, size, dim, &info, err, sizeof(err));
    if (rc != 0) {
        FUZZ_CHECK(T, rc == -1 && err[0] && !strchr(err, '\n'),
                   "refusal %d without a one-line reason", rc);
        free(buf);
        return;
    }
    FUZZ_CHECK(T,
               info.total_sv >= 1 && info.total_sv <= NC_SVMFILE_MAX_SV &&
                   (long)info.nr_sv[0] + info.nr_sv[1] == info.total_sv,
               "accepted inconsistent counts");
    FUZZ_CHECK(T,
               (info.label[0] == 1 && info.label[1] == -1) ||
                   (info.label[0] == -1 && info.label[1] == 1),
               "accepted labels %d %d", info.label[0], info.label[1]);
    FUZZ_CHECK(T, nc_fuzz_write(raw_path, buf, size) == 0, "cannot write %s", raw_path);
    free(buf);
    struct svm_model *sm = svm_load_model(raw_path);
    FUZZ_CHECK(T, sm, "libsvm cannot load a file nc_svmfile_check accepted");
    FUZZ_CHECK(T, sm->nr_class == 2 && sm->l == info.total_sv, "libsvm read %d classes, %d SVs",
               sm->nr_class, sm->l);
    size_t nz = 0;
    for (int i = 0; i < sm->l; i++) {
        int last = 0;
        for (const struct svm_node *n = sm->SV[i]; n->index != -1; n++, nz++) {
            FUZZ_CHECK(T, n->index > last && (uint32_t)n->index <= dim,
                       "libsvm read index %d after %d in SV %d", n->index, last, i + 1);
            last = n->index;
        }
    }
    FUZZ_CHECK(T, nz == info.nonzeros, "libsvm read %zu non-zeros, the reader %zu", nz,
               info.nonzeros);
    svm_free_and_destroy_model(&sm);
}

/* Puts the pristine manifest back with one file's checksum replaced. */
static void patch_manifest(const struct mfile *f, const char *newhash)
{
    const struct mfile *man = &files[0];
    char quoted[20];
    snprintf(quoted, sizeof(quoted), "\"%s\"", f->hash);
    char *copy = malloc(man->len + 1);
    FUZZ_CHECK(T, copy, "out of memory");
    memcpy(copy, man->data, man->len + 1);
    char *at = strstr(copy, quoted);
    FUZZ_CHECK(T, at, "checksum of %s not in the manifest", f->name);
    memcpy(at + 1, newhash, 16);
    FUZZ_CHECK(T, nc_fuzz_write(man->path, copy, man->len) == 0, "cannot write the manifest");
    free(copy);
}

static void check_loaded(const nc_model *m)
{
    size_t L = nc_model_nlabels(m);
    FUZZ_CHECK(T, L >= 1 && L <= NC_MAX_LABELS, "loaded %zu labels", L);
    for (size_t k = 0; k < L; k++) {
        double th = nc_model_threshold(m, k);
        FUZZ_CHECK(T, th > 0 && th < 1, "threshold %g", th);
        FUZZ_CHECK(T, nc_model_label_index(m, nc_model_label(m, k)) == (int)k, "label index");
    }
    nc_workspace *ws = nc_workspace_new(m);
    FUZZ_CHECK(T, ws, "out of memory");
    for (size_t i = 0; i < 3; i++) {
        nc_result r;
        nc_fuzz_classify_check(T, m, ws, articles[i], &r);
    }
    nc_workspace_free(ws);
}

void fuzz_model_restore(void)
{
    for (size_t i = 0; i < nfiles; i++)
        if (nc_fuzz_write(files[i].path, files[i].data, files[i].len) != 0)
            nc_fuzz_fail(T, "cannot restore %s", files[i].path);
}

int fuzz_model(const uint8_t *data, size_t size)
{
    if (fuzz_model_init() != 0)
        nc_fuzz_fail(T, "set-up failed");
    if (size == 0)
        return 0;
    size_t which = (size_t)(data[0] & 0x7f) % (nfiles + 1);
    int fix = (data[0] & 0x80) != 0;
    data++;
    size--;
    if (which == nfiles) {
        raw_svmfile(data, size);
        return 0;
    }
    struct mfile *f = &files[which];
    FUZZ_CHECK(T, nc_fuzz_write(f->path, data, size) == 0, "cannot write %s", f->path);
    int patched = fix && which != 0;
    if (patched) {
        char h[17];
        nc_hash_hex(data, size, h);
        patch_manifest(f, h);
    }

    nc_model *m = NULL;
    char err[1024];
    err[0] = '\0';
    int rc = nc_model_load(dir, &m, err, sizeof(err));
    if (rc == 0) {
        FUZZ_CHECK(T, m, "success without a model");
        check_loaded(m);
        nc_model_free(m);
    } else {
        size_t dl = strlen(dir);
        FUZZ_CHECK(T, !m, "failure left *out set");
        FUZZ_CHECK(T,
                   strncmp(err, "model ", 6) == 0 && strncmp(err + 6, dir, dl) == 0 &&
                       strncmp(err + 6 + dl, ": ", 2) == 0,
                   "refusal not of the form \"model <dir>: ...\": %s", err);
        FUZZ_CHECK(T, !strchr(err, '\n'), "refusal spans lines: %s", err);
    }

    /* Restore the pristine directory for the next input. */
    FUZZ_CHECK(T, nc_fuzz_write(f->path, f->data, f->len) == 0, "cannot restore %s", f->path);
    if (patched)
        FUZZ_CHECK(T, nc_fuzz_write(files[0].path, files[0].data, files[0].len) == 0,
                   "cannot restore the manifest");
    return 0;
}
