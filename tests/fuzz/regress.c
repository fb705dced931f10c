/*
 * regress.c - replays fuzz inputs through the fuzz harnesses, without
 * libFuzzer, as the ctest test fuzz_regressions.
 *
 *   fuzz_regress DIR...
 *
 * Each DIR holds one subdirectory per kind of input (article, config, model,
 * encode); every regular file in them (except dot files and README*) is one
 * input. tests/fuzz/regressions/ holds the inputs that once crashed or broke
 * a check (each must pass now); tests/fuzz/corpus/ the seeds. The article
 * inputs go through both article targets (article, article_diff).
 *
 * A target's set-up (loading or training a model) runs once; each input then
 * runs in a forked child, so one failure (an abort from a broken check, a
 * sanitizer report, a leak, more than INPUT_TIMEOUT seconds or
 * MEMORY_LIMIT_MB of memory) is reported by file name and the others still
 * run.
 * Exit status 1 if any input failed.
 */
#include <dirent.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "harness.h"
#include "base/util.h"

#define INPUT_TIMEOUT 120 /* seconds */
/* An input that makes the code under test eat memory fails the test instead
 * of taking the machine down. (ASan's own RSS limit runs in a thread that a
 * forked child does not have, hence the watchdog below.) */
#define MEMORY_LIMIT_MB 1024

#if defined(__SANITIZE_ADDRESS__)
#define NC_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define NC_ASAN 1
#endif
#endif
#ifdef NC_ASAN
#include <sanitizer/lsan_interface.h>
#endif

enum { EXIT_LEAK = 70, EXIT_MEMORY, EXIT_TIMEOUT };

/* Resident set size of this process in MiB, or 0. */
static unsigned long rss_mb(void)
{
    char buf[128];
    FILE *fp = fopen("/proc/self/statm", "r");
    if (!fp)
        return 0;
    unsigned long size = 0, resident = 0;
    if (!fgets(buf, sizeof(buf), fp) || sscanf(buf, "%lu %lu", &size, &resident) != 2)
        resident = 0;
    fclose(fp);
    return resident * (unsigned long)sysconf(_SC_PAGESIZE) >> 20;
}

/* The child's watchdog: memory and time limits of one input. */
static void *watchdog(void *arg)
{
    (void)arg;
    for (unsigned long ms = 0;; ms += 20) {
        unsigned long mb = rss_mb();
        if (mb > MEMORY_LIMIT_MB) {
            fprintf(stderr, "fuzz_regress: input uses %lu MiB, limit %d MiB\n", mb,
                    MEMORY_LIMIT_MB);
            _exit(EXIT_MEMORY);
        }
        if (ms >= INPUT_TIMEOUT * 1000ul) {
            fprintf(stderr, "fuzz_regress: input runs longer than %d s\n", INPUT_TIMEOUT);
            _exit(EXIT_TIMEOUT);
        }
        struct timespec ts = {0, 20 * 1000 * 1000};
        nanosleep(&ts, NULL);
    }
    return NULL;
}

struct target {
    const char *name;
    const char *inputs; /* the subdirectory of each DIR */
    int (*init)(void);
    int (*run)(const uint8_t *, size_t);
    void (*restore)(void); /* after a failed input, if the target keeps files */
};

static const struct target targets[] = {
    {"article", "article", fuzz_article_init, fuzz_article, NULL},
    {"article_diff", "article", fuzz_article_diff_init, fuzz_article_diff, NULL},
    {"config", "config", fuzz_config_init, fuzz_config, NULL},
    {"model", "model", fuzz_model_init, fuzz_model, fuzz_model_restore},
    {"encode", "encode", fuzz_encode_init, fuzz_encode, NULL},
};

static size_t nfailed;

