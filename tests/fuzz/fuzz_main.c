/*
 * fuzz_main.c - the libFuzzer entry points of one target, chosen at compile
 * time with -DNC_FUZZ_TARGET=<article|article_diff|config|model|encode>; the
 * target's body
 * lives in harness_<target>.c, shared with the replay test (regress.c).
 */
#include <stdio.h>
#include <stdlib.h>

#include "harness.h"

#ifndef NC_FUZZ_TARGET
#error "NC_FUZZ_TARGET must be article, article_diff, config, model or encode"
#endif

#define CAT_(a, b) a##b
#define CAT(a, b) CAT_(a, b)
#define STR_(a) #a
#define STR(a) STR_(a)

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    if (CAT(CAT(fuzz_, NC_FUZZ_TARGET), _init)() != 0) {
        fprintf(stderr, "fuzz_%s: set-up failed\n", STR(NC_FUZZ_TARGET));
        exit(2);
    }
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    return CAT(fuzz_, NC_FUZZ_TARGET)(data, size);
}
