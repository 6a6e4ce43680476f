// Raw HTTP for tests that must send bytes no client library would (bad header names, absolute-form
// targets, CONNECT): write the text as is and read what the server answers.

import { connect } from 'node:net';

/**
 * Send `text` to 127.0.0.1:`port` and resolve with the answer: once the server closes, once a first
 * response with Content-Length is complete, or with what arrived after `ms`. Given parts, each is
 * written `gapMs` after the one before (a body arriving after its head).
 */
export function raw(port: number, text: string | readonly string[], ms = 3_000, gapMs = 0): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1');
    let answer = '';
    const timer = setTimeout(() => { socket.destroy(); resolve(answer); }, ms);
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => {
      answer += chunk;
      const head = answer.indexOf('\r\n\r\n');
      const length = /content-length: (\d+)/i.exec(answer);
      if (head !== -1 && length !== null && answer.length >= head + 4 + Number(length[1])) { clearTimeout(timer); socket.destroy(); resolve(answer); }
    });
    socket.on('error', (err) => { clearTimeout(timer); answer === '' ? reject(err) : resolve(answer); });
    socket.on('close', () => { clearTimeout(timer); resolve(answer); });
    const parts = typeof text === 'string' ? [text] : text;
    const send = (i: number): void => {
      if (i === parts.length || socket.destroyed) return;
      socket.write(parts[i]!);
      setTimeout(send, gapMs, i + 1);
    };
    send(0);
  });
}
