// Answers the router gives below the request handler: requests Node's parser refuses (malformed, head
// too large, too slow) and CONNECT, which Node hands to a separate event and would otherwise just close.

import { STATUS_CODES, type IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { INTERNAL_HEADER, type RouterErrorCode } from './errors.js';

const ANSWERED = Symbol('answered');
/**
 * After answering, how long to keep reading (and discarding) before closing: closing with unread input
 * makes TCP send a reset, which can destroy the answer before the client reads it (the watchdog does the same).
 */
const LINGER_MS = 500;

/** The methods the router's routes take, for the Allow header of a CONNECT's 405. */
const ROUTED_METHODS = 'GET, HEAD, POST, PUT, PATCH, DELETE, OPTIONS';

type Socket = Duplex & { [ANSWERED]?: true };

function answer(socket: Socket, status: number, code: RouterErrorCode, body: string, extra = ''): void {
  socket[ANSWERED] = true;
  socket.end(`HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\nConnection: close\r\n${INTERNAL_HEADER}: router\r\nX-Router-Error: ${code}\r\n${extra}`
    + `Content-Type: text/plain; charset=utf-8\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`);
  socket.on('data', () => { /* discarded */ });
  setTimeout(() => socket.destroy(), LINGER_MS).unref();
}

/** Requests Node's parser refuses still get a reason: 431 head too large, 408 too slow, 400 otherwise. */
export function onClientError(err: NodeJS.ErrnoException, socket: Socket): void {
  if (socket[ANSWERED]) return; // the parser reports every later chunk too
  if (!socket.writable || (err.code !== undefined && ['ECONNRESET', 'EPIPE'].includes(err.code))) { socket.destroy(); return; }
  if (err.code === 'HPE_HEADER_OVERFLOW') answer(socket, 431, 'ROUTER_ERR_HEAD_TOO_LARGE', 'request head larger than 16 KiB\n');
  else if (err.code === 'ERR_HTTP_REQUEST_TIMEOUT') answer(socket, 408, 'ROUTER_ERR_REQUEST_TIMEOUT', 'request not received within read_timeout\n');
  else answer(socket, 400, 'ROUTER_ERR_MALFORMED_REQUEST', `malformed request (${err.code ?? 'parse error'})\n`);
}

/** CONNECT: the router is not a forward proxy; 405 as for any method a route does not take. */
export function onConnect(req: IncomingMessage, socket: Socket): void {
  answer(socket, 405, 'ROUTER_ERR_METHOD_NOT_ALLOWED', `method ${req.method ?? 'CONNECT'} not allowed: use ${ROUTED_METHODS}\n`, `Allow: ${ROUTED_METHODS}\r\n`);
}
