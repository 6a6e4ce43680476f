// Times as text, made from a Date's UTC fields by hand. V8's own Date formatting (toISOString, toUTCString,
// and Node's Date header, which reads getMilliseconds()) first loads ICU's time zone data: ~150 pages of
// the node binary, ~0.6 MB of every idle process's RSS (docs/performance.md), for text that needs no zone.

const DAYS = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'] as const;
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'] as const;

const two = (n: number): string => (n < 10 ? `0${n}` : String(n));
const three = (n: number): string => (n < 10 ? `00${n}` : n < 100 ? `0${n}` : String(n));

/** The same text as `date.toISOString()` (`2026-12-06T01:14:10.073Z`); an invalid date throws as it does. */
export function isoTime(date: Date): string {
  const year = date.getUTCFullYear();
  // Years outside 0000-9999 are written with a sign and six digits: rare enough to leave to V8.
  if (!(year >= 0 && year <= 9999)) return date.toISOString();
  return `${String(year).padStart(4, '0')}-${two(date.getUTCMonth() + 1)}-${two(date.getUTCDate())}T${two(date.getUTCHours())}:${two(date.getUTCMinutes())}:${two(date.getUTCSeconds())}.${three(date.getUTCMilliseconds())}Z`;
}

/** The HTTP date of `ms` (IMF-fixdate, RFC 9110 section 5.6.7): `Sun, 06 Dec 2026 01:14:10 GMT`, as toUTCString writes it. */
export function httpDateOf(ms: number): string {
  const d = new Date(ms);
  const year = d.getUTCFullYear();
  if (!(year >= 0 && year <= 9999)) return d.toUTCString();
  return `${DAYS[d.getUTCDay()]!}, ${two(d.getUTCDate())} ${MONTHS[d.getUTCMonth()]!} ${String(year).padStart(4, '0')} ${two(d.getUTCHours())}:${two(d.getUTCMinutes())}:${two(d.getUTCSeconds())} GMT`;
}

let cachedSecond = Number.NaN;
let cachedText = '';

/** The Date header's value now; made once per second, as Node makes its own. */
export function httpDate(): string {
  const second = Math.floor(Date.now() / 1000);
  if (second !== cachedSecond) {
    cachedSecond = second;
    cachedText = httpDateOf(second * 1000);
  }
  return cachedText;
}
