// The clocks the request paths read, without the global `performance`: its first use loads `perf_hooks` and
// its timing classes (~0.3 MB resident in every process), which an idle watchdog or router would carry for
// nothing else. process.hrtime is the same monotonic clock performance.now() reads.

/** Milliseconds on a monotonic clock (fractional); only differences between two readings mean anything. */
export function monotonicMs(): number {
  return Number(process.hrtime.bigint()) / 1e6;
}

// Wall time and the monotonic clock read together once: the Unix time of a later reading is this offset on.
const wallAtStart = Date.now();
const monoAtStart = monotonicMs();

/** Unix time in nanoseconds as text (microsecond precision: a double cannot hold more at this size). */
export function unixNanos(): string {
  // Microseconds since 1970 are ~1.8e15, below 2^53: exact as a double, so no BigInt is needed.
  return `${Math.round((wallAtStart + (monotonicMs() - monoAtStart)) * 1000)}000`;
}
