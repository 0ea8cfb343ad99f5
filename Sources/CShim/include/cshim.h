#ifndef OSMODA_CSHIM_H
#define OSMODA_CSHIM_H
#include <sys/types.h>

/* The peer of a connected Unix socket, from getsockopt(SO_PEERCRED).
   Returns 0, or -1 with errno set. struct ucred needs _GNU_SOURCE, which Swift's
   Glibc module does not define. */
int osmoda_peer_credentials(int fd, pid_t *pid, uid_t *uid, gid_t *gid);

/* accept4(2) with SOCK_CLOEXEC | SOCK_NONBLOCK as asked; -1 with errno on error. */
int osmoda_accept4(int fd, int cloexec, int nonblock);
#endif
