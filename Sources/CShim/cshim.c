#define _GNU_SOURCE
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stddef.h>
#include <string.h>
#include <unistd.h>
#include "cshim.h"

int osmoda_peer_credentials(int fd, pid_t *pid, uid_t *uid, gid_t *gid) {
    struct ucred cred;
    socklen_t len = sizeof cred;
    if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) != 0) return -1;
    if (len != sizeof cred) { errno = EPROTO; return -1; }
    *pid = cred.pid;
    *uid = cred.uid;
    *gid = cred.gid;
    return 0;
}

int osmoda_accept4(int fd, int cloexec, int nonblock) {
    int flags = (cloexec ? SOCK_CLOEXEC : 0) | (nonblock ? SOCK_NONBLOCK : 0);
    int c;
    do { c = accept4(fd, NULL, NULL, flags); } while (c < 0 && errno == EINTR);
    return c;
}

int osmoda_peer_groups(int fd, gid_t *groups, int capacity) {
#ifdef SO_PEERGROUPS
    socklen_t len = (socklen_t)(capacity > 0 ? capacity : 0) * (socklen_t)sizeof(gid_t);
    if (getsockopt(fd, SOL_SOCKET, SO_PEERGROUPS, groups, &len) == 0) return (int)(len / sizeof(gid_t));
    if (errno == ERANGE) return (int)(len / sizeof(gid_t));
    return -1;
#else
    (void)fd; (void)groups; (void)capacity;
    errno = ENOPROTOOPT;
    return -1;
#endif
}

int osmoda_pipe(int fds[2], int nonblock) {
    return pipe2(fds, O_CLOEXEC | (nonblock ? O_NONBLOCK : 0));
}

/* The watching descriptors, stored as fd + 1 so that the zero-initialised table is empty.
   The handler only reads the table; the mutex orders the writers. */
#define OSMODA_WATCH_SLOTS 16
static volatile sig_atomic_t osmoda_watch_fds[OSMODA_WATCH_SLOTS];
static pthread_mutex_t osmoda_watch_lock = PTHREAD_MUTEX_INITIALIZER;
static int osmoda_watch_count = 0;
static struct sigaction osmoda_old_term, osmoda_old_int, osmoda_old_hup;

static void osmoda_on_stop_signal(int sig) {
    int saved = errno;
    unsigned char b = (unsigned char)sig;
    for (int i = 0; i < OSMODA_WATCH_SLOTS; i++) {
        int fd = (int)osmoda_watch_fds[i] - 1;
        if (fd >= 0) { ssize_t n = write(fd, &b, 1); (void)n; }
    }
    errno = saved;
}

int osmoda_stop_signals_watch(int fd) {
    pthread_mutex_lock(&osmoda_watch_lock);
    int slot = -1;
    for (int i = 0; i < OSMODA_WATCH_SLOTS; i++) if (osmoda_watch_fds[i] == 0) { slot = i; break; }
    if (slot < 0) { pthread_mutex_unlock(&osmoda_watch_lock); errno = EMFILE; return -1; }
    osmoda_watch_fds[slot] = fd + 1;
    if (osmoda_watch_count++ == 0) {
        struct sigaction sa;
        memset(&sa, 0, sizeof sa);
        sa.sa_handler = osmoda_on_stop_signal;
        sigemptyset(&sa.sa_mask);
        sa.sa_flags = SA_RESTART;
        sigaction(SIGTERM, &sa, &osmoda_old_term);
        sigaction(SIGINT, &sa, &osmoda_old_int);
        sigaction(SIGHUP, &sa, &osmoda_old_hup);
    }
    pthread_mutex_unlock(&osmoda_watch_lock);
    return 0;
}

void osmoda_stop_signals_unwatch(int fd) {
    pthread_mutex_lock(&osmoda_watch_lock);
    for (int i = 0; i < OSMODA_WATCH_SLOTS; i++) {
        if (osmoda_watch_fds[i] == fd + 1) {
            osmoda_watch_fds[i] = 0;
            if (--osmoda_watch_count == 0) {
                sigaction(SIGTERM, &osmoda_old_term, NULL);
                sigaction(SIGINT, &osmoda_old_int, NULL);
                sigaction(SIGHUP, &osmoda_old_hup, NULL);
            }
            break;
        }
    }
    pthread_mutex_unlock(&osmoda_watch_lock);
}

/* One message from the forked processes to the caller: a tag ('P' for the daemon's pid,
   'E' for an errno) and a value. Five bytes, so each write is atomic. */
static void osmoda_report(int fd, char tag, int value) {
    unsigned char m[5];
    m[0] = (unsigned char)tag;
    memcpy(m + 1, &value, 4);
    ssize_t n = write(fd, m, sizeof m);
    (void)n;
}

int osmoda_spawn_detached(const char *path, char *const argv[], char *const envp[], pid_t *pid) {
    int p[2];
    if (pipe2(p, O_CLOEXEC) != 0) return errno;
    sigset_t all, old;
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &old);
    pid_t mid = fork();
    if (mid < 0) {
        int e = errno;
        pthread_sigmask(SIG_SETMASK, &old, NULL);
        close(p[0]);
        close(p[1]);
        return e;
    }
    if (mid == 0) {
        /* The intermediate: only async-signal-safe calls from here on. */
        close(p[0]);
        if (setsid() < 0) { osmoda_report(p[1], 'E', errno); _exit(1); }
        pid_t d = fork();
        if (d < 0) { osmoda_report(p[1], 'E', errno); _exit(1); }
        if (d == 0) {
            int null = open("/dev/null", O_RDWR);
            if (null >= 0) {
                dup2(null, 0);
                dup2(null, 1);
                dup2(null, 2);
                if (null > 2) close(null);
            }
            if (chdir("/") != 0) { osmoda_report(p[1], 'E', errno); _exit(127); }
            /* Descriptors the caller leaked without close-on-exec must not reach the daemon
               (a test harness's output pipe would never see end of file). */
            if (syscall(SYS_close_range, 3U, ~0U, 4U /* CLOSE_RANGE_CLOEXEC */) != 0) {
                for (int fd = 3; fd < 65536; fd++) if (fd != p[1]) close(fd);
            }
            struct sigaction dfl;
            memset(&dfl, 0, sizeof dfl);
            dfl.sa_handler = SIG_DFL;
            sigemptyset(&dfl.sa_mask);
            for (int s = 1; s < NSIG; s++) if (s != SIGKILL && s != SIGSTOP) sigaction(s, &dfl, NULL);
            sigset_t none;
            sigemptyset(&none);
            sigprocmask(SIG_SETMASK, &none, NULL);
            execve(path, argv, envp);
            osmoda_report(p[1], 'E', errno);
            _exit(127);
        }
        osmoda_report(p[1], 'P', (int)d);
        _exit(0);
    }
    close(p[1]);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    int status;
    while (waitpid(mid, &status, 0) < 0 && errno == EINTR) {}
    int err = 0;
    pid_t daemon = -1;
    unsigned char m[5];
    size_t have = 0;
    for (;;) {
        ssize_t n = read(p[0], m + have, sizeof m - have);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) break;
        have += (size_t)n;
        if (have == sizeof m) {
            int v;
            memcpy(&v, m + 1, 4);
            if (m[0] == 'P') daemon = (pid_t)v; else if (err == 0) err = v;
            have = 0;
        }
    }
    close(p[0]);
    if (err == 0 && daemon < 0) err = ECHILD;
    if (err == 0) *pid = daemon;
    return err;
}

int osmoda_set_dumpable(int on) {
    return prctl(PR_SET_DUMPABLE, on ? 1 : 0, 0, 0, 0);
}
