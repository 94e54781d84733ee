/* Calls of the C library that use its own internal calls, on the remote
   directory given as argv[1]; prints what each found. */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <glob.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static int no_dots(const struct dirent *e) { return e->d_name[0] != '.'; }

int main(int argc, char **argv) {
    char path[4096];
    const char *r = argv[1];

    struct dirent **list;
    snprintf(path, sizeof path, "%s/scan", r);
    int n = scandir(path, &list, no_dots, alphasort);
    printf("scandir %d:", n);
    for (int i = 0; i < n; i++) { printf(" %s", list[i]->d_name); free(list[i]); }
    printf("\n");
    free(list);
    n = scandir(path, &list, NULL, NULL);
    printf("scandir all %d\n", n);
    for (int i = 0; i < n; i++) free(list[i]);
    free(list);

    glob_t g;
    snprintf(path, sizeof path, "%s/scan/*.c", r);
    int rc = glob(path, 0, NULL, &g);
    printf("glob %d %zu:", rc, g.gl_pathc);
    for (size_t i = 0; i < g.gl_pathc; i++) printf(" %s", strrchr(g.gl_pathv[i], '/') + 1);
    printf("\n");
    globfree(&g);
    snprintf(path, sizeof path, "%s/scan/*", r);
    rc = glob(path, GLOB_MARK | GLOB_ONLYDIR, NULL, &g);
    printf("glob dirs %d %zu %s\n", rc, g.gl_pathc, rc == 0 ? strrchr(g.gl_pathv[0], 's') : "");
    globfree(&g);

    snprintf(path, sizeof path, "%s/tmpXXXXXX", r);
    int fd = mkstemp(path);
    struct stat st;
    int wrote = fd >= 0 && write(fd, "hi", 2) == 2;
    int got = stat(path, &st);
    printf("mkstemp %d %s\n", wrote,
           got == 0 && (st.st_mode & 0777) == 0600 && st.st_size == 2 ? "0600" : "?");
    if (got != 0 || (st.st_mode & 0777) != 0600 || st.st_size != 2)
        fprintf(stderr, "mkstemp: %s %d %o %ld\n", path, got, st.st_mode, (long)st.st_size);
    close(fd);
    unlink(path);
    snprintf(path, sizeof path, "%s/tmpXXXXXX.txt", r);
    fd = mkostemps(path, 4, O_CLOEXEC);
    printf("mkostemps %d %s\n", fd >= 0, strstr(path, ".txt") && !strstr(path, "XXXXXX") ? "named" : path);
    close(fd);
    unlink(path);
    snprintf(path, sizeof path, "%s/dirXXXXXX", r);
    char *d = mkdtemp(path);
    printf("mkdtemp %s\n", d && stat(d, &st) == 0 && S_ISDIR(st.st_mode) && (st.st_mode & 0777) == 0700 ? "0700" : "?");
    rmdir(path);
    snprintf(path, sizeof path, "%s/bad", r);
    errno = 0;
    int bad = mkstemp(path);
    printf("mkstemp bad %d %d\n", bad, errno == EINVAL);
    char out[4096];
    const char *names[] = {"ln/a.c", "abs/", "loop", "ln/a.c/x"};
    for (int i = 0; i < 4; i++) {
        snprintf(path, sizeof path, "%s/%s", r, names[i]);
        errno = 0;
        char *got = realpath(path, out);
        printf("realpath %s %s\n", names[i], got ? got + strlen(r) : strerror(errno));
    }
    return 0;
}
