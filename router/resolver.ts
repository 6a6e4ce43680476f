// Function resolution: name → upstream base URL. One interface; a static map, a DNS-style URL
// template, and `whippet up`'s own stack resolver all implement it, chained in one place.

import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { ConfigError } from '../common/options.js';
import { ForeignNamespaceError } from './errors.js';
import { NAME_PATTERN } from './routes.js';

/** What the gateway API reports about a function, when its source knows it (a stack does). */
export interface FunctionInfo {
  readonly image?: string;
  readonly envProcess?: string;
  readonly labels?: Readonly<Record<string, string>>;
  readonly annotations?: Readonly<Record<string, string>>;
  /** RFC 3339. */
  readonly createdAt?: string;
}

/** A function the router knows by name, and where it lives. */
export interface FunctionEntry {
  readonly name: string;
  readonly url: URL;
  readonly info?: FunctionInfo;
}

/** Finds a function's upstream; `list()` names the functions it can enumerate (a template cannot). */
export interface FunctionResolver {
  resolve(name: string): URL | undefined;
  list(): readonly FunctionEntry[];
}

/** A fixed name → URL map (the `functions` option, or a plug-in built from a stack file). */
export function createStaticResolver(entries: Iterable<readonly [string, URL]>): FunctionResolver {
  const map = new Map(entries);
  const list = Object.freeze([...map].map(([name, url]) => Object.freeze({ name, url })));
  return { resolve: (name) => map.get(name), list: () => list };
}

/**
 * The one parser of a requested name: `name` or `name.namespace` (split on the last dot, as the OpenFaaS
 * gateway does). A router serves one namespace; the bare name is returned when the namespace is its own,
 * and any other namespace throws ForeignNamespaceError (404) naming both.
 */
export function parseFunctionName(requested: string, namespace: string): string {
  const dot = requested.lastIndexOf('.');
  if (dot <= 0 || dot === requested.length - 1) return requested;
  const fn = requested.slice(0, dot);
  const ns = requested.slice(dot + 1);
  if (ns !== namespace) throw new ForeignNamespaceError(fn, ns, namespace);
  return fn;
}

/** parseFunctionName, or undefined for a name in another namespace. */
function bareName(requested: string, namespace: string): string | undefined {
  try {
    return parseFunctionName(requested, namespace);
  } catch (err) {
    if (err instanceof ForeignNamespaceError) return undefined;
    throw err;
  }
}

// Names come from callers; cap the cache so a scan of random names cannot grow memory without end.
const TEMPLATE_CACHE_MAX = 1024;

/**
 * `http://{name}.{namespace}:8080`: `{name}` is the bare name (parseFunctionName), `{namespace}` the
 * router's namespace; a name in another namespace resolves to nothing.
 */
export function createTemplateResolver(template: string, namespace: string): FunctionResolver {
  const cache = new Map<string, URL | undefined>();
  return {
    resolve(name) {
      let url = cache.get(name);
      if (url !== undefined || cache.has(name)) return url;
      const fn = bareName(name, namespace);
      if (fn === undefined) return undefined;
      const text = template.replaceAll('{name}', fn).replaceAll('{namespace}', namespace);
      url = URL.canParse(text) ? new URL(text) : undefined;
      if (cache.size >= TEMPLATE_CACHE_MAX) cache.clear();
      cache.set(name, url);
      return url;
    },
    list: () => [],
  };
}

/** Ask each resolver in turn; the first that knows the name wins. `list()` merges, first wins. */
export function chainResolvers(resolvers: readonly FunctionResolver[]): FunctionResolver {
  if (resolvers.length === 1) return resolvers[0]!;
  return {
    resolve(name) {
      for (const r of resolvers) {
        const url = r.resolve(name);
        if (url !== undefined) return url;
      }
      return undefined;
    },
    list() {
      const seen = new Map<string, FunctionEntry>();
      for (const resolver of resolvers) for (const entry of resolver.list()) if (!seen.has(entry.name)) seen.set(entry.name, entry);
      return [...seen.values()];
    },
  };
}

