/* The C library's tree walkers and freopen on the directory given as
   argv[1] (prepared by the test); prints what each saw, in an order-free
   form where the directory order would show. */
#define _GNU_SOURCE
#include <errno.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static size_t prefix;
static int walk_flags;
static char *seen[256];
static int nseen;

static const char *kind(int flag) {
    switch (flag) {
    case FTW_F: return "F";
    case FTW_D: return "D";
    case FTW_DNR: return "DNR";
    case FTW_NS: return "NS";
    case FTW_SL: return "SL";
    case FTW_DP: return "DP";
    case FTW_SLN: return "SLN";
    }
    return "?";
}

/* Descendants of `path` reported so far. */
static int below(const char *path) {
    size_t n = strlen(path);
    int count = 0;
    for (int i = 0; i < nseen; i++)
        if (strncmp(seen[i], path, n) == 0 && seen[i][n] == '/') count++;
    return count;
}

static int show(const char *path, const struct stat *st, int flag, struct FTW *f) {
    const char *rel = path + prefix;
    printf("%d %s %s base=%s level=%d", walk_flags, kind(flag), rel, path + f->base, f->level);
    if (flag == FTW_F) printf(" size=%ld", (long)st->st_size);
    if (flag == FTW_DP) printf(" below=%d", below(path));
    if (walk_flags & FTW_CHDIR) {
        struct stat here;
        printf(" here=%d", lstat(path + f->base, &here) == 0);
    }
    printf("\n");
    if (nseen < 256) seen[nseen++] = strdup(path);
    if (walk_flags & FTW_ACTIONRETVAL) {
        if (flag == FTW_D && strcmp(path + f->base, "skip") == 0) return FTW_SKIP_SUBTREE;
        if (f->level == 2 && strstr(rel, "/c/")) return FTW_SKIP_SIBLINGS;
    }
    return FTW_CONTINUE;
}

static int show64(const char *path, const struct stat64 *st, int flag, struct FTW *f) {
    return show(path, (const struct stat *)st, flag, f);
}

static int old_style(const char *path, const struct stat *st, int flag) {
    (void)st;
    printf("ftw %s %s\n", kind(flag), path + prefix);
    return 0;
}

static int quiet_stop(const char *path, const struct stat *st, int flag, struct FTW *f) {
    (void)st; (void)flag;
    if (strcmp(path + f->base, "f") == 0) return walk_flags & FTW_ACTIONRETVAL ? FTW_STOP : 42;
    return 0;
}

int main(int argc, char **argv) {
    char path[4096], cwd_before[4096], cwd_after[4096];
    (void)argc;
    prefix = strlen(argv[1]);
    snprintf(path, sizeof path, "%s/T", argv[1]);

    int sets[] = {0, FTW_PHYS, FTW_DEPTH, FTW_PHYS | FTW_DEPTH, FTW_MOUNT,
                  FTW_CHDIR, FTW_CHDIR | FTW_DEPTH | FTW_PHYS, FTW_ACTIONRETVAL,
                  FTW_ACTIONRETVAL | FTW_PHYS | FTW_DEPTH};
    for (size_t i = 0; i < sizeof sets / sizeof sets[0]; i++) {
        walk_flags = sets[i];
        nseen = 0;
        getcwd(cwd_before, sizeof cwd_before);
        int rc = nftw(path, show, 4, walk_flags);
        getcwd(cwd_after, sizeof cwd_after);
        printf("%d rc=%d cwd-kept=%d\n", walk_flags, rc, strcmp(cwd_before, cwd_after) == 0);
    }
    walk_flags = 0;
    printf("nftw64 rc=%d\n", nftw64(path, show64, 4, FTW_PHYS));
    printf("ftw rc=%d\n", ftw(path, old_style, 4));

    walk_flags = 0;
    printf("stop rc=%d\n", nftw(path, quiet_stop, 4, 0));
    walk_flags = FTW_ACTIONRETVAL;
    printf("stop rc=%d\n", nftw(path, quiet_stop, 4, FTW_ACTIONRETVAL));

    char one[4096];
    walk_flags = 0;
    snprintf(one, sizeof one, "%s/T/a/f", argv[1]);
    printf("file rc=%d\n", nftw(one, show, 4, 0));
    snprintf(one, sizeof one, "%s/T/dangle", argv[1]);
    printf("dangle rc=%d\n", nftw(one, show, 4, 0));
    snprintf(one, sizeof one, "%s/T/none", argv[1]);
    errno = 0;
    int rc = nftw(one, show, 4, 0);
    printf("none rc=%d %s\n", rc, strerror(errno));
    snprintf(one, sizeof one, "%s/T/", argv[1]);
    walk_flags = FTW_CHDIR;
    printf("slash rc=%d\n", nftw(one, show, 4, FTW_CHDIR | FTW_PHYS));
    return 0;
}
