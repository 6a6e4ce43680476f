// Placeholder until the worker command lands; replaced by its implementation.
import type { CommandModule } from 'yargs';
import { setExitCode } from '../run.js';

export const command: CommandModule = {
  command: 'worker',
  describe: 'worker (not built yet)',
  handler: () => { process.stderr.write('whippet worker: not built yet\n'); setExitCode(1); },
};