/**
 * Parse the `functions` option: `name=url,name2=url2`, or else the path of a YAML/JSON file holding
 * `name: url` (optionally under a top-level `functions:` key). Throws ConfigError naming each problem.
 */
export function parseFunctionMap(value: string, readFile: (path: string) => string = (path) => readFileSync(path, 'utf8')): Map<string, URL> {
  const problems: string[] = [];
  const pairs: Array<[string, unknown]> = [];
  if (value.includes('=')) {
    for (const part of value.split(',').map((s) => s.trim()).filter((s) => s !== '')) {
      const eq = part.indexOf('=');
      if (eq === -1) problems.push(`functions: expected name=url, got ${JSON.stringify(part)}`);
      else pairs.push([part.slice(0, eq).trim(), part.slice(eq + 1).trim()]);
    }
  } else {
    let doc: unknown;
    try {
      // yaml costs ~35 ms and ~7 MB to load: only a map given as a file needs it.
      const { parse } = createRequire(import.meta.url)('yaml') as typeof import('yaml');
      doc = parse(readFile(value));
    } catch (err) {
      throw new ConfigError([`functions: cannot read ${JSON.stringify(value)} as a YAML/JSON map of name: url (${(err as Error).message})`]);
    }
    if (isRecord(doc) && isRecord(doc['functions'])) doc = doc['functions'];
    if (!isRecord(doc)) throw new ConfigError([`functions: ${JSON.stringify(value)} must hold a map of name: url`]);
    pairs.push(...Object.entries(doc).map(([k, v]): [string, unknown] => [k, isRecord(v) ? v['url'] : v]));
  }
  const map = new Map<string, URL>();
  for (const [name, url] of pairs) {
    if (!NAME_PATTERN.test(name)) problems.push(`functions: invalid function name ${JSON.stringify(name)}, expected [-a-zA-Z_0-9.]+`);
    else if (typeof url !== 'string' || !/^https?:\/\//.test(url) || !URL.canParse(url)) {
      problems.push(`functions: ${name} needs an http(s) URL, got ${JSON.stringify(url)}`);
    } else map.set(name, new URL(url));
  }
  if (problems.length > 0) throw new ConfigError(problems);
  return map;
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/**
 * The resolver a config describes: static map first, then the template; `extra` (a stack) before both.
 * Every name goes through parseFunctionName first, so `echo` and `echo.<namespace>` are one function to
 * all of them, and a static map's `echo.<namespace>` key is stored as `echo`.
 */
export function createResolver(
  config: { readonly functions?: string | undefined; readonly functionUrlTemplate?: string | undefined; readonly functionNamespace: string },
  extra: readonly FunctionResolver[] = [],
): FunctionResolver {
  const namespace = config.functionNamespace;
  const chain = [...extra];
  if (config.functions !== undefined) {
    const problems: string[] = [];
    const entries: Array<[string, URL]> = [];
    for (const [name, url] of parseFunctionMap(config.functions)) {
      const fn = bareName(name, namespace);
      if (fn === undefined) problems.push(`functions: ${name} names another namespace; this router serves namespace ${namespace} (set namespace, or drop the suffix)`);
      else entries.push([fn, url]);
    }
    if (problems.length > 0) throw new ConfigError(problems);
    chain.push(createStaticResolver(entries));
  }
  if (config.functionUrlTemplate !== undefined) chain.push(createTemplateResolver(config.functionUrlTemplate, namespace));
  const inner = chainResolvers(chain.length === 0 ? [createStaticResolver([])] : chain);
  return {
    resolve(name) {
      const fn = bareName(name, namespace);
      return fn === undefined ? undefined : inner.resolve(fn);
    },
    list: () => inner.list(),
  };
}