static int by_name(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Runs one input in a child process; 0 if it passed. */
static int run_one(const struct target *t, const char *path)
{
    char err[512];
    char *data;
    size_t len;
    if (nc_read_file(path, &data, &len, (size_t)16 << 20, err, sizeof(err)) != 0) {
        fprintf(stderr, "fuzz_regress: %s\n", err);
        return -1;
    }
    fflush(NULL);
    pid_t pid = fork();
    if (pid < 0) {
        perror("fuzz_regress: fork");
        free(data);
        return -1;
    }
    if (pid == 0) {
        pthread_t th;
        if (pthread_create(&th, NULL, watchdog, NULL) != 0)
            _exit(3);
        /* An exact-size copy, as libFuzzer passes it: no NUL after the end. */
        uint8_t *exact = malloc(len ? len : 1);
        if (!exact)
            _exit(3);
        memcpy(exact, data, len);
        free(data);
        t->run(exact, len);
        free(exact);
#ifdef NC_ASAN
        if (__lsan_do_recoverable_leak_check() != 0)
            _exit(EXIT_LEAK);
#endif
        fflush(NULL);
        _exit(0);
    }
    free(data);
    int st;
    while (waitpid(pid, &st, 0) < 0)
        ;
    if (WIFEXITED(st) && WEXITSTATUS(st) == 0)
        return 0;
    char how[64];
    if (WIFSIGNALED(st))
        snprintf(how, sizeof(how), "%s", strsignal(WTERMSIG(st)));
    else if (WEXITSTATUS(st) == EXIT_LEAK)
        snprintf(how, sizeof(how), "memory leak");
    else if (WEXITSTATUS(st) == EXIT_MEMORY)
        snprintf(how, sizeof(how), "more than %d MiB", MEMORY_LIMIT_MB);
    else if (WEXITSTATUS(st) == EXIT_TIMEOUT)
        snprintf(how, sizeof(how), "more than %d s", INPUT_TIMEOUT);
    else
        snprintf(how, sizeof(how), "exit %d", WEXITSTATUS(st));
    fprintf(stderr, "FAILED %s %s (%s)\n", t->name, path, how);
    nfailed++;
    if (t->restore)
        t->restore();
    return 1;
}

/* Replays every input of root/<target>; returns how many, or -1. */
static long replay(const struct target *t, const char *root)
{
    char dir[4096];
    snprintf(dir, sizeof(dir), "%s/%s", root, t->inputs);
    DIR *d = opendir(dir);
    if (!d)
        return 0; /* nothing for this target */
    char **names = NULL;
    size_t n = 0, cap = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.' || strncmp(e->d_name, "README", 6) == 0)
            continue;
        if (n == cap) {
            cap = cap ? cap * 2 : 64;
            char **p = realloc(names, cap * sizeof(*p));
            if (!p)
                return -1;
            names = p;
        }
        if (!(names[n++] = strdup(e->d_name)))
            return -1;
    }
    closedir(d);
    qsort(names, n, sizeof(*names), by_name);
    if (n && t->init() != 0) {
        fprintf(stderr, "fuzz_regress: %s: set-up failed\n", t->name);
        return -1;
    }
    long rc = (long)n;
    for (size_t i = 0; i < n; i++) {
        char path[4400];
        snprintf(path, sizeof(path), "%s/%s", dir, names[i]);
        if (rc >= 0 && run_one(t, path) < 0)
            rc = -1;
        free(names[i]);
    }
    free(names);
    return rc;
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: fuzz_regress DIR...\n");
        return 2;
    }
    long total = 0;
    for (int i = 1; i < argc; i++)
        for (size_t k = 0; k < sizeof(targets) / sizeof(targets[0]); k++) {
            long n = replay(&targets[k], argv[i]);
            if (n < 0)
                return 1;
            total += n;
        }
    if (nfailed) {
        fprintf(stderr, "fuzz_regress: %zu of %ld inputs failed (the FAILED lines above)\n",
                nfailed, total);
        return 1;
    }
    printf("fuzz_regress: %ld inputs replayed, all passed\n", total);
    return 0;
}
