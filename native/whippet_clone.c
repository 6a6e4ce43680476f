// clone_exec: what posix_spawn does (a child sharing our memory, the parent thread suspended until it has
// exec'd), without what it costs glibc on every spawn. glibc's posix_spawn maps a fresh stack for each child
// and unmaps it afterwards -- in a multi-threaded process that munmap is a TLB shootdown on every other core
// (2.7% of all CPU at ~2,000 spawns/s here) -- and its child sets all 64 signal dispositions one syscall each.
// Here the child runs on a buffer of the calling thread's stack, the kernel hands back a pidfd (CLONE_PIDFD:
// no pidfd_open), and on x86_64 clone3 with CLONE_CLEAR_SIGHAND resets the handlers in the kernel.
//
// Methods, best first, each used when the caller's cap allows it and the kernel (and a seccomp filter: Docker's
// default profile answers ENOSYS to clone3) accepts it, learnt once per process: clone3 + CLONE_CLEAR_SIGHAND
// (x86_64, Linux 5.5+), else clone + CLONE_PIDFD (Linux 5.2+, the child resets every signal itself), else -1
// and the caller uses glibc's posix_spawn.

#include <errno.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "whippet_clone.h"

#ifndef CLONE_PIDFD
#define CLONE_PIDFD 0x00001000
#endif
#define CLEAR_SIGHAND 0x100000000ULL
#define KERNEL_SIGSET_BYTES 8
// The child's stack. With lazy binding, its first calls into libc would run the dynamic linker's resolver,
// which saves the extended register state (~11 KB with AMX) on this stack; the addon is linked with -z now,
// and the buffer leaves room anyway.
#define CHILD_STACK 32768

// The kernel's struct sigaction (rt_sigaction); glibc's differs and refuses its internal signals 32 and 33.
struct ksigaction {
  void (*handler)(int);
  unsigned long flags;
  void (*restorer)(void);
  uint64_t mask;
};

typedef struct exec_args {
  const char *path;
  char **argv, **envp;
  const char *cwd;
  int fds[3];  // become the child's 0, 1, 2 (all above 2, so dup2 always clears CLOEXEC)
  int die_with_parent;
  pid_t parent;  // our pid, for the child's check after PR_SET_PDEATHSIG
  int reset_all;  // clone: every handler is still ours; clone3: only ignored signals need resetting
  uint64_t ignored;  // bit (sig - 1) for signals the parent ignores (ignored dispositions survive exec)
  int err;  // written by the child (shared memory) when its setup or exec failed
} exec_args;

static void set_default(int sig) {
  struct ksigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.handler = SIG_DFL;
  syscall(SYS_rt_sigaction, sig, &sa, NULL, KERNEL_SIGSET_BYTES);
}

// In the child, on its own small stack, sharing the parent's memory: plain syscalls only.
static int child_main(void *p) {
  exec_args *a = p;
  for (int sig = 1; sig <= 64; sig++) {
    if (sig == SIGKILL || sig == SIGSTOP) continue;
    if (a->reset_all || (a->ignored & (1ULL << (sig - 1)))) set_default(sig);
  }
  uint64_t none = 0;
  // PDEATHSIG fires when the THREAD that made the child exits, not the process: the caller makes such children
  // on the loop (main) thread, whose end is the process's end. If we died between the clone and the prctl, the
  // signal will never come: we were already reparented, so getppid() is no longer us; end here then. (The exec
  // of a set-user-ID or file-capability program clears the setting; a function process is not one.)
  if (a->die_with_parent) {
    if (prctl(PR_SET_PDEATHSIG, SIGKILL) != 0) goto fail;
    if (getppid() != a->parent) syscall(SYS_exit_group, 127);
  }
  if (setpgid(0, 0) != 0) goto fail;
  for (int i = 0; i < 3; i++)
    if (dup2(a->fds[i], i) < 0) goto fail;
  if (a->cwd != NULL && chdir(a->cwd) != 0) goto fail;
  syscall(SYS_rt_sigprocmask, SIG_SETMASK, &none, NULL, KERNEL_SIGSET_BYTES);
  execve(a->path, a->argv, a->envp);
fail:
  a->err = errno;
  syscall(SYS_exit_group, 127);
  return 127;
}

#if defined(__x86_64__)
struct clone_args_v0 {
  uint64_t flags, pidfd, child_tid, parent_tid, exit_signal, stack, stack_size, tls;
};
// long whippet_clone3(struct clone_args_v0 *args, size_t size, int (*fn)(void *), void *arg): clone3, and in
// the child fn(arg) on the new stack, then exit. As glibc's __clone3: the syscall keeps rdx and r8.
long whippet_clone3(struct clone_args_v0 *args, size_t size, int (*fn)(void *), void *arg);
__asm__(
    ".text\n"
    ".p2align 4\n"
    ".hidden whippet_clone3\n"
    ".type whippet_clone3,@function\n"
    "whippet_clone3:\n"
    "  mov %rcx, %r8\n"
    "  mov $435, %eax\n"  // SYS_clone3
    "  syscall\n"
    "  test %rax, %rax\n"
    "  jz 1f\n"
    "  ret\n"
    "1:\n"
    "  xor %ebp, %ebp\n"
    "  and $-16, %rsp\n"
    "  mov %r8, %rdi\n"
    "  call *%rdx\n"
    "  mov %eax, %edi\n"
    "  mov $231, %eax\n"  // SYS_exit_group
    "  syscall\n"
    "  hlt\n"
    ".size whippet_clone3, .-whippet_clone3\n");
