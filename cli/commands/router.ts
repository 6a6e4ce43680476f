// Placeholder until the router command lands; replaced by its implementation.
import type { CommandModule } from 'yargs';
import { setExitCode } from '../run.js';

export const command: CommandModule = {
  command: 'router',
  describe: 'router (not built yet)',
  handler: () => { process.stderr.write('whippet router: not built yet\n'); setExitCode(1); },
};
