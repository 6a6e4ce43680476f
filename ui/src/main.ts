// The whippet dashboard: one page, hash routes, Preact + htm views. Everything reaches the DOM as text
// through Preact (no HTML strings), scripts and styles come only from the router (strict CSP).

import { render } from 'preact';
import { html } from 'htm/preact';
import { useEffect, useState } from 'preact/hooks';
import { CallPage } from './call.js';
import { CallsPage } from './calls.js';
import { FunctionsPage } from './functions.js';
import { LogsPage } from './logs.js';
import { QueuePage } from './queue.js';

type Route =
  | { page: 'functions'; name: string | null }
  | { page: 'calls'; fn: string; status: string }
  | { page: 'call'; id: string }
  | { page: 'queue' }
  | { page: 'logs'; fn: string };

/** `#/calls/abc` → the route; anything unknown → functions. */
export function parseRoute(hash: string): Route {
  const [path = '', query = ''] = hash.replace(/^#/, '').split('?', 2);
  const parts = path.split('/').filter((p) => p !== '').map((p) => { try { return decodeURIComponent(p); } catch { return p; } });
  const params = new URLSearchParams(query);
  switch (parts[0]) {
    case 'calls': return parts[1] === undefined ? { page: 'calls', fn: params.get('function') ?? '', status: params.get('status') ?? '' } : { page: 'call', id: parts[1] };
    case 'queue': return { page: 'queue' };
    case 'logs': return { page: 'logs', fn: parts[1] ?? '' };
    default: return { page: 'functions', name: parts[1] ?? null };
  }
}

const NAV: [Route['page'], string, string][] = [['functions', '#/functions', 'Functions'], ['calls', '#/calls', 'Async calls'], ['queue', '#/queue', 'Queue'], ['logs', '#/logs', 'Logs']];

function App() {
  // Only `#/…` hashes are routes: `#main` (the skip link) must not change the page.
  const [hash, setHash] = useState(location.hash.startsWith('#/') ? location.hash : '#/functions');
  useEffect(() => {
    const on = (): void => { if (location.hash.startsWith('#/')) setHash(location.hash); };
    addEventListener('hashchange', on);
    return () => removeEventListener('hashchange', on);
  }, []);
  const route = parseRoute(hash);
  const active = route.page === 'call' ? 'calls' : route.page;
  useEffect(() => { document.title = `whippet · ${NAV.find(([p]) => p === active)?.[2] ?? ''}`; }, [active]);
  return html`
    <header class="top">
      <a class="brand" href="#/functions">whippet</a>
      <nav aria-label="Dashboard"><ul>${NAV.map(([page, href, label]) => html`
        <li key=${page}><a href=${href} aria-current=${page === active ? 'page' : undefined}>${label}</a></li>`)}
      </ul></nav>
    </header>
    <main id="main" tabindex="-1">${page(route)}</main>
  `;
}

function page(route: Route) {
  switch (route.page) {
    case 'functions': return html`<${FunctionsPage} selected=${route.name} />`;
    case 'calls': return html`<${CallsPage} key=${`${route.fn}|${route.status}`} fn=${route.fn} status=${route.status} />`;
    case 'call': return html`<${CallPage} key=${route.id} id=${route.id} />`;
    case 'queue': return html`<${QueuePage} />`;
    case 'logs': return html`<${LogsPage} key=${route.fn} fn=${route.fn} />`;
  }
}

const root = document.getElementById('app')!;
root.textContent = ''; // the "Loading…" placeholder
render(html`<${App} />`, root);
