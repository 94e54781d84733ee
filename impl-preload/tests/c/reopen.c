/* freopen on the directory given as argv[1]: standard input and output,
   another stream, a change of mode, and (given argv[2]) a stream reopened
   on that local file; output goes to argv[1]/out. */
#define _GNU_SOURCE
#include <stdio.h>
#include <string.h>
#include <unistd.h>

int main(int argc, char **argv) {
    char in[4096], a[4096], b[4096], out[4096], line[256];
    snprintf(in, sizeof in, "%s/in", argv[1]);
    snprintf(a, sizeof a, "%s/a", argv[1]);
    snprintf(b, sizeof b, "%s/b", argv[1]);
    snprintf(out, sizeof out, "%s/out", argv[1]);

    FILE *f = freopen(in, "r", stdin);
    printf("stdin %d same=%d fileno=%d\n", f != NULL, f == stdin, fileno(stdin));
    while (fgets(line, sizeof line, stdin)) printf("got %s", line);

    f = fopen(a, "w");
    fputs("first\n", f);
    FILE *g = freopen(b, "w+", f);
    int same = g == f;
    fputs("second\n", g);
    FILE *h = freopen(NULL, "r", g);
    same += h == g;
    g = h;
    printf("reopened %d same=%d:", g != NULL, same);
    while (g && fgets(line, sizeof line, g)) printf(" %s", line);
    if (g) fclose(g);
    f = fopen(a, "r");
    printf("a: %s", f && fgets(line, sizeof line, f) ? line : "?\n");
    if (f) fclose(f);
    if (argc > 2) {
        /* A stream of argv[1] reopened on a local file, argv[2]. */
        FILE *k = fopen(a, "r");
        FILE *l = freopen(argv[2], "w", k);
        printf("local same=%d fileno>2=%d\n", l == k, l && fileno(l) > 2);
        if (l) {
            fputs("written locally\n", l);
            fclose(l);
        }
        l = fopen(argv[2], "r");
        printf("local: %s", l && fgets(line, sizeof line, l) ? line : "?\n");
        if (l) fclose(l);
    }
    fflush(stdout);

    f = freopen(out, "w", stdout);
    printf("to out %d same=%d fileno=%d\n", f != NULL, f == stdout, fileno(stdout));
    fprintf(stderr, "stderr still here\n");
    return 0;
}
