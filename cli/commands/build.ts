// Placeholder until the build command lands; replaced by its implementation.
import type { CommandModule } from 'yargs';
import { setExitCode } from '../run.js';

export const command: CommandModule = {
  command: 'build',
  describe: 'build (not built yet)',
  handler: () => { process.stderr.write('whippet build: not built yet\n'); setExitCode(1); },
};
