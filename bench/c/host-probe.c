/*
 * What this machine charges for the kernel work a spawn is made of, so benchmark runs on different hosts can be
 * compared: a trivial syscall, a page fault on fresh anonymous memory (4 KiB pages, no huge pages), and CPUID
 * (x86; under a hypervisor it traps, and glibc runs it at every program start). Prints one JSON line, in µs.
 *
 *   cc -O2 -o host-probe host-probe.c && ./host-probe
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>
#if defined(__x86_64__) || defined(__i386__)
#include <cpuid.h>
#endif

static double now_us(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return t.tv_sec * 1e6 + t.tv_nsec / 1e3;
}

static double syscall_us(void) {
  const int n = 200000;
  double t = now_us();
  for (int i = 0; i < n; i++) syscall(SYS_getppid);
  return (now_us() - t) / n;
}

static double page_fault_us(void) {
  const size_t size = 16u << 20, page = 4096;
  long faults = 0;
  double t = now_us();
  for (int round = 0; round < 8; round++) {
    volatile char *p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED) return -1;
    madvise((void *)p, size, MADV_NOHUGEPAGE);
    for (size_t i = 0; i < size; i += page, faults++) p[i] = 1;
    munmap((void *)p, size);
  }
  return (now_us() - t) / faults;
}

static double cpuid_us(void) {
#if defined(__x86_64__) || defined(__i386__)
  const int n = 5000;
  unsigned a, b, c, d;
  double t = now_us();
  for (int i = 0; i < n; i++) __cpuid_count(4, 0, a, b, c, d);
  return (now_us() - t) / n;
#else
  return -1;
#endif
}

int main(void) {
  printf("{\"syscallUs\":%.3f,\"pageFaultUs\":%.3f,\"cpuidUs\":%.3f}\n", syscall_us(), page_fault_us(), cpuid_us());
  return 0;
}