#endif

// The best method this kernel allows; only ever lowered, when a method is refused as a whole.
#if defined(__x86_64__)
static int allowed = METHOD_CLONE3;
#else
static int allowed = METHOD_CLONE;
#endif
static uint64_t ignored_signals;
static int ignored_read;  // racy but benign: every thread that looks computes the same answer

// The signals this process ignores, read once: Node ignores SIGPIPE and SIGXFSZ at start-up and nothing in the
// watchdog ignores others later; those two are reset whatever the reading says.
static uint64_t read_ignored(void) {
  uint64_t set = (1ULL << (SIGPIPE - 1)) | (1ULL << (SIGXFSZ - 1));
  for (int sig = 1; sig <= 64; sig++) {
    struct ksigaction sa;
    if (sig == SIGKILL || sig == SIGSTOP) continue;
    if (syscall(SYS_rt_sigaction, sig, NULL, &sa, KERNEL_SIGSET_BYTES) == 0 && sa.handler == SIG_IGN)
      set |= 1ULL << (sig - 1);
  }
  return set;
}

// One clone by method `t`; returns the pid, or -errno.
static long clone_once(int t, exec_args *a, int *pidfd, char *stack) {
#if defined(__x86_64__)
  if (t == METHOD_CLONE3) {
    struct clone_args_v0 ca;
    memset(&ca, 0, sizeof ca);
    ca.flags = CLONE_VM | CLONE_VFORK | CLONE_PIDFD | CLEAR_SIGHAND;
    ca.pidfd = (uint64_t)(uintptr_t)pidfd;
    ca.exit_signal = SIGCHLD;
    ca.stack = (uint64_t)(uintptr_t)stack;
    ca.stack_size = CHILD_STACK;
    a->reset_all = 0;
    return whippet_clone3(&ca, sizeof ca, child_main, a);
  }
#endif
  // clone(2): the handlers are ours until the child resets them, so no signal may reach it before that.
  uint64_t all = ~0ULL, old;
  a->reset_all = 1;
  syscall(SYS_rt_sigprocmask, SIG_SETMASK, &all, &old, KERNEL_SIGSET_BYTES);
  long pid = clone(child_main, stack + CHILD_STACK, CLONE_VM | CLONE_VFORK | CLONE_PIDFD | SIGCHLD, a, pidfd);
  long saved = pid < 0 ? -errno : pid;
  syscall(SYS_rt_sigprocmask, SIG_SETMASK, &old, NULL, KERNEL_SIGSET_BYTES);
  return saved;
}

static int weaker(int a, int b) { return a > b ? a : b; }

int clone_exec(const char *path, char **argv, char **envp, const child_setup *setup, spawn_method cap, pid_t *pid,
               int *pidfd) {
  char stack[CHILD_STACK] __attribute__((aligned(64)));
  exec_args a = {.path = path, .argv = argv, .envp = envp, .cwd = setup->cwd,
                 .fds = {setup->fds[0], setup->fds[1], setup->fds[2]},
                 .die_with_parent = setup->die_with_parent, .parent = getpid()};
  if (!__atomic_load_n(&ignored_read, __ATOMIC_ACQUIRE)) {
    ignored_signals = read_ignored();
    __atomic_store_n(&ignored_read, 1, __ATOMIC_RELEASE);
  }
  a.ignored = ignored_signals;
  int t = weaker(__atomic_load_n(&allowed, __ATOMIC_ACQUIRE), (int)cap);
  long r = -1;
  while (t != METHOD_POSIX_SPAWN) {
    *pidfd = -1;
    a.err = 0;
    r = clone_once(t, &a, pidfd, stack);
    if (r != -ENOSYS && r != -EINVAL && r != -EPERM) break;
    t++;  // refused as a whole (old kernel, seccomp): for good
    __atomic_store_n(&allowed, weaker(__atomic_load_n(&allowed, __ATOMIC_ACQUIRE), t), __ATOMIC_RELEASE);
  }
  if (t == METHOD_POSIX_SPAWN) return -1;
  if (r < 0) return (int)-r;  // EAGAIN, ENOMEM: no child
  if (a.err != 0) {  // the child could not exec: it has exited with 127; reap it
    while (waitpid((pid_t)r, NULL, 0) < 0 && errno == EINTR) {}
    close(*pidfd);
    *pidfd = -1;
    return a.err;
  }
  *pid = (pid_t)r;
  return 0;
}

spawn_method clone_method(spawn_method cap) {
  // A child that cannot exec (empty path: ENOENT) settles what this kernel allows without running anything.
  char *argv[] = {"", NULL}, *envp[] = {NULL};
  child_setup setup = {.cwd = NULL, .fds = {0, 1, 2}};
  int pidfd = -1;
  pid_t pid;
  if (cap != METHOD_POSIX_SPAWN) clone_exec("", argv, envp, &setup, cap, &pid, &pidfd);
  return (spawn_method)weaker(__atomic_load_n(&allowed, __ATOMIC_ACQUIRE), (int)cap);
}

const char *method_name(spawn_method method) {
  switch (method) {
    case METHOD_CLONE3: return "clone3";
    case METHOD_CLONE: return "clone";
    default: return "posix_spawn";
  }
}
