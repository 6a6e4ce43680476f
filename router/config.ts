// The router's settings: one table drives env names, flags, defaults, parsing and --help. The worker's
// rows live here too, so `whippet worker` (router/worker/options.ts) declares its subset of this table.

import { isIP } from 'node:net';
import { availableParallelism } from 'node:os';
import { parseDuration } from '../common/duration.js';
import {
  loadOptions, parseBoolean, parseBytes, parseNonEmpty, parseOneOf, parsePort,
  parsePositiveDurationMs, parsePositiveInt, type OptionSpec, type Options,
} from '../common/options.js';
import { machineCores } from './cluster/cores.js';
import { parseQueueUrl } from './queue/index.js';

/** Durations that may also be written in days (`7d`), for retention and event age. */
export function parseLongDurationMs(raw: string): number {
  const m = /^(\d+)d(.*)$/.exec(raw.trim());
  if (m === null) return parseDuration(raw);
  return Number(m[1]) * 86_400_000 + (m[2] === '' ? 0 : parseDuration(m[2]!));
}

/**
 * `408,429,500` → [408, 429, 500]; each must be an HTTP status code of 300 or more: a 2xx is a success for a
 * function and for a callback receiver alike, so it could never be retried (a 3xx can: a callback is delivered
 * only on 2xx, though for a function anything below 400 is a success; router/worker/policy.ts, callback.ts).
 */
export function parseStatusList(raw: string): readonly number[] {
  const codes = raw.split(',').map((code) => code.trim()).filter((code) => code !== '');
  for (const code of codes) {
    if (!/^[1-5]\d\d$/.test(code)) throw new Error(`expected comma-separated HTTP status codes, got ${JSON.stringify(raw)}`);
    if (Number(code) < 300) throw new Error(`${code} is a success, so it is never retried: list codes of 300 or more`);
  }
  return Object.freeze(codes.map(Number));
}

