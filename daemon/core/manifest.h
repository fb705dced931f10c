/*
 * manifest.h - the model directory format (version 2).
 *
 *   <dir>/manifest.json   format, name, version, labels with thresholds and
 *                         combiners (combine.h), feature settings, checksums,
 *                         training data checksum, cross-validation metrics
 *   <dir>/<label>.svm     one libsvm model file per label (svm-predict can
 *                         read it); classes +1 (label) and -1
 *   <dir>/df.tsv          document frequencies of the feature buckets, from
 *                         which the IDF table is computed at load
 *
 * Shared by the loader (model.c) and the writer (train/) so the two agree on
 * every key. Version 1 differs only in the labels: no "rule", every label
 * is the max rule with its "platt" sigmoid; such models still load.
 */
#ifndef NC_MANIFEST_H
#define NC_MANIFEST_H

#include <stddef.h>
#include <stdint.h>

#define NC_MODEL_FORMAT "newsclf-model"
#define NC_MODEL_FORMAT_VERSION 2
#define NC_MANIFEST_FILE "manifest.json"
#define NC_DF_FILE "df.tsv"
#define NC_DF_MAGIC "newsclf-df 1"
#define NC_HASH_NAME "xxh3-64"
#define NC_TF_NAME "sublinear"
#define NC_IDF_NAME "smooth"
#define NC_NORM_NAME "l2-per-block"

/* True for names made of [a-z0-9._-], 1..63 bytes (labels, file stems). */
int nc_valid_label(const char *s);
/* True for names made of [A-Za-z0-9._-], 1..127 bytes (model name, version). */
int nc_valid_name(const char *s);

/* Parses df.tsv (NUL-terminated data). df must hold dim entries (zeroed). */
int nc_df_parse(const char *data, size_t len, uint32_t dim, uint32_t *df, uint32_t *ndocs,
                char *err, size_t errlen);

#endif
