// backend-behaviour, run again with the addon's last tier: glibc's posix_spawn and pidfd_open (where the
// kernel or a seccomp filter refuses clone with a pidfd). See native/whippet_clone.c.
process.env.WHIPPET_CLONE = 'off';
await import('../backend-behaviour.test.js');
