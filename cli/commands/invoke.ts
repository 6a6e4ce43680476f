// Placeholder until the invoke command lands; replaced by its implementation.
import type { CommandModule } from 'yargs';
import { setExitCode } from '../run.js';

export const command: CommandModule = {
  command: 'invoke',
  describe: 'invoke (not built yet)',
  handler: () => { process.stderr.write('whippet invoke: not built yet\n'); setExitCode(1); },
};
