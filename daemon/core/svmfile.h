/*
 * svmfile.h - strict reader for libsvm model files.
 *
 * libsvm's svm_load_model() trusts its input: counts and indices are not
 * checked, so a crafted file makes it read or write out of bounds. Every
 * model file goes through nc_svmfile_check() before libsvm sees it. Accepted
 * is exactly what our trainer writes: a two-class linear-kernel C-SVC with
 * labels +1/-1, finite numbers, nr_sv adding up to total_sv, exactly
 * total_sv support vectors with strictly increasing indices in 1..dim.
 */
#ifndef NC_SVMFILE_H
#define NC_SVMFILE_H

#include <stddef.h>
#include <stdint.h>

#define NC_SVMFILE_MAX_SV 10000000

struct nc_svmfile_info {
    int label[2];
    int nr_sv[2];
    int total_sv;
    double rho;
    size_t nonzeros;
};

/* Returns 0, or -1 with "line N: reason" in err. data must be NUL-terminated. */
int nc_svmfile_check(const char *data, size_t len, uint32_t dim, struct nc_svmfile_info *info,
                     char *err, size_t errlen);

#endif
