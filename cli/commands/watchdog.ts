// Placeholder until the watchdog command lands; replaced by its implementation.
import type { CommandModule } from 'yargs';
import { setExitCode } from '../run.js';

export const command: CommandModule = {
  command: 'watchdog',
  describe: 'watchdog (not built yet)',
  handler: () => { process.stderr.write('whippet watchdog: not built yet\n'); setExitCode(1); },
};
