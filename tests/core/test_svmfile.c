/*
 * test_svmfile.c - the strict libsvm model-file reader (daemon/svmfile.h) on
 * crafted strings: what our trainer writes is accepted, and every deviation
 * that would let libsvm's trusting loader read or write out of bounds is
 * refused with "line N: reason".
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/svmfile.h"
#include "testutil.h"

#define DIM 10

#define HEADER                                                                                     \
    "svm_type c_svc\n"                                                                             \
    "kernel_type linear\n"                                                                         \
    "nr_class 2\n"                                                                                 \
    "total_sv 2\n"                                                                                 \
    "rho 0.5\n"                                                                                    \
    "label 1 -1\n"                                                                                 \
    "nr_sv 1 1\n"                                                                                  \
    "SV\n"

#define GOOD HEADER "0.75 1:0.5 3:0.25 10:1 \n-0.25 2:1e-3\n"

static int check(const char *s, struct nc_svmfile_info *info, char *err, size_t errlen)
{
    /* an exactly-sized copy so ASan sees any read past the terminating NUL */
    size_t n = strlen(s);
    char *copy = malloc(n + 1);
    assert_non_null(copy);
    memcpy(copy, s, n + 1);
    err[0] = '\0';
    int rc = nc_svmfile_check(copy, n, DIM, info, err, errlen);
    free(copy);
    return rc;
}

static void expect_ok(const char *s)
{
    struct nc_svmfile_info info;
    char err[256];
    if (check(s, &info, err, sizeof(err)) != 0)
        fail_msg("rejected a valid file: %s\n%s", err, s);
}

/* Refused, with "line <line>: ...<detail>...". */
static void expect_bad(const char *s, int line, const char *detail)
{
    struct nc_svmfile_info info;
    char err[256], prefix[32];
    if (check(s, &info, err, sizeof(err)) == 0)
        fail_msg("accepted a bad file (expected \"%s\"):\n%s", detail, s);
    assert_one_line(err);
    if (line >= 0) {
        snprintf(prefix, sizeof(prefix), "line %d: ", line);
        if (strncmp(err, prefix, strlen(prefix)) != 0)
            fail_msg("expected \"%s...\", got \"%s\"", prefix, err);
    }
    assert_contains(err, detail);
}

static void test_valid(void **state)
{
    (void)state;
    struct nc_svmfile_info info;
    char err[256];
    assert_int_equal(check(GOOD, &info, err, sizeof(err)), 0);
    assert_int_equal(info.label[0], 1);
    assert_int_equal(info.label[1], -1);
    assert_int_equal(info.nr_sv[0], 1);
    assert_int_equal(info.nr_sv[1], 1);
    assert_int_equal(info.total_sv, 2);
    assert_true(info.rho == 0.5);
    assert_int_equal(info.nonzeros, 4);

    /* label order -1 1, one class without support vectors, an empty SV */
    assert_int_equal(check("svm_type c_svc\nkernel_type linear\nnr_class 2\ntotal_sv 1\n"
                           "rho -1e-3\nlabel -1 1\nnr_sv 0 1\nSV\n1\n",
                           &info, err, sizeof(err)),
                     0);
    assert_int_equal(info.label[0], -1);
    assert_int_equal(info.nonzeros, 0);
    assert_true(info.rho == -1e-3);
    /* trailing blank lines and a last line without newline */
    expect_ok(GOOD "\n\n   \n");
    expect_ok(HEADER "0.75 1:0.5 3:0.25 10:1\n-0.25 2:1e-3");
    /* the form libsvm writes: "%.17g " coefficient, "%d:%.8g " pairs, trailing space */
    expect_ok(HEADER "0.69585600928898428 4:0.074058913 9:0.09259619 \n"
                     "-1 1:-0.08645317 \n");
}

