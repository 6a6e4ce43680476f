// `whippet router`: read the settings, start the router (with its in-process worker unless
// async_worker=false), serve until a signal drains it. Wiring only; the behaviour lives in router/.

import type { Argv } from 'yargs';
import { createLogger } from '../../common/log.js';
import { yargsOptions } from '../../common/options.js';
import { ROUTER_OPTIONS, loadRouterConfig } from '../../router/config.js';
import { startRouter } from '../../router/main.js';
import { serve } from '../serve.js';

export const command = {
  command: 'router',
  describe: 'run the router (gateway): /function/{name} proxied to functions, /system API, /metrics',
  builder: (parser: Argv) => parser.options(yargsOptions(ROUTER_OPTIONS)).strict(),
};

export async function run(flags: Readonly<Record<string, unknown>>): Promise<number> {
  const config = loadRouterConfig(flags, process.env);
  const log = createLogger({ format: config.logFormat }, { component: 'router' });
  return serve(await startRouter(config, { log }), { log });
}
