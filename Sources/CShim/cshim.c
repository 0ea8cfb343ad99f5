#define _GNU_SOURCE
#include <sys/socket.h>
#include <errno.h>
#include <stddef.h>
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