static void test_header_errors(void **state)
{
    (void)state;
    expect_bad("", -1, "unexpected end of file");
    expect_bad("svm_type c_svc\n", -1, "unexpected end of file");
    expect_bad("svm_type nu_svc\n", 1, "svm_type must be c_svc");
    expect_bad("svm_type c_svc\nsvm_type c_svc\n", 2, "svm_type must be c_svc");
    expect_bad("svm_type c_svc \n", 1, "svm_type");
    expect_bad("kernel_type rbf\n", 1, "kernel_type must be linear");
    expect_bad("kernel_type precomputed\n", 1, "kernel_type must be linear");
    expect_bad("nr_class 3\n", 1, "nr_class must be 2");
    expect_bad("nr_class 1000000000\n", 1, "nr_class must be 2");
    expect_bad("nr_class 99999999999999999999999\n", 1, "nr_class must be 2");
    expect_bad("nr_class -2\n", 1, "nr_class must be 2");
    expect_bad("nr_class 2x\n", 1, "nr_class must be 2");
    expect_bad("nr_class\n2\n", 1, "nr_class must be 2"); /* value on the next line */
    expect_bad("total_sv 0\n", 1, "total_sv must be between 1 and");
    expect_bad("total_sv 10000001\n", 1, "total_sv must be between 1 and");
    expect_bad("total_sv -1\n", 1, "total_sv");
    expect_bad("nr_class 2\nrho nan\n", 2, "rho must be one finite number");
    expect_bad("nr_class 2\nrho inf\n", 2, "rho must be one finite number");
    expect_bad("nr_class 2\nrho 1e999\n", 2, "rho must be one finite number");
    expect_bad("nr_class 2\nrho 0.5 0.5\n", 2, "rho must be one finite number");
    expect_bad("nr_class 2\nrho\n", 2, "rho must be");
    expect_bad("nr_class 2\nlabel 1 2\n", 2, "label must be");
    expect_bad("nr_class 2\nlabel 1 1\n", 2, "label must be");
    expect_bad("nr_class 2\nlabel 1\n", 2, "label must be");
    expect_bad("nr_class 2\nlabel 1 -1 2\n", 2, "label must be");
    expect_bad("nr_class 2\nnr_sv -1 3\n", 2, "nr_sv must be two non-negative counts");
    expect_bad("nr_class 2\nnr_sv 1\n", 2, "nr_sv must be");
    expect_bad("nr_class 2\nnr_sv 1 99999999\n", 2, "nr_sv must be");
    expect_bad("gamma 0.5\n", 1, "unexpected header line \"gamma\"");
    expect_bad("probA 1\n", 1, "unexpected header line");
    expect_bad("\n", 1, "unexpected header line");
    expect_bad("SV extra\n", 1, "unexpected text after \"SV\"");
    /* libsvm sizes rho, label and nr_sv by nr_class: they may not come first */
    expect_bad("rho 0.5\n", 1, "\"rho\" before nr_class");
    expect_bad("label 1 -1\n", 1, "\"label\" before nr_class");
    expect_bad("nr_sv 1 0\nnr_class 2\n", 1, "\"nr_sv\" before nr_class");
    /* SV before the header is complete */
    expect_bad("svm_type c_svc\nkernel_type linear\nSV\n", 3, "header incomplete");
    expect_bad("svm_type c_svc\nkernel_type linear\nnr_class 2\ntotal_sv 2\nlabel 1 -1\n"
               "nr_sv 1 1\nSV\n1 1:1\n1 1:1\n",
               7, "header incomplete");
    /* counts that disagree: libsvm would index nSV past the SV array */
    expect_bad("svm_type c_svc\nkernel_type linear\nnr_class 2\ntotal_sv 2\nrho 0\n"
               "label 1 -1\nnr_sv 2 1\nSV\n1 1:1\n1 1:1\n",
               8, "nr_sv 2 + 1 disagrees with total_sv 2");
    /* CR line endings are not what the trainer writes */
    expect_bad("svm_type c_svc\r\n", 1, "svm_type");
}

static void test_nul_byte(void **state)
{
    (void)state;
    struct nc_svmfile_info info;
    char err[256];
    char buf[sizeof(GOOD)];
    memcpy(buf, GOOD, sizeof(GOOD));
    buf[sizeof(GOOD) - 6] = '\0'; /* inside the last support vector */
    assert_int_equal(nc_svmfile_check(buf, sizeof(GOOD) - 1, DIM, &info, err, sizeof(err)), -1);
    assert_contains(err, "NUL");
}

