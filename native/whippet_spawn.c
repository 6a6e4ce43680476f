// whippet_spawn: one spawn as execvp would make it (see whippet_spawn.h). Children come from clone_exec
// (whippet_clone.c) and, where the kernel refuses every clone method, from glibc's posix_spawn.

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "whippet_spawn.h"

#ifndef SYS_pidfd_open
#define SYS_pidfd_open 434
#endif

static int pidfd_open_(pid_t pid) { return (int)syscall(SYS_pidfd_open, pid, 0); }

int reap_child(pid_t pid, int poll_status, int *code, int *sig) {
  siginfo_t info;
  memset(&info, 0, sizeof info);
  // Still a zombie (or running) here, so its pgid cannot have been reused: what it left in its group ends now.
  kill(-pid, SIGKILL);
  // P_PID on our own child's pid: never waits for anything libuv spawned.
  int rc;
  do rc = waitid(P_PID, (id_t)pid, &info, WEXITED | WNOHANG);
  while (rc < 0 && errno == EINTR);
  if (rc == 0 && info.si_pid == 0) {
    if (poll_status == 0) return 0;
    // The poll failed: we can no longer wait for the exit, so end it (the group got SIGKILL above) and reap.
    kill(pid, SIGKILL);
    do rc = waitid(P_PID, (id_t)pid, &info, WEXITED);
    while (rc < 0 && errno == EINTR);
  }
  *code = -1;
  *sig = 0;
  if (rc == 0 && info.si_pid != 0) {
    if (info.si_code == CLD_EXITED) *code = info.si_status;
    else *sig = info.si_status;
  }
  return 1;
}

static const char *find_path(char **envp) {
  for (char **e = envp; *e != NULL; e++)
    if (strncmp(*e, "PATH=", 5) == 0) return *e + 5;
  return "/bin:/usr/bin";  // what execvp uses when PATH is unset (confstr _CS_PATH)
}

// One spawn: the pipes and options, and posix_spawn's attributes, made only when clone_exec cannot be used.
typedef struct spawn_ctx {
  child_setup setup;  // the pipe ends that become the child's stdin, stdout, stderr; cwd
  spawn_method cap;
  int *pidfd;  // set by clone_exec; -1 after posix_spawn (the caller opens one)
  int posix_ready;
  posix_spawn_file_actions_t fa;
  posix_spawnattr_t attr;
} spawn_ctx;

static int posix_setup(spawn_ctx *s) {
  sigset_t none, all;
  int err;
  if ((err = posix_spawn_file_actions_init(&s->fa)) != 0) return err;
  if ((err = posix_spawnattr_init(&s->attr)) != 0) {
    posix_spawn_file_actions_destroy(&s->fa);
    return err;
  }
  s->posix_ready = 1;
  sigemptyset(&none);
  // Every bit, not sigfillset: glibc's sigfillset leaves out its internal signals 32/33, and its spawn child
  // then sets those to SIG_IGN, which would survive exec (child_process leaves them at SIG_DFL).
  memset(&all, 0xff, sizeof all);
  // Own process group (pgid = pid); empty signal mask; every signal back to SIG_DFL (Node ignores SIGPIPE,
  // and ignored dispositions survive exec).
  if ((err = posix_spawnattr_setflags(&s->attr, POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGMASK |
                                                    POSIX_SPAWN_SETSIGDEF)) != 0 ||
      (err = posix_spawnattr_setpgroup(&s->attr, 0)) != 0 ||
      (err = posix_spawnattr_setsigmask(&s->attr, &none)) != 0 ||
      (err = posix_spawnattr_setsigdefault(&s->attr, &all)) != 0 ||
      (err = posix_spawn_file_actions_adddup2(&s->fa, s->setup.fds[0], 0)) != 0 ||
      (err = posix_spawn_file_actions_adddup2(&s->fa, s->setup.fds[1], 1)) != 0 ||
      (err = posix_spawn_file_actions_adddup2(&s->fa, s->setup.fds[2], 2)) != 0 ||
      (s->setup.cwd != NULL && (err = posix_spawn_file_actions_addchdir_np(&s->fa, s->setup.cwd)) != 0)) {
    return err;
  }
  return 0;
}

static int exec_path(spawn_ctx *s, pid_t *pid, const char *path, char **argv, char **envp) {
  int err = clone_exec(path, argv, envp, &s->setup, s->cap, pid, s->pidfd);
  if (err != -1) return err;
  if (!s->posix_ready && (err = posix_setup(s)) != 0) return err;
  return posix_spawn(pid, path, &s->fa, &s->attr, argv, envp);
}

// Like execvp (and so child_process): a file the kernel refuses as a binary (ENOEXEC: no #! line) is run as a
// shell script, /bin/sh path argv[1]...
static int spawn_one(spawn_ctx *s, pid_t *pid, const char *path, char **argv, char **envp) {
  int err = exec_path(s, pid, path, argv, envp);
  if (err != ENOEXEC) return err;
  size_t argc = 0;
  while (argv[argc] != NULL) argc++;
  char **sh_argv = malloc((argc + 2) * sizeof(char *));
  if (sh_argv == NULL) return ENOMEM;
  sh_argv[0] = "/bin/sh";
  sh_argv[1] = (char *)path;
  for (size_t i = 1; i <= argc; i++) sh_argv[i + 1] = argv[i];  // argv[argc] is the NULL terminator
  if (argc == 0) sh_argv[2] = NULL;
  err = exec_path(s, pid, "/bin/sh", sh_argv, envp);
  free(sh_argv);
  return err;
}

