// Placeholder until the new command lands; replaced by its implementation.
import type { CommandModule } from 'yargs';
import { setExitCode } from '../run.js';

export const command: CommandModule = {
  command: 'new',
  describe: 'new (not built yet)',
  handler: () => { process.stderr.write('whippet new: not built yet\n'); setExitCode(1); },
};
