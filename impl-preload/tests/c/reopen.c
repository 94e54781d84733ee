/* freopen on the directory given as argv[1]: standard input and output,
   another stream, and a change of mode; output goes to argv[1]/out. */
#define _GNU_SOURCE
#include <stdio.h>
#include <string.h>
#include <unistd.h>

int main(int argc, char **argv) {
    char in[4096], a[4096], b[4096], out[4096], line[256];
    (void)argc;
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
    fputs("second\n", g);
    g = freopen(NULL, "r", g);
    printf("reopened %d:", g != NULL);
    while (g && fgets(line, sizeof line, g)) printf(" %s", line);
    if (g) fclose(g);
    f = fopen(a, "r");
    printf("a: %s", f && fgets(line, sizeof line, f) ? line : "?\n");
    if (f) fclose(f);
    fflush(stdout);

    f = freopen(out, "w", stdout);
    printf("to out %d same=%d fileno=%d\n", f != NULL, f == stdout, fileno(stdout));
    fprintf(stderr, "stderr still here\n");
    return 0;
}
