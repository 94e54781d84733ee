/* Several threads fork at once, over and over, while a remote descriptor
   is in use; each child reads through it and exits. Prints how many
   children failed; a child that hangs makes the test time out. */
#define _GNU_SOURCE
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

static int fd;

static void *forker(void *unused) {
    long failed = 0;
    (void)unused;
    for (int i = 0; i < 100; i++) {
        pid_t pid = fork();
        if (pid == 0) {
            char b[4];
            _exit(pread(fd, b, sizeof b, 0) == sizeof b ? 0 : 1);
        }
        int status;
        if (pid < 0 || waitpid(pid, &status, 0) != pid || !WIFEXITED(status) ||
            WEXITSTATUS(status) != 0)
            failed++;
    }
    return (void *)failed;
}

int main(int argc, char **argv) {
    char path[4096];
    pthread_t threads[4];
    long failed = 0;
    if (argc < 2) return 2;
    snprintf(path, sizeof path, "%s/forkers", argv[1]);
    fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0644);
    if (fd < 0 || write(fd, "data", 4) != 4) return 2;
    for (int i = 0; i < 4; i++) pthread_create(&threads[i], NULL, forker, NULL);
    for (int i = 0; i < 4; i++) {
        void *r;
        pthread_join(threads[i], &r);
        failed += (long)r;
    }
    printf("failed %ld\n", failed);
    return 0;
}
