// backend-behaviour, run again with the native backend capped at clone(2) (what Docker's default seccomp profile
// leaves when it refuses clone3): the child resets every signal itself. See native/whippet_clone.c.
process.env.WHIPPET_SPAWN_METHOD = 'clone';
await import('../backend-behaviour.test.js');
