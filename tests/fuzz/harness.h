/*
 * harness.h - the bodies of newsclf's fuzz targets, shared by the libFuzzer
 * executables (fuzz_main.c, clang only) and the crash replay test
 * (regress.c, any compiler), so a crash found by fuzzing replays through
 * exactly the same code as a regular ctest test.
 *
 *   article  one Kafka message -> nc_article_parse -> nc_model_classify with
 *            the shipped model (models/default) -> nc_encode_result
 *   article_diff  one Kafka message -> nc_article_parse (simdjson) and
 *            nc_article_parse_jansson (the reference): same decisions, fields
 *   config   one YAML file -> nc_config_load, then dump -> load round trip
 *   model    one replaced file of a tiny model directory -> nc_model_load
 *            (first byte selects the file; see harness_model.c), or raw
 *            bytes -> nc_svmfile_check
 *   encode   a synthetic nc_result (any doubles) + an article ->
 *            nc_encode_result, whose output must parse back with jansson
 *
 * Each target has an init function (idempotent; heavy set-up such as loading
 * or training a model happens once per process) and a body that returns 0.
 * A broken invariant is reported on stderr and abort()s, which libFuzzer and
 * ctest both count as a failure.
 */
#ifndef NC_FUZZ_HARNESS_H
#define NC_FUZZ_HARNESS_H

#include <stddef.h>
#include <stdint.h>

#include "core/article.h"
#include "core/encode.h"
#include "core/model.h"

int fuzz_article_init(void);
int fuzz_article(const uint8_t *data, size_t size);

int fuzz_article_diff_init(void);
int fuzz_article_diff(const uint8_t *data, size_t size);

int fuzz_config_init(void);
int fuzz_config(const uint8_t *data, size_t size);

int fuzz_model_init(void);
int fuzz_model(const uint8_t *data, size_t size);
/* Puts the pristine model files back (after an input died half-way). */
void fuzz_model_restore(void);

int fuzz_encode_init(void);
int fuzz_encode(const uint8_t *data, size_t size);

/* ---- common.c ---------------------------------------------------------- */

/* Prints "fuzz <target>: <message>" and aborts. */
void nc_fuzz_fail(const char *target, const char *fmt, ...)
    __attribute__((format(printf, 2, 3), noreturn));

#define FUZZ_CHECK(target, cond, ...)                                                              \
    do {                                                                                           \
        if (!(cond))                                                                               \
            nc_fuzz_fail(target, __VA_ARGS__);                                                     \
    } while (0)

/*
 * Semantic checks that found a reported, not yet fixed bug carry a name; the
 * environment variable NC_FUZZ_IGNORE (comma-separated names) switches them
 * off so fuzzing can go on past the known bug. Memory errors are never
 * ignorable. Names in use: see README.md in this directory.
 */
int nc_fuzz_enabled(const char *check);

/* The source tree (compile definition NC_FUZZ_SOURCE_DIR). */
const char *nc_fuzz_source_dir(void);

/* A fresh directory under $TMPDIR (or /tmp), removed with its files at exit.
 * Returns NULL (after a message) on failure. */
const char *nc_fuzz_scratch_dir(const char *tag);

/* Writes a whole file (no fsync: scratch data). 0 or -1. */
int nc_fuzz_write(const char *path, const void *data, size_t len);

/*
 * Encodes r with opts and checks the record against encode.h's schema: valid
 * compact JSON (parsed back by jansson), keys in order, one score and one
 * decision per label unless skipped, labels == the "on" labels, id and model
 * as given, input/classified_at iff opts->input, article per article_mode.
 * Also checks nc_encode_labels_csv() with small buffers.
 */
void nc_fuzz_check_encode(const char *target, const nc_model *m, const nc_article *a,
                          const nc_result *r, const struct nc_encode_opts *opts);

/* Classifies a and checks the result (sizes, ranges, determinism with a reused
 * workspace) and its encodings. Returns the classify return code. */
int nc_fuzz_classify_check(const char *target, const nc_model *m, nc_workspace *ws,
                           const nc_article *a, nc_result *r);

#endif
