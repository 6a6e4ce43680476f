// Talking to the router from the page: JSON reads, actions (with the header the router demands of
// state-changing dashboard requests) and event streams as a Preact hook.

import { useEffect } from 'preact/hooks';

/** Base of the dashboard API, relative to the page at /ui/. */
export const API = 'api';

/** GET a JSON document; throws with the router's own message on an error status. */
export async function getJson<T>(url: string): Promise<T> {
  const res = await fetch(url, { headers: { Accept: 'application/json' }, cache: 'no-store' });
  if (!res.ok) throw new Error(`${res.status}: ${(await res.text()).trim()}`);
  return (await res.json()) as T;
}

/** POST a dashboard action (cancel, retry). */
export async function postAction<T>(url: string): Promise<T> {
  const res = await fetch(url, { method: 'POST', headers: { 'X-Whippet-UI': '1', Accept: 'application/json' } });
  if (!res.ok) throw new Error(`${res.status}: ${(await res.text()).trim()}`);
  return (await res.json()) as T;
}

/** Listen to an event stream while the component is mounted (or until `url` changes); null = none. */
export function useEvents(url: string | null, handlers: Record<string, (data: any) => void>, onState?: (open: boolean) => void): void {
  useEffect(() => {
    if (url === null) return undefined;
    const source = new EventSource(url);
    for (const [name, fn] of Object.entries(handlers)) source.addEventListener(name, (e) => fn(JSON.parse((e as MessageEvent<string>).data)));
    source.onopen = () => onState?.(true);
    source.onerror = () => onState?.(false);
    return () => source.close();
  }, [url]);
}

/** Re-run `fn` every `ms` while mounted. */
export function useInterval(fn: () => void, ms: number, deps: unknown[] = []): void {
  useEffect(() => {
    fn();
    const timer = setInterval(fn, ms);
    return () => clearInterval(timer);
  }, deps);
}
