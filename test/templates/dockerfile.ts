// The Dockerfile reader lives in cli/stack/dockerfile.ts (whippet up reads the ENV lines with it);
// the template tests import it through here.
export { copySources, dockerfileEnv, parseDockerfile, parseEnvArgs, splitCommand, type Instruction } from '../../cli/stack/dockerfile.js';
