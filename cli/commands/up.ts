// Placeholder until the up command lands; replaced by its implementation.
import type { CommandModule } from 'yargs';
import { setExitCode } from '../run.js';

export const command: CommandModule = {
  command: 'up',
  describe: 'up (not built yet)',
  handler: () => { process.stderr.write('whippet up: not built yet\n'); setExitCode(1); },
};
