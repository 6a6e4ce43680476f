// marshal_request (classic watchdog): stdin gets {"header":{Name:[values]},"body":{"raw":base64}}. Written as
// it streams: the header JSON first, then the body's base64 chunk by chunk, then the close. No whole-body
// string is ever built (one was the crash of issue 16: V8 strings end at 512 MiB, a 403 MB body's base64).

import type { IncomingMessage } from 'node:http';
import { headerValue } from './cgi-env.js';

const CLOSE = Buffer.from('"}}');

/** Encodes one request's envelope in pieces; their concatenation equals JSON.stringify of the whole. */
export class MarshalEncoder {
  /** Up to 2 bytes left over from the last chunk: base64 encodes whole groups of 3 bytes without padding. */
  private carry: Buffer = Buffer.alloc(0);

  constructor(private readonly header: Readonly<Record<string, readonly string[]>>) {}

  /** `{"header":{…},"body":{"raw":"`: the part before the body. */
  head(): Buffer {
    return Buffer.from(`${JSON.stringify({ header: this.header }).slice(0, -1)},"body":{"raw":"`);
  }

  /** The base64 of the body bytes so far that make whole groups of 3; the rest waits for the next chunk. */
  push(chunk: Buffer): Buffer {
    const bytes = this.carry.length === 0 ? chunk : Buffer.concat([this.carry, chunk]);
    const whole = bytes.length - (bytes.length % 3);
    this.carry = Buffer.from(bytes.subarray(whole)); // a copy: the carry must not pin the whole chunk
    return Buffer.from(bytes.subarray(0, whole).toString('base64'));
  }

  /** The last (padded) group and the close. */
  end(): Buffer {
    const last = Buffer.from(this.carry.toString('base64'));
    this.carry = Buffer.alloc(0);
    return Buffer.concat([last, CLOSE]);
  }
}

/** The envelope's header object: Go's canonical names, every value of repeated headers, bytes as sent. */
export function marshalHeader(req: IncomingMessage): Record<string, string[]> {
  const header: Record<string, string[]> = {};
  for (const [name, values] of Object.entries(req.headersDistinct)) header[canonical(name)] = (values ?? []).map(headerValue);
  return header;
}

function canonical(name: string): string {
  return name.replace(/(^|-)([a-z])/g, (_, sep: string, c: string) => sep + c.toUpperCase());
}
