// The watchdog's settings: one table drives env names (OpenFaaS spelling), flags, defaults, parsing and --help.
// loadWatchdogConfig(flags, env) is pure: the CLI passes process.env in.

import { splitCommand } from './command.js';
import {
  loadOptions, parseBoolean, parseBytes, parseDurationMs, parseNonEmpty, parseNonNegativeInt, parseOneOf, parsePort,
  parsePositiveDurationMs, type OptionSpec,
} from '../common/options.js';

export const MODES = ['serializing', 'streaming', 'http', 'static'] as const;
export type Mode = (typeof MODES)[number];
/** `posix_spawn` is the native backend's former name, still accepted. */
export const SPAWN_BACKENDS = ['auto', 'native', 'child_process', 'posix_spawn'] as const;
export type SpawnBackendChoice = Exclude<(typeof SPAWN_BACKENDS)[number], 'posix_spawn'>;
export const SPAWN_METHODS = ['auto', 'clone3', 'clone', 'posix_spawn'] as const;
export type SpawnMethodChoice = (typeof SPAWN_METHODS)[number];

function parseSpawnBackend(raw: string): SpawnBackendChoice {
  const choice = parseOneOf(SPAWN_BACKENDS)(raw);
  return choice === 'posix_spawn' ? 'native' : choice;
}

/** Upper bound of the computed healthcheck_interval default: long enough for a load balancer to notice. */
const MAX_DEFAULT_HEALTHCHECK_INTERVAL_MS = 5000;

function parseUpstreamUrl(raw: string): URL {
  let url: URL;
  try { url = new URL(raw); } catch { throw new Error(`expected an http:// URL, got ${JSON.stringify(raw)}`); }
  if (url.protocol !== 'http:') throw new Error(`expected an http:// URL, got ${JSON.stringify(raw)}`);
  return url;
}

const bool = (env: string, describe: string, def: string) =>
  ({ env: [env], describe, default: def, boolean: true, parse: parseBoolean }) as const;

/** Every watchdog setting. Keys are camelCase with units; env names are OpenFaaS's. */
export const WATCHDOG_OPTIONS = {
  fprocess: { env: ['fprocess', 'function_process'], describe: 'command forked per request (http mode: started once); split like a shell, never run through one', defaultDescription: 'required except mode=static', parse: splitCommand },
  mode: { env: ['mode'], describe: `${MODES.join(' | ')}`, default: 'serializing', parse: parseOneOf(MODES) },
  port: { env: ['port'], describe: 'listen port (0 = ephemeral, printed at start)', default: '8080', parse: parsePort },
  readTimeoutMs: { env: ['read_timeout'], describe: 'time allowed to receive a whole request (headers and body)', default: '30s', parse: parsePositiveDurationMs },
  writeTimeoutMs: { env: ['write_timeout'], describe: 'time allowed to send a response; also the drain deadline', default: '30s', parse: parsePositiveDurationMs },
  execTimeoutMs: { env: ['exec_timeout'], describe: 'hard limit of one invocation; the process group is killed (0 = none)', default: '30s', parse: parseDurationMs },
  healthcheckIntervalMs: { env: ['healthcheck_interval'], describe: 'on SIGTERM, how long /_/health reports 503 before the listener closes', defaultDescription: 'min(write_timeout, 5s)', parse: parseDurationMs },
  maxInflight: { env: ['max_inflight'], describe: 'concurrent requests; beyond it 429 and /_/ready 429 (0 = unlimited)', default: '0', parse: parseNonNegativeInt },
  contentType: { env: ['content_type'], describe: 'Content-Type of successful responses', defaultDescription: "the request's, else application/octet-stream", parse: parseNonEmpty },
  combineOutput: bool('combine_output', 'stderr goes into the response body; false: stderr to the log only', 'true'),
  writeDebug: bool('write_debug', 'log each response body', 'false'),
  prefixLogs: bool('prefix_logs', 'prefix function output lines in the log with time and stream', 'true'),
  logFormat: { env: ['log_format'], describe: 'text | json (one JSON object a line)', default: 'text', parse: parseOneOf(['text', 'json']) },
  logLevel: { env: ['log_level'], describe: 'debug | info | warn | error', default: 'info', parse: parseOneOf(['debug', 'info', 'warn', 'error']) },
  suppressLock: bool('suppress_lock', 'do not write the lock file $TMPDIR/.lock', 'false'),
  upstreamUrl: { env: ['upstream_url', 'http_upstream_url'], describe: 'http mode: where the process listens', defaultDescription: 'required in http mode', parse: parseUpstreamUrl },
  bufferHttp: bool('buffer_http', 'http mode: buffer the request and send Content-Length instead of chunked', 'false'),
  marshalRequest: bool('marshal_request', 'stdin gets {"header":{…},"body":{"raw":base64}} (classic watchdog)', 'false'),
  maxRequestBodyBytes: { env: ['max_request_body'], describe: 'largest body when the whole body is held or re-encoded (marshal_request, buffer_http); over it: 413 (0 = no limit). Streamed bodies have no limit', default: '64MiB', parse: parseBytes },
  staticPath: { env: ['static_path'], describe: 'static mode: folder to serve', default: '/home/app/public', parse: parseNonEmpty },
  metricsPort: { env: ['metrics_port'], describe: 'Prometheus /metrics port (0 = off)', default: '8081', parse: parsePort },
  spawnBackend: { env: ['spawn_backend'], describe: 'how handlers are forked: auto (native when the addon loads, else child_process) | native (alias posix_spawn) | child_process', default: 'auto', parse: parseSpawnBackend },
  spawnMethod: { env: ['spawn_method'], describe: 'native backend: the best way it may make children: auto (clone3 on x86_64, else clone; each falls back when the kernel or seccomp refuses it) | clone3 | clone | posix_spawn (glibc)', default: 'auto', parse: parseOneOf(SPAWN_METHODS) },
} as const satisfies Record<string, OptionSpec<unknown>>;

