/* The C library's fts on the tree argv[1]/T (prepared by the test):
   prints each entry as fts_read returns it. */
#define _GNU_SOURCE
#include <errno.h>
#include <fts.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

static size_t prefix;

static const char *kind(int info) {
    static const char *names[] = {"?", "D", "DC", "DEFAULT", "DNR", "DOT", "DP", "ERR",
                                  "F", "INIT", "NS", "NSOK", "SL", "SLNONE", "W"};
    return info >= 0 && info <= 14 ? names[info] : "?";
}

static int by_name(const FTSENT **a, const FTSENT **b) {
    return strcmp((*a)->fts_name, (*b)->fts_name);
}

static const char *rel(const char *path) {
    return strlen(path) >= prefix ? path + prefix : path;
}

/* Whether the access path reaches the entry from the current directory. */
static int reaches(const FTSENT *p) {
    struct stat a, b;
    return lstat(p->fts_accpath, &a) == 0 && lstat(p->fts_path, &b) == 0 && a.st_ino == b.st_ino;
}

static void show(const FTSENT *p) {
    printf("  %s %s level=%d name=%s len=%d", kind(p->fts_info), rel(p->fts_path), p->fts_level,
           p->fts_name, (int)p->fts_pathlen - (int)prefix);
    if (p->fts_info != FTS_NS) printf(" acc=%d", reaches(p));
    if (p->fts_info == FTS_F) printf(" size=%ld", (long)p->fts_statp->st_size);
    if (p->fts_info == FTS_NS || p->fts_info == FTS_DNR) printf(" %s", strerror(p->fts_errno));
    if (p->fts_info == FTS_DC) printf(" cycle=%d", p->fts_cycle->fts_level);
    printf("\n");
}

static void walk(const char *title, char **roots, int options, int sorted, int instructions) {
    int roots_only = !sorted;
    printf("%s\n", title);
    FTS *sp = fts_open(roots, options, sorted ? by_name : NULL);
    if (!sp) { printf("  open failed: %s\n", strerror(errno)); return; }
    FTSENT *p;
    int again = 0;
    while ((p = fts_read(sp)) != NULL) {
        if (!roots_only || p->fts_level == 0) show(p);
        if (!instructions) continue;
        if (p->fts_info == FTS_D && strcmp(p->fts_name, "skip") == 0)
            fts_set(sp, p, FTS_SKIP);
        if (p->fts_info == FTS_F && strcmp(p->fts_name, "f") == 0 && !again++)
            fts_set(sp, p, FTS_AGAIN);
        if (p->fts_info == FTS_SL && strcmp(p->fts_name, "la") == 0)
            fts_set(sp, p, FTS_FOLLOW);
        if (p->fts_info == FTS_D && p->fts_level == 0) {
            FTSENT *c = fts_children(sp, 0);
            printf("  children:");
            for (; c; c = c->fts_link) printf(" %s/%s", c->fts_name, kind(c->fts_info));
            printf("\n");
        }
        if (p->fts_info == FTS_D && strcmp(p->fts_name, "a") == 0) {
            FTSENT *c = fts_children(sp, FTS_NAMEONLY);
            printf("  names:");
            for (; c; c = c->fts_link) printf(" %s/%s", c->fts_name, kind(c->fts_info));
            printf("\n");
        }
    }
    printf("  end errno=%d\n", errno);
    printf("  close %d\n", fts_close(sp));
}

int main(int argc, char **argv) {
    char t[4096], a[4096], c[4096], none[4096], la[4096], slash[4096];
    (void)argc;
    prefix = strlen(argv[1]);
    snprintf(t, sizeof t, "%s/T", argv[1]);
    snprintf(a, sizeof a, "%s/T/a", argv[1]);
    snprintf(c, sizeof c, "%s/T/c", argv[1]);
    snprintf(none, sizeof none, "%s/T/none", argv[1]);
    snprintf(la, sizeof la, "%s/T/la", argv[1]);
    snprintf(slash, sizeof slash, "%s/T/", argv[1]);
    char *tree[] = {t, NULL};
    char *several[] = {c, none, a, NULL};
    char *link[] = {la, NULL};
    char *trailing[] = {slash, NULL};

    walk("physical", tree, FTS_PHYSICAL, 1, 0);
    walk("logical", tree, FTS_LOGICAL, 1, 0);
    walk("nostat", tree, FTS_PHYSICAL | FTS_NOSTAT, 1, 0);
    walk("seedot", tree, FTS_PHYSICAL | FTS_SEEDOT | FTS_NOCHDIR, 1, 0);
    walk("xdev", tree, FTS_PHYSICAL | FTS_XDEV, 1, 0);
    walk("instructions", tree, FTS_PHYSICAL, 1, 1);
    walk("roots", several, FTS_PHYSICAL, 1, 0);
    walk("roots unsorted", several, FTS_PHYSICAL, 0, 0);
    walk("link", link, FTS_PHYSICAL, 1, 0);
    walk("comfollow", link, FTS_PHYSICAL | FTS_COMFOLLOW, 1, 0);
    walk("trailing slash", trailing, FTS_PHYSICAL, 1, 0);
    walk("no mode", tree, 0, 1, 0);
    walk("bad options", tree, 0x1000, 1, 0);
    return 0;
}
