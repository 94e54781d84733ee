/* Signal storm: a 0.5 ms SA_RESTART timer whose handler stats and reads a
   remote file while the main loop stats, lists, reads and writes remote
   files; every call must succeed and every byte must be right. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

static char dir[4096], probe[4200];
static volatile sig_atomic_t handled, handler_failed;

static unsigned char expect(int file, long i) { return (unsigned char)((file * 7 + i) % 251); }

static void on_alarm(int sig) {
    (void)sig;
    int saved = errno;
    struct stat st;
    if (stat(probe, &st) != 0 || st.st_size != 50000) handler_failed = 1;
    if (++handled % 8 == 0) {
        int fd = open(probe, O_RDONLY);
        unsigned char b[16];
        if (fd < 0 || pread(fd, b, 16, 100) != 16 || b[3] != expect(0, 103)) handler_failed = 2;
        if (fd >= 0) close(fd);
    }
    errno = saved;
}

static void fail(const char *what, const char *path) {
    fprintf(stderr, "storm: %s %s: %s\n", what, path, strerror(errno));
    exit(1);
}

int main(int argc, char **argv) {
    if (argc != 3) return 2;
    snprintf(dir, sizeof dir, "%s", argv[1]);
    double seconds = atof(argv[2]);
    static unsigned char buf[70000];
    char path[4200];
    for (int f = 0; f < 10; f++) {
        long n = 50000 + f * 1000;
        for (long i = 0; i < n; i++) buf[i] = expect(f, i);
        snprintf(path, sizeof path, "%s/f%d", dir, f);
        int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
        if (fd < 0 || write(fd, buf, n) != n || close(fd) != 0) fail("create", path);
    }
    snprintf(probe, sizeof probe, "%s/f0", dir);
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_alarm;
    sa.sa_flags = SA_RESTART;
    sigaction(SIGALRM, &sa, NULL);
    struct itimerval it = {{0, 500}, {0, 500}};
    setitimer(ITIMER_REAL, &it, NULL);
    struct timespec start, now;
    clock_gettime(CLOCK_MONOTONIC, &start);
    long rounds = 0;
    do {
        DIR *d = opendir(dir);
        if (!d) fail("opendir", dir);
        int entries = 0;
        struct dirent *e;
        errno = 0;
        while ((e = readdir(d))) entries += e->d_name[0] == 'f';
        if (errno) fail("readdir", dir);
        closedir(d);
        if (entries != 10) { fprintf(stderr, "storm: %d entries\n", entries); return 1; }
        for (int f = 0; f < 10; f++) {
            long n = 50000 + f * 1000;
            snprintf(path, sizeof path, "%s/f%d", dir, f);
            struct stat st;
            if (stat(path, &st) != 0) fail("stat", path);
            if (st.st_size != n) { fprintf(stderr, "storm: size %ld\n", (long)st.st_size); return 1; }
            int fd = open(path, O_RDONLY);
            if (fd < 0) fail("open", path);
            long got = 0;
            ssize_t k;
            while ((k = read(fd, buf + got, 3000)) > 0) got += k;
            if (k < 0) fail("read", path);
            close(fd);
            if (got != n) { fprintf(stderr, "storm: read %ld of %ld\n", got, n); return 1; }
            for (long i = 0; i < n; i++)
                if (buf[i] != expect(f, i)) { fprintf(stderr, "storm: byte %ld of %s\n", i, path); return 1; }
        }
        snprintf(path, sizeof path, "%s/w", dir);
        int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
        for (long i = 0; i < 60000; i++) buf[i] = expect(3, i);
        if (fd < 0 || write(fd, buf, 60000) != 60000 || close(fd) != 0) fail("write", path);
        if (unlink(path) != 0) fail("unlink", path);
        rounds++;
        clock_gettime(CLOCK_MONOTONIC, &now);
    } while (now.tv_sec - start.tv_sec + (now.tv_nsec - start.tv_nsec) / 1e9 < seconds);
    struct itimerval off = {{0, 0}, {0, 0}};
    setitimer(ITIMER_REAL, &off, NULL);
    if (handler_failed) { fprintf(stderr, "storm: handler failed (%d)\n", handler_failed); return 1; }
    printf("rounds %ld signals %d\n", rounds, (int)handled);
    return 0;
}
