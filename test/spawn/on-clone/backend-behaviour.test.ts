// backend-behaviour, run again with the addon's clone(2) tier (what Docker's default seccomp profile leaves when
// it refuses clone3): the child resets every signal itself. See native/whippet_clone.c.
process.env.WHIPPET_CLONE = 'clone';
await import('../backend-behaviour.test.js');
