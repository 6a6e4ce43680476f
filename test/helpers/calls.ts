// A queue call fixture for tests of the queue and of what reads its records (the dashboard).

import { randomUUID } from 'node:crypto';
import type { NewCall } from '../../router/queue/index.js';

let counter = 0;

/** A call with distinctive values in every field, so a round trip that drops one is caught. */
export function makeCall(overrides: Partial<NewCall> = {}): NewCall {
  counter++;
  return {
    id: `call-${counter}-${randomUUID()}`,
    functionName: 'echo',
    method: 'PUT',
    path: '/a/b',
    query: 'q=1&r=%20x',
    headers: { 'content-type': 'text/plain', 'x-custom': 'yes', 'x-multi': ['one', 'two'] },
    body: Buffer.from(`body of call ${counter} \u00e9\u0000\u00ff`),
    callbackUrl: null,
    ...overrides,
  };
}