static void test_support_vector_errors(void **state)
{
    (void)state;
    /* index range 1..dim */
    expect_bad(HEADER "1 0:0.5\n1 1:1\n", 9, "index 0 outside 1..10");
    expect_bad(HEADER "1 11:0.5\n1 1:1\n", 9, "index 11 outside 1..10");
    expect_bad(HEADER "1 1:1\n1 2147483648:1\n", 10, "outside 1..10");
    expect_bad(HEADER "1 99999999999999999999:1\n1 1:1\n", 9, "bad index");
    expect_ok(HEADER "1 10:0.5\n1 1:1\n"); /* dim itself is fine */
    /* sign characters are not indices */
    expect_bad(HEADER "1 -1:0.5\n1 1:1\n", 9, "bad index");
    expect_bad(HEADER "1 +1:0.5\n1 1:1\n", 9, "bad index");
    expect_bad(HEADER "1 1:0.5 -3:0.5\n1 1:1\n", 9, "bad index");
    /* strictly increasing */
    expect_bad(HEADER "1 3:1 2:1\n1 1:1\n", 9, "indices not increasing");
    expect_bad(HEADER "1 2:1 2:1\n1 1:1\n", 9, "indices not increasing");
    expect_bad(HEADER "1 1:1\n1 5:1 9:1 4:1\n", 10, "indices not increasing");
    /* malformed pairs */
    expect_bad(HEADER "1 1 0.5\n1 1:1\n", 9, "bad index");
    expect_bad(HEADER "1 1:\n1 1:1\n", 9, "bad value");
    expect_bad(HEADER "1 :0.5\n1 1:1\n", 9, "bad index");
    expect_bad(HEADER "1 1:0.5x\n1 1:1\n", 9, "bad value");
    expect_bad(HEADER "1 1:0.52:0.3\n1 1:1\n", 9, "bad value");
    expect_bad(HEADER "1 1:0.5\t2:0.3\n1 1:1\n", 9, "bad value");
    expect_bad(HEADER "1 1:0.5\r\n1 1:1\n", 9, "bad value");
    /* non-finite numbers */
    expect_bad(HEADER "1 1:nan\n1 1:1\n", 9, "bad value");
    expect_bad(HEADER "1 1:-nan\n1 1:1\n", 9, "bad value");
    expect_bad(HEADER "1 1:inf\n1 1:1\n", 9, "bad value");
    expect_bad(HEADER "1 1:-Infinity\n1 1:1\n", 9, "bad value");
    expect_bad(HEADER "1 1:1e400\n1 1:1\n", 9, "bad value");
    expect_bad(HEADER "nan 1:1\n1 1:1\n", 9, "bad coefficient");
    expect_bad(HEADER "inf 1:1\n1 1:1\n", 9, "bad coefficient");
    expect_bad(HEADER "1e999 1:1\n1 1:1\n", 9, "bad coefficient");
    expect_bad(HEADER "x 1:1\n1 1:1\n", 9, "bad coefficient");
    /* number of support vectors */
    expect_bad(HEADER "1 1:1\n", -1, "file ends after 1 of 2 support vectors");
    expect_bad(HEADER, -1, "file ends after 0 of 2 support vectors");
    expect_bad(HEADER "1 1:1\n\n1 1:1\n", 10, "bad coefficient"); /* a blank line is no SV */
    expect_bad(GOOD "1 1:1\n", 11, "more support vectors than total_sv 2");
    expect_bad(GOOD "\n\n0.5 2:1\n", 13, "more support vectors than total_sv 2");
}

/* A long, valid file (many support vectors, many pairs) passes. */
static void test_large_valid(void **state)
{
    (void)state;
    size_t cap = 1 << 20, n = 0;
    char *s = malloc(cap);
    assert_non_null(s);
    n += (size_t)snprintf(s + n, cap - n,
                          "svm_type c_svc\nkernel_type linear\nnr_class 2\ntotal_sv 1000\n"
                          "rho 0.125\nlabel -1 1\nnr_sv 400 600\nSV\n");
    for (int i = 0; i < 1000; i++) {
        n += (size_t)snprintf(s + n, cap - n, "%.17g", (i % 2 ? -1.0 : 1.0) / (i + 1));
        for (int k = 1 + i % 3; k <= DIM; k += 3)
            n += (size_t)snprintf(s + n, cap - n, " %d:%.8g", k, k * 0.001);
        n += (size_t)snprintf(s + n, cap - n, "\n");
    }
    struct nc_svmfile_info info;
    char err[256];
    assert_int_equal(nc_svmfile_check(s, n, DIM, &info, err, sizeof(err)), 0);
    assert_int_equal(info.total_sv, 1000);
    assert_int_equal(info.nr_sv[0], 400);
    free(s);
}

/* The error text is cut to errlen, never overflowing. */
static void test_short_err_buffer(void **state)
{
    (void)state;
    struct nc_svmfile_info info;
    char err[8];
    memset(err, 'x', sizeof(err));
    assert_int_equal(check("kernel_type rbf\n", &info, err, sizeof(err)), -1);
    assert_int_equal(strlen(err), sizeof(err) - 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_valid),       cmocka_unit_test(test_header_errors),
        cmocka_unit_test(test_nul_byte),    cmocka_unit_test(test_support_vector_errors),
        cmocka_unit_test(test_large_valid), cmocka_unit_test(test_short_err_buffer),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
