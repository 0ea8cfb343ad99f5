#ifndef OSMODA_CSHIM_H
#define OSMODA_CSHIM_H
#include <sys/types.h>

/* The peer of a connected Unix socket, from getsockopt(SO_PEERCRED).
   Returns 0, or -1 with errno set. struct ucred needs _GNU_SOURCE, which Swift's
   Glibc module does not define. */
int osmoda_peer_credentials(int fd, pid_t *pid, uid_t *uid, gid_t *gid);

/* accept4(2) with SOCK_CLOEXEC | SOCK_NONBLOCK as asked; -1 with errno on error. */
int osmoda_accept4(int fd, int cloexec, int nonblock);

/* The peer's supplementary groups, from getsockopt(SO_PEERGROUPS) (Linux 4.13+).
   Writes at most `capacity` gids and returns how many the peer has (which may be more
   than `capacity`: call again with a larger buffer); -1 with errno on error. */
int osmoda_peer_groups(int fd, gid_t *groups, int capacity);

/* pipe2(2) with O_CLOEXEC, and O_NONBLOCK on both ends when asked. 0, or -1 with errno. */
int osmoda_pipe(int fds[2], int nonblock);

/* Makes SIGTERM and SIGINT write the signal's number (one byte) to `fd`, a non-blocking
   pipe end, from an async-signal-safe handler. Up to 16 descriptors may watch at once;
   the handler is installed with the first and the previous dispositions are restored
   when the last one stops watching. 0, or -1 with errno (EMFILE when the table is full). */
int osmoda_stop_signals_watch(int fd);
void osmoda_stop_signals_unwatch(int fd);

/* Starts `path` (argv, envp as for execve) as a daemon: fork, setsid, fork again, so
   the program is in a session of its own, is not the caller's child (it is never
   reaped by nor killed with the caller), has /dev/null for stdio, "/" as its working
   directory, an empty signal mask, default signal dispositions and no descriptors but
   0-2. Waits for the intermediate process. Returns 0 and the daemon's pid in *pid, or
   an errno value (from fork, setsid or execve: ENOENT, EACCES, ...). */
int osmoda_spawn_detached(const char *path, char *const argv[], char *const envp[], pid_t *pid);
/* prctl(PR_SET_DUMPABLE): 0 makes the process produce no core dump (whatever
   core_pattern pipes to, and whatever RLIMIT_CORE a pipe handler ignores) and keeps
   processes of the same uid without CAP_SYS_PTRACE from attaching or reading its
   memory through /proc. 0, or -1 with errno. (prctl is variadic: Swift cannot call it.) */
int osmoda_set_dumpable(int on);
#endif
