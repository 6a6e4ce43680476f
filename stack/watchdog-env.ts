// The environment of one function's watchdog under `whippet up`, as the container would see it plus
// what running several watchdogs on one machine needs. Pure, so the precedence is unit-tested.

import { loadOptions } from '../common/options.js';
import { WATCHDOG_OPTIONS, type Mode } from '../watchdog/config.js';

/** Inputs, lowest precedence first. */
export interface WatchdogEnvParts {
  /** The environment `up` runs in (PATH, HOME, ...). */
  readonly base: Readonly<Record<string, string | undefined>>;
  /** The build folder Dockerfile's ENV. */
  readonly dockerfile: Readonly<Record<string, string>>;
  /** The stack's `environment` for this function. */
  readonly stack: Readonly<Record<string, string>>;
  /** A folder of this watchdog's own for TMPDIR (its lock file must not be another watchdog's). */
  readonly tmpDir: string;
  /** For `mode=http` when nobody set upstream_url: the free port `up` picked for its process. */
  readonly upstreamPort?: number;
  /** Where up's pip install went: first on PYTHONPATH, before any the Dockerfile or the stack sets. */
  readonly pythonPath?: string | undefined;
}

/**
 * base < local defaults (own TMPDIR, metrics off: the default 8081 would clash) < Dockerfile ENV <
 * stack environment < what `up` must control (an ephemeral port; in http mode, the upstream port it picked;
 * its pip install folder in front of PYTHONPATH).
 */
export function watchdogEnv(parts: WatchdogEnvParts): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [key, value] of Object.entries(parts.base)) if (value !== undefined) env[key] = value;
  Object.assign(env, { TMPDIR: parts.tmpDir, metrics_port: '0' }, parts.dockerfile, parts.stack);
  env['port'] = '0';
  if (parts.pythonPath !== undefined) {
    // As an image's `pip install --target` folder with `ENV PYTHONPATH=$PYTHONPATH:<folder>`, but first:
    // a path the Dockerfile names inside the image does not exist here.
    env['PYTHONPATH'] = env['PYTHONPATH'] === undefined || env['PYTHONPATH'] === '' ? parts.pythonPath : `${parts.pythonPath}:${env['PYTHONPATH']}`;
  }
  if (parts.upstreamPort !== undefined) {
    // The watchdog proxies to upstream_url; the process learns its port from http_port (OpenFaaS's
    // node templates) or PORT (the common convention of web frameworks).
    env['upstream_url'] = `http://127.0.0.1:${parts.upstreamPort}`;
    env['http_port'] = String(parts.upstreamPort);
    env['PORT'] = String(parts.upstreamPort);
    delete env['http_upstream_url'];
  }
  return env;
}

/** The settings `up` acts on itself; the rest are checked but left to the watchdog. */
export interface FunctionSettings {
  readonly mode: Mode;
  /** The per-function concurrency the worker keeps to: the watchdog's max_inflight (0 = unlimited). */
  readonly maxInflight: number;
  readonly upstreamUrl: URL | undefined;
}

/**
 * Parse a function's merged settings with the watchdog's own option table (same names, aliases and
 * rules), so a value its watchdog would refuse stops `up` before anything starts; throws ConfigError
 * listing every problem. upstream_url may still be missing in http mode: `up` picks it.
 */
export function functionSettings(env: Readonly<Record<string, string | undefined>>): FunctionSettings {
  return loadOptions(WATCHDOG_OPTIONS, {}, env, (settings) => settings.mode === 'static' || settings.fprocess !== undefined ? [] : [
    `fprocess: required when mode is ${settings.mode}; set it with ENV fprocess in the Dockerfile, fprocess: in template.yml, or fprocess: in the stack`,
  ]);
}
