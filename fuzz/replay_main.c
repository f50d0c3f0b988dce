/* replay_main.c — runs a fuzz target's LLVMFuzzerTestOneInput on every file of the directories
 * (or files) given, without libFuzzer: how the normal and ASan builds replay the seed corpus and
 * every recorded crash as a ctest test.
 * The one idea: each input runs in a forked child, so one crash neither hides the others nor
 * stops the run; the exit status is non-zero when any input crashed, and the names of those
 * inputs are printed so a failing test says which reproducer is still open. */
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv) __attribute__((weak));

static int run_file(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        perror(path);
        return -1;
    }
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    /* an exact-size heap copy, as libFuzzer gives: ASan then sees any read past the end */
    uint8_t *buf = malloc(n > 0 ? (size_t)n : 1);
    if (!buf || (n > 0 && fread(buf, 1, (size_t)n, f) != (size_t)n)) {
        fclose(f);
        free(buf);
        fprintf(stderr, "%s: cannot read\n", path);
        return -1;
    }
    fclose(f);
    fflush(NULL);
    pid_t pid = fork();
    if (pid == 0) {
        LLVMFuzzerTestOneInput(buf, (size_t)n);
        free(buf);
        exit(0); /* not _exit: LeakSanitizer checks at exit, so a leak fails the input */
    }
    free(buf);
    int st = 0;
    if (pid < 0 || waitpid(pid, &st, 0) < 0) {
        perror("fork");
        return -1;
    }
    if (WIFEXITED(st) && WEXITSTATUS(st) == 0)
        return 0;
    if (WIFSIGNALED(st))
        fprintf(stderr, "FAIL %s: killed by signal %d\n", path, WTERMSIG(st));
    else
        fprintf(stderr, "FAIL %s: exit status %d\n", path, WEXITSTATUS(st));
    return -1;
}

static int cmp(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

int main(int argc, char **argv)
{
    if (LLVMFuzzerInitialize)
        LLVMFuzzerInitialize(&argc, &argv);
    int ran = 0, failed = 0;
    for (int i = 1; i < argc; i++) {
        struct stat st;
        if (stat(argv[i], &st) != 0)
            continue; /* an empty regressions/ directory may not exist in a checkout */
        if (!S_ISDIR(st.st_mode)) {
            ran++;
            failed += run_file(argv[i]) != 0;
            continue;
        }
        DIR *d = opendir(argv[i]);
        if (!d)
            continue;
        char **names = NULL;
        size_t nn = 0;
        struct dirent *e;
        while ((e = readdir(d))) {
            if (e->d_name[0] == '.') /* ., .., .gitkeep */
                continue;
            char **g = realloc(names, (nn + 1) * sizeof *names);
            if (!g)
                break;
            names = g;
            names[nn] = malloc(strlen(argv[i]) + strlen(e->d_name) + 2);
            if (names[nn])
                sprintf(names[nn++], "%s/%s", argv[i], e->d_name);
        }
        closedir(d);
        if (nn) /* qsort(NULL, 0, ...) is undefined behaviour */
            qsort(names, nn, sizeof *names, cmp);
        for (size_t k = 0; k < nn; k++) {
            if (stat(names[k], &st) == 0 && S_ISREG(st.st_mode)) {
                ran++;
                failed += run_file(names[k]) != 0;
            }
            free(names[k]);
        }
        free(names);
    }
    printf("replayed %d input(s), %d failed\n", ran, failed);
    return failed ? 1 : 0;
}
