/* Eight threads share two remote descriptors of one file and pwrite then
   pread their own interleaved blocks; every byte must come back. */
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#define THREADS 8
#define BLOCKS 64
#define BLOCK 4099

static int fds[2];

static unsigned char pattern(int thread, int block, int i) {
    return (unsigned char)(thread * 31 + block * 7 + i);
}

static void *work(void *arg) {
    int t = (int)(long)arg;
    unsigned char buf[BLOCK], got[BLOCK];
    for (int round = 0; round < 3; round++) {
        for (int b = 0; b < BLOCKS; b++) {
            off_t at = ((off_t)b * THREADS + t) * BLOCK;
            for (int i = 0; i < BLOCK; i++) buf[i] = pattern(t, b, i + round);
            if (pwrite(fds[b % 2], buf, BLOCK, at) != BLOCK) return (void *)1;
        }
        for (int b = 0; b < BLOCKS; b++) {
            off_t at = ((off_t)b * THREADS + t) * BLOCK;
            if (pread(fds[(b + 1) % 2], got, BLOCK, at) != BLOCK) return (void *)2;
            for (int i = 0; i < BLOCK; i++)
                if (got[i] != pattern(t, b, i + round)) return (void *)3;
        }
    }
    return NULL;
}

int main(int argc, char **argv) {
    if (argc != 2) return 2;
    fds[0] = open(argv[1], O_RDWR | O_CREAT | O_TRUNC, 0644);
    fds[1] = open(argv[1], O_RDWR);
    if (fds[0] < 0 || fds[1] < 0) { perror("open"); return 1; }
    pthread_t th[THREADS];
    for (long t = 0; t < THREADS; t++) pthread_create(&th[t], NULL, work, (void *)t);
    int bad = 0;
    for (int t = 0; t < THREADS; t++) {
        void *r;
        pthread_join(th[t], &r);
        if (r) { fprintf(stderr, "thread %d failed (%ld)\n", t, (long)r); bad = 1; }
    }
    printf("%s %ld\n", bad ? "bad" : "ok", (long)lseek(fds[0], 0, SEEK_END));
    return bad;
}
