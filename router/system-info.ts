// /system/info in the spec's GatewayInfo shape, and the one-line answers to the writes whippet does not
// do through the API (a 501 says what to do instead; faas-cli prints the body as it is).

import { arch } from 'node:os';
import { whippetVersion } from '../common/version.js';
import { NotImplementedError } from './errors.js';

// Node's names → the machine names OpenFaaS reports (`uname -m`).
const ARCH: Readonly<Record<string, string>> = { x64: 'x86_64', arm64: 'aarch64', arm: 'armv7l' };

/** GatewayInfo: `provider`, `version` and `provider.version` are always objects (faas-cli dereferences them). */
export function gatewayInfo(orchestration: string): Record<string, unknown> {
  const version = { release: whippetVersion(), sha: '' };
  return {
    provider: { provider: 'whippet', orchestration, version },
    version,
    arch: ARCH[arch()] ?? arch(),
  };
}

const FROM_STACK = 'functions come from the stack file (`whippet up`) or the router\'s `functions` / `function_url_template` settings';

/** The 501 for a write under /system (`route` without the /system prefix). */
export function refuseWrite(method: string, route: string): NotImplementedError {
  if (route === '/functions' && method === 'DELETE') {
    return new NotImplementedError(`whippet does not remove functions through the API: ${FROM_STACK}; take it out there and restart`);
  }
  if (route === '/functions') {
    return new NotImplementedError(`whippet does not deploy functions through the API (${method} /system/functions): ${FROM_STACK}`);
  }
  if (route.startsWith('/scale-function')) {
    return new NotImplementedError('whippet does not scale functions: `whippet up` runs one watchdog per function; '
      + 'behind function_url_template scale the containers themselves (docker compose --scale, kubectl scale)');
  }
  if (route === '/secrets') {
    return new NotImplementedError('whippet has no secrets API: mount secrets as files for the function '
      + '(docker or Kubernetes secrets under /var/openfaas/secrets) or give them as environment in the stack file');
  }
  return new NotImplementedError(`whippet serves one namespace and cannot create or change namespaces (${method} /system${route}); set the router's namespace setting instead`);
}
