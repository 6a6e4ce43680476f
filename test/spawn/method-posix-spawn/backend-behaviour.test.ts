// backend-behaviour, run again with the native backend's last method: glibc's posix_spawn and pidfd_open (where
// the kernel or a seccomp filter refuses clone with a pidfd). See native/whippet_clone.c.
process.env.WHIPPET_SPAWN_METHOD = 'posix_spawn';
await import('../backend-behaviour.test.js');
