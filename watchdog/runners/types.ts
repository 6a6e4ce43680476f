// The one interface every mode implements; runners/index.ts picks the implementation for config.mode.

import type { IncomingMessage, ServerResponse } from 'node:http';
import type { WatchdogConfig } from '../config.js';
import type { FunctionLogOptions } from '../function-log.js';
import type { Logger } from '../../common/log.js';
import type { RunBackend } from '../spawn/types.js';

export interface Runner {
  /** Prepare before listening (http mode starts its process, static mode checks its folder); throws to stop the start. */
  start(): Promise<void>;
  /** False while requests cannot be served yet (http mode: the upstream does not accept connections). */
  ready(): boolean;
  /** Serve one request and end (or destroy) `res`; never throws. `startedAt` is a monotonicMs() value (common/clock.ts). */
  handle(req: IncomingMessage, res: ServerResponse, startedAt: number): void;
  /** Called after the drain: http mode stops its process. */
  stop(): Promise<void>;
}

export interface RunnerDeps {
  readonly config: WatchdogConfig;
  /** Present in every mode that starts processes. */
  readonly backend: RunBackend | undefined;
  /** The watchdog's own environment: the base of every child's environment. */
  readonly env: Readonly<Record<string, string>>;
  readonly log: Logger;
  /** Where function output lines go (the log stream), formatted per prefix_logs and log_format. */
  readonly output: FunctionLogOptions;
}