// Searches the CHILD's PATH like execvp (and like child_process), not the parent's as posix_spawnp does.
static int spawn_search(spawn_ctx *s, pid_t *pid, const char *file, char **argv, char **envp) {
  if (*file == '\0') return ENOENT;
  if (strchr(file, '/') != NULL) return spawn_one(s, pid, file, argv, envp);
  const char *path = find_path(envp);
  size_t flen = strlen(file);
  int seen_eacces = 0;
  char candidate[4096];
  for (const char *dir = path;; ) {
    const char *colon = strchrnul(dir, ':');
    size_t dlen = (size_t)(colon - dir);
    if (dlen + flen + 2 <= sizeof candidate) {
      if (dlen == 0) { candidate[0] = '.'; dlen = 1; } else memcpy(candidate, dir, dlen);
      candidate[dlen] = '/';
      memcpy(candidate + dlen + 1, file, flen + 1);
      // access() saves a wasted vfork per missing PATH entry; relative entries depend on cwd, so just try them.
      int relative = candidate[0] != '/' && s->setup.cwd != NULL;
      if (relative || access(candidate, X_OK) == 0) {
        int err = spawn_one(s, pid, candidate, argv, envp);
        if (err == 0) return 0;
        if (err == EACCES) seen_eacces = 1;
        else if (err != ENOENT && err != ENOTDIR) return err;
      } else if (errno == EACCES) {
        seen_eacces = 1;
      }
    }
    if (*colon == '\0') break;
    dir = colon + 1;
  }
  return seen_eacces ? EACCES : ENOENT;
}

// Parent-side ends must not land on 0-2 (dup2(fd, fd) in the child would keep CLOEXEC); move them up.
static int above_stdio(int fd) {
  if (fd > 2) return fd;
  int moved = fcntl(fd, F_DUPFD_CLOEXEC, 3);
  int saved = errno;
  close(fd);
  errno = saved;
  return moved;
}

// stdin, stdout and (unless merged into stdout) stderr.
static int make_pipes(int fds[6], int merge_stderr) {
  for (int i = 0; i < 6; i++) fds[i] = -1;
  for (int i = 0; i < (merge_stderr ? 2 : 3); i++) {
    if (pipe2(&fds[2 * i], O_CLOEXEC) != 0) return errno;
    for (int j = 2 * i; j < 2 * i + 2; j++)
      if ((fds[j] = above_stdio(fds[j])) < 0) return errno;
  }
  return 0;
}

static void close_all(int *fds, int n) {
  for (int i = 0; i < n; i++)
    if (fds[i] >= 0) close(fds[i]);
}

// Returns 0 and sets *out_pid (and *pidfd when clone_exec made one; else -1), or an errno. fds: [in_r, in_w,
// out_r, out_w, err_r, err_w]; with merge_stderr the child's stderr is its stdout pipe too (as `2>&1`, and as
// Go's os/exec does when Stdout == Stderr), and err_r/err_w stay -1.
static int do_spawn(const spawn_request *req, int fds[6], pid_t *out_pid, int *pidfd) {
  *pidfd = -1;
  int err = make_pipes(fds, req->merge_stderr);
  if (err != 0) return err;
  spawn_ctx s = {.setup = {.cwd = req->cwd, .fds = {fds[0], fds[3], req->merge_stderr ? fds[3] : fds[5]},
                           .die_with_parent = req->die_with_parent},
                 .cap = req->cap, .pidfd = pidfd};
  err = spawn_search(&s, out_pid, req->file, req->argv, req->envp);
  if (s.posix_ready) {
    posix_spawn_file_actions_destroy(&s.fa);
    posix_spawnattr_destroy(&s.attr);
  }
  return err;
}

int spawn_with_pidfd(const spawn_request *req, int fds[6], pid_t *pid, int *pidfd) {
  int err = do_spawn(req, fds, pid, pidfd);
  close_all((int[]){fds[0], fds[3], fds[5]}, 3);  // child-side ends belong to the child now
  fds[0] = fds[3] = fds[5] = -1;
  if (err == 0 && *pidfd < 0 && (*pidfd = pidfd_open_(*pid)) < 0) {
    // We cannot watch it, so we must not leave it running unreaped.
    err = errno;
    kill(*pid, SIGKILL);
    while (waitpid(*pid, NULL, 0) < 0 && errno == EINTR) {}
  }
  if (err != 0) close_all(fds, 6);
  return err;
}

int pidfd_probe(void) {
  int fd = pidfd_open_(getpid());
  int err = fd < 0 ? errno : 0;
  if (fd >= 0) close(fd);
  return err;
}
