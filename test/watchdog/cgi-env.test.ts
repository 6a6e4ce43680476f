import t from 'tap';
import { baseEnv, canonicalHeaderName, headerEnvName, headerValue, requestEnv, requestVariables } from '../../watchdog/cgi-env.js';

t.test('header names take Go canonical form, - becomes _', async (t) => {
  t.equal(canonicalHeaderName('x-call-id'), 'X-Call-Id');
  t.equal(canonicalHeaderName('CONTENT-TYPE'), 'Content-Type');
  t.equal(canonicalHeaderName('x_under'), 'X_under');
  t.equal(canonicalHeaderName('Foo=Bar'), 'Foo=Bar', 'non-token names are left alone');
  t.equal(headerEnvName('x-call-id'), 'Http_X_Call_Id');
  t.equal(headerEnvName('content-type'), 'Http_Content_Type');
  for (const bad of ['Foo=Bar', 'X-A;B', 'a.b', 'x~y', 'ü', '']) t.equal(headerEnvName(bad), undefined, bad);
});

t.test('requestEnv adds the request variables on a copy of the base', async (t) => {
  const base = { PATH: '/bin', KEEP: 'me' };
  const env = requestEnv(base, {
    method: 'POST',
    url: '/a/b?x=1&y=2',
    rawHeaders: ['Host', 'h:1', 'X-Custom', 'one', 'x-custom', 'two', 'Content-Length', '5', 'Bad=Name', 'v'],
    headers: { host: 'h:1', 'content-length': '5' },
  });
  t.same(env, {
    PATH: '/bin', KEEP: 'me', Http_Host: 'h:1', Http_X_Custom: 'one', Http_Content_Length: '5',
    Http_Method: 'POST', Http_Path: '/a/b', Http_Query: 'x=1&y=2', Http_ContentLength: '5',
  });
  t.same(base, { PATH: '/bin', KEEP: 'me' }, 'base untouched');
});

t.test('headers cannot override the request variables', async (t) => {
  const env = requestEnv({}, {
    method: 'GET', url: '/p',
    rawHeaders: ['Method', 'DELETE', 'Path', '/x', 'Query', 'q', 'ContentLength', '9'],
    headers: { 'transfer-encoding': 'chunked' },
  });
  t.equal(env.Http_Method, 'GET');
  t.equal(env.Http_Path, '/p');
  t.equal(env.Http_Query, '');
  t.equal(env.Http_ContentLength, '-1', 'chunked → -1');
  t.equal(env.Http_Host, '');
});

t.test('baseEnv drops undefined values', async (t) => {
  t.same(baseEnv({ A: '1', B: undefined }), { A: '1' });
});

t.test('header values keep their bytes: UTF-8 as sent, other bytes as U+FFFD', async (t) => {
  const latin1 = (bytes: number[]) => Buffer.from(bytes).toString('latin1'); // how node:http hands values over
  t.equal(headerValue('plain ascii'), 'plain ascii');
  t.same(Buffer.from(headerValue(latin1([0xc3, 0xa9]))), Buffer.from([0xc3, 0xa9]), 'é stays 2 bytes');
  t.same(Buffer.from(headerValue(latin1([0xe6, 0x97, 0xa5]))), Buffer.from([0xe6, 0x97, 0xa5]), '日 stays 3 bytes');
  t.equal(headerValue(latin1([0x61, 0xff, 0x62])), 'a\ufffdb');
  const env = requestVariables({ method: 'GET', url: '/', rawHeaders: ['X-Name', latin1([0xc3, 0xa9]), 'Host', latin1([0xc3, 0xa9])], headers: { host: latin1([0xc3, 0xa9]) } });
  t.equal(env.Http_X_Name, 'é');
  t.equal(env.Http_Host, 'é');
});