/** `example.com,*.example.org,10.0.0.0/8` → the list; each entry a host name, a `*.` suffix, an IP or a CIDR. */
export function parseHostList(raw: string): readonly string[] {
  const entries = raw.split(',').map((entry) => entry.trim().toLowerCase()).filter((entry) => entry !== '');
  for (const e of entries) {
    const [addr, bits, extra] = e.split('/');
    const cidrOk = bits !== undefined && extra === undefined && isIP(addr!) !== 0 && /^\d+$/.test(bits)
      && Number(bits) <= (isIP(addr!) === 4 ? 32 : 128);
    const hostOk = bits === undefined && /^(\*\.)?[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/.test(addr!);
    if (!cidrOk && !hostOk && !(bits === undefined && isIP(addr!) !== 0)) {
      throw new Error(`expected comma-separated host names, *.suffixes, IPs or CIDRs, got ${JSON.stringify(e)}`);
    }
  }
  return Object.freeze(entries);
}

/** A URL template with `{name}` in it, such as http://{name}.{namespace}:8080. */
export function parseUrlTemplate(raw: string): string {
  if (!raw.includes('{name}')) throw new Error(`expected a URL template containing {name}, got ${JSON.stringify(raw)}`);
  const probe = raw.replaceAll('{name}', 'fn').replaceAll('{namespace}', 'ns');
  if (!/^https?:\/\//.test(probe) || !URL.canParse(probe)) {
    throw new Error(`expected an http(s) URL template such as http://{name}.{namespace}:8080, got ${JSON.stringify(raw)}`);
  }
  return raw;
}

/** A Kubernetes-style namespace name (what faas-cli and OpenFaaS accept). */
export function parseNamespace(raw: string): string {
  const v = raw.trim();
  if (!/^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/.test(v)) throw new Error(`expected a namespace such as openfaas-fn (lower-case letters, digits and -), got ${JSON.stringify(raw)}`);
  return v;
}

/** `workers`: a whole number of 1 or more, or `auto` (the cores of the machine or the container's quota). */
export function parseWorkers(raw: string, cores: () => number = () => machineCores().cores): number {
  return raw.trim().toLowerCase() === 'auto' ? cores() : parsePositiveInt(raw);
}

/** Every router and queue-worker setting (DESIGN "Router and worker settings"). */
export const ROUTER_OPTIONS = {
  port: { env: ['port'], describe: 'router listen port (0 = ephemeral, printed at start)', default: '8080', parse: parsePort },
  readTimeoutMs: { env: ['read_timeout'], describe: 'limit for receiving a whole request (headers and body)', default: '60s', parse: parsePositiveDurationMs },
  writeTimeoutMs: { env: ['write_timeout'], describe: 'a client connection that makes no progress for this long is closed', default: '60s', parse: parsePositiveDurationMs },
  upstreamTimeoutMs: { env: ['upstream_timeout'], describe: 'limit of one proxied call; past it the caller gets 504', default: '60s', parse: parsePositiveDurationMs },
  functions: { env: ['functions'], describe: 'static map: name=url pairs separated by commas, or a YAML/JSON file of name: url', parse: parseNonEmpty },
  functionUrlTemplate: { env: ['function_url_template'], describe: 'upstream URL template, e.g. http://{name}.{namespace}:8080', parse: parseUrlTemplate },
  functionNamespace: {
    env: ['namespace', 'function_namespace'], default: 'openfaas-fn', parse: parseNamespace,
    describe: 'the one namespace this router serves: /function/NAME and /function/NAME.NAMESPACE are the same function; also {namespace} in function_url_template',
  },
  queue: { env: ['queue'], describe: 'async queue: sqlite:<path>, or nats://host:port (tls:// for TLS), comma-separated for a cluster', default: 'sqlite:.whippet/queue.db', parse: parseQueueUrl },
  ackWaitMs: { env: ['ack_wait'], describe: 'lease heartbeat; a dead worker\'s calls come back after it', default: '30s', parse: parsePositiveDurationMs },
  maxInflight: { env: ['max_inflight'], describe: 'concurrent async calls per worker', default: '16', parse: parsePositiveInt },
  retryHttpCodes: { env: ['retry_http_codes'], describe: 'function statuses that are retried (connection errors always are)', default: '408,429,500,502,503,504', parse: parseStatusList },
  initialRetryWaitMs: { env: ['initial_retry_wait'], describe: 'first retry backoff (exponential, full jitter)', default: '1s', parse: parsePositiveDurationMs },
  maxRetryWaitMs: { env: ['max_retry_wait'], describe: 'largest retry backoff', default: '120s', parse: parsePositiveDurationMs },
  maxRetryAttempts: { env: ['max_retry_attempts'], describe: 'attempts before a call is dead-lettered', default: '10', parse: parsePositiveInt },
  maxEventAgeMs: { env: ['max_event_age'], describe: 'a call not started by then expires (accepts d, h, m, s)', default: '6h', parse: parseLongDurationMs },
  callRetentionMs: { env: ['call_retention'], describe: 'how long finished call records are kept (accepts d, h, m, s)', default: '7d', parse: parseLongDurationMs },
  maxAsyncBodyBytes: { env: ['max_async_body'], describe: 'largest async request body; over it: 413', default: '1MiB', parse: parseBytes },
  callbackAllow: { env: ['callback_allow'], describe: 'callback hosts allowed (host, *.suffix, IP or CIDR, comma-separated)', defaultDescription: 'any', parse: parseHostList },
  callbackAllowLinkLocal: {
    env: ['callback_allow_link_local'], boolean: true, default: 'false', parse: parseBoolean,
    describe: 'let callbacks reach link-local and cloud metadata addresses (169.254.0.0/16, fe80::/10, fd00:ec2::254, 100.100.100.200, 192.0.0.192)',
  },
  callbackSecret: { env: ['callback_secret'], describe: 'HMAC-SHA256 key for X-Callback-Signature', parse: parseNonEmpty },
  basicAuth: { env: ['basic_auth'], describe: '/system/* requires Basic credentials', default: 'false', boolean: true, parse: parseBoolean },
  secretMountPath: { env: ['secret_mount_path'], describe: 'folder holding basic-auth-user and basic-auth-password', default: '/run/secrets', parse: parseNonEmpty },
  asyncWorker: {
    env: ['async_worker'], boolean: true, default: 'true', parse: parseBoolean,
    describe: 'run the queue-worker inside the router; false: only accept async calls (run `whippet worker` beside it)',
  },
  dashboard: {
    env: ['dashboard'], boolean: true, default: 'true', parse: parseBoolean,
    describe: 'serve the dashboard at /ui/; false: /ui/ answers 404 and the dashboard is never loaded',
  },
  workers: {
    env: ['workers'], default: '1', parse: parseWorkers,
    describe: `router processes sharing the listening port (one primary supervises them and runs the async worker); 1: one process, nothing forked; auto: the cores this process may use (a container's CPU quota counts; ${availableParallelism()} CPUs here). Set it where the router has the cores to itself`,
  },
  logFormat: { env: ['log_format'], describe: 'log lines: text for people, json for machines', default: 'text', parse: parseOneOf(['text', 'json'] as const) },
} as const satisfies Record<string, OptionSpec<unknown>>;

export type RouterConfig = Options<typeof ROUTER_OPTIONS>;

/** Cross-field rules, pure so they are unit-tested. */
function checkRouterConfig(config: RouterConfig): string[] {
  const problems: string[] = [];
  if (config.maxRetryWaitMs < config.initialRetryWaitMs) {
    problems.push(`max_retry_wait (${config.maxRetryWaitMs}ms) must not be below initial_retry_wait (${config.initialRetryWaitMs}ms)`);
  }
  // The connection is cut after write_timeout without progress; a slow function must get its 504 first.
  if (config.upstreamTimeoutMs > config.writeTimeoutMs) {
    problems.push(`upstream_timeout (${config.upstreamTimeoutMs}ms) must not exceed write_timeout (${config.writeTimeoutMs}ms)`);
  }
  return problems;
}

/** Resolve flags > env > defaults; throws ConfigError naming every bad variable. */
export function loadRouterConfig(
  flags: Readonly<Record<string, unknown>>,
  env: Readonly<Record<string, string | undefined>>,
): RouterConfig {
  return loadOptions(ROUTER_OPTIONS, flags, env, checkRouterConfig);
}
