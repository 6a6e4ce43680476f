/*
 * The ceiling for fork-per-request on this machine: no HTTP, no Node, only what every such server must do per
 * request. Each of <threads> threads runs `cat` with glibc's posix_spawn (vfork semantics), writes the 33-byte
 * body to its stdin, reads its stdout to EOF and reaps it, in a loop, for <ms> milliseconds. The child gets
 * this process's environment. Prints one JSON line: spawns, errors, seconds, and the CPU of this process and of
 * the reaped children in ms.
 *
 *   cc -O2 -pthread -o cat-loop cat-loop.c && ./cat-loop 8 10000
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <pthread.h>
#include <spawn.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

static const char BODY[] = "hello world, this is a small body";
static atomic_long spawns, errors;
static double deadline;

static double now(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return t.tv_sec + t.tv_nsec / 1e9;
}

static int cat_once(void) {
  int in[2], out[2];
  if (pipe2(in, O_CLOEXEC) != 0) return -1;
  if (pipe2(out, O_CLOEXEC) != 0) { close(in[0]); close(in[1]); return -1; }
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_adddup2(&fa, in[0], 0);
  posix_spawn_file_actions_adddup2(&fa, out[1], 1);
  char *argv[] = {"cat", NULL};
  pid_t pid;
  int rc = posix_spawnp(&pid, "cat", &fa, NULL, argv, environ);
  posix_spawn_file_actions_destroy(&fa);
  close(in[0]);
  close(out[1]);
  if (rc != 0) { close(in[1]); close(out[0]); return -1; }
  ssize_t w = write(in[1], BODY, sizeof BODY - 1);
  close(in[1]);
  char buf[256];
  size_t got = 0;
  ssize_t n;
  while ((n = read(out[0], buf + got, sizeof buf - got)) > 0) got += (size_t)n;
  close(out[0]);
  int status;
  if (waitpid(pid, &status, 0) != pid) return -1;
  int ok = w == (ssize_t)(sizeof BODY - 1) && got == sizeof BODY - 1 && memcmp(buf, BODY, got) == 0 &&
           WIFEXITED(status) && WEXITSTATUS(status) == 0;
  return ok ? 0 : -1;
}

static void *worker(void *arg) {
  (void)arg;
  while (now() < deadline) {
    if (cat_once() == 0) atomic_fetch_add(&spawns, 1);
    else atomic_fetch_add(&errors, 1);
  }
  return NULL;
}

static double cpu_ms(int who) {
  struct rusage r;
  getrusage(who, &r);
  return (r.ru_utime.tv_sec + r.ru_stime.tv_sec) * 1e3 + (r.ru_utime.tv_usec + r.ru_stime.tv_usec) / 1e3;
}

int main(int argc, char **argv) {
  if (argc != 3 || atoi(argv[1]) < 1 || atoi(argv[2]) < 1) {
    fprintf(stderr, "usage: %s <threads> <milliseconds>\n", argv[0]);
    return 2;
  }
  int threads = atoi(argv[1]);
  double start = now();
  deadline = start + atoi(argv[2]) / 1e3;
  pthread_t *ts = calloc((size_t)threads, sizeof *ts);
  for (int i = 0; i < threads; i++) pthread_create(&ts[i], NULL, worker, NULL);
  for (int i = 0; i < threads; i++) pthread_join(ts[i], NULL);
  printf("{\"spawns\":%ld,\"errors\":%ld,\"seconds\":%.3f,\"selfCpuMs\":%.1f,\"childCpuMs\":%.1f}\n",
         atomic_load(&spawns), atomic_load(&errors), now() - start, cpu_ms(RUSAGE_SELF), cpu_ms(RUSAGE_CHILDREN));
  return 0;
}