/** The resolved, frozen watchdog configuration. */
export interface WatchdogConfig {
  /** Program and arguments; empty only in static mode. */
  readonly fprocess: readonly string[];
  readonly mode: Mode;
  readonly port: number;
  readonly readTimeoutMs: number;
  readonly writeTimeoutMs: number;
  /** 0 = no limit. */
  readonly execTimeoutMs: number;
  readonly healthcheckIntervalMs: number;
  /** 0 = unlimited. */
  readonly maxInflight: number;
  readonly contentType: string | undefined;
  readonly combineOutput: boolean;
  readonly writeDebug: boolean;
  readonly prefixLogs: boolean;
  readonly logFormat: 'text' | 'json';
  readonly logLevel: 'debug' | 'info' | 'warn' | 'error';
  readonly suppressLock: boolean;
  readonly upstreamUrl: URL | undefined;
  readonly bufferHttp: boolean;
  readonly marshalRequest: boolean;
  /** With marshal_request or buffer_http; 0 = no limit. */
  readonly maxRequestBodyBytes: number;
  readonly staticPath: string;
  /** 0 = no metrics server. */
  readonly metricsPort: number;
  readonly spawnBackend: SpawnBackendChoice;
  readonly spawnMethod: SpawnMethodChoice;
}

/** Resolve flags > env > defaults; throws ConfigError naming every bad variable, its rule and its value. */
export function loadWatchdogConfig(
  flags: Readonly<Record<string, unknown>>,
  env: Readonly<Record<string, string | undefined>>,
): WatchdogConfig {
  const o = loadOptions(WATCHDOG_OPTIONS, flags, env, (c) => {
    const problems: string[] = [];
    if (c.mode !== 'static' && c.fprocess === undefined) {
      problems.push(`fprocess (env fprocess or function_process, or --fprocess): required when mode is ${c.mode}`);
    }
    if (c.mode === 'http' && c.upstreamUrl === undefined) {
      problems.push('upstream_url (env upstream_url, or --upstream-url): required when mode is http');
    }
    return problems;
  });
  return Object.freeze({
    ...o,
    fprocess: Object.freeze(o.fprocess ?? []),
    healthcheckIntervalMs: o.healthcheckIntervalMs ?? Math.min(o.writeTimeoutMs, MAX_DEFAULT_HEALTHCHECK_INTERVAL_MS),
  });
}
