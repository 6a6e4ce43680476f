// Placeholder until the calls command lands; replaced by its implementation.
import type { CommandModule } from 'yargs';
import { setExitCode } from '../run.js';

export const command: CommandModule = {
  command: 'calls',
  describe: 'calls (not built yet)',
  handler: () => { process.stderr.write('whippet calls: not built yet\n'); setExitCode(1); },
};
