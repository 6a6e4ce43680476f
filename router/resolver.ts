// Function resolution: name → upstream base URL. One interface; a static map, a DNS-style URL
// template, and `whippet up`'s own stack resolver all implement it, chained in one place.

import { readFileSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';
import { ConfigError } from '../common/options.js';
import { NAME_PATTERN } from './routes.js';

/** A function the router knows by name, and where it lives. */
export interface FunctionEntry {
  readonly name: string;
  readonly url: URL;
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

/** Split `name.namespace` on the last dot, as the OpenFaaS gateway does. */
export function splitName(name: string, defaultNamespace: string): { fn: string; namespace: string } {
  const dot = name.lastIndexOf('.');
  if (dot <= 0 || dot === name.length - 1) return { fn: name, namespace: defaultNamespace };
  return { fn: name.slice(0, dot), namespace: name.slice(dot + 1) };
}

// Names come from callers; cap the cache so a scan of random names cannot grow memory without end.
const TEMPLATE_CACHE_MAX = 1024;

/**
 * `http://{name}.{namespace}:8080`: `{namespace}` is the name's own (`fn.ns`), else `defaultNamespace`;
 * with neither, `.{namespace}` is dropped so `http://{name}:8080`-style DNS (compose) still works.
 */
export function createTemplateResolver(template: string, defaultNamespace: string): FunctionResolver {
  const cache = new Map<string, URL | undefined>();
  return {
    resolve(name) {
      let url = cache.get(name);
      if (url !== undefined || cache.has(name)) return url;
      const { fn, namespace } = splitName(name, defaultNamespace);
      const text = namespace === ''
        ? template.replace(/[.-]?\{namespace\}/g, '').replaceAll('{name}', fn)
        : template.replaceAll('{name}', fn).replaceAll('{namespace}', namespace);
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
      doc = parseYaml(readFile(value));
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

/** The resolver a config describes: static map first, then the template; `extra` (a stack) before both. */
export function createResolver(
  config: { readonly functions?: string | undefined; readonly functionUrlTemplate?: string | undefined; readonly functionNamespace: string },
  extra: readonly FunctionResolver[] = [],
): FunctionResolver {
  const chain = [...extra];
  if (config.functions !== undefined) chain.push(createStaticResolver(parseFunctionMap(config.functions)));
  if (config.functionUrlTemplate !== undefined) chain.push(createTemplateResolver(config.functionUrlTemplate, config.functionNamespace));
  return chainResolvers(chain.length === 0 ? [createStaticResolver([])] : chain);
}
