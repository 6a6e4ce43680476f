// `whippet new` edits the stack file through yaml's Document API, so the user's comments, key order
// and formatting survive; a missing file is created with the OpenFaaS header.

import { isMap, parseDocument } from 'yaml';
import { StackError } from './errors.js';

const NEW_STACK = `# whippet stack file (OpenFaaS stack.yml form). \`whippet up\` runs it locally;
# \`whippet build\` assembles .whippet/build/<name>/ for \`docker build\`.
version: 1.0
provider:
  name: openfaas
  gateway: http://127.0.0.1:8080
functions: {}
`;

/** The stack text with function `name` added (`handler` relative to the stack file); throws StackError when it exists. */
export function addFunction(text: string | undefined, file: string, name: string, fn: { lang: string; handler: string }): string {
  const doc = parseDocument(text ?? NEW_STACK);
  if (doc.errors.length > 0) throw new StackError(file, [`not valid YAML, not changing it: ${doc.errors[0]!.message.split('\n')[0]}`]);
  if (doc.contents !== null && !isMap(doc.contents)) throw new StackError(file, ['expected a map at the top (version, provider, functions)']);
  const functions = doc.get('functions');
  if (functions === undefined || functions === null || (isMap(functions) && functions.items.length === 0)) {
    doc.set('functions', doc.createNode({}));
  } else if (!isMap(functions)) {
    throw new StackError(file, ['functions: expected a map of name: {lang, handler}']);
  }
  if (doc.hasIn(['functions', name])) throw new StackError(file, [`functions.${name}: already exists; pick another name or remove it first`]);
  const map = doc.get('functions');
  if (isMap(map)) map.flow = false;
  doc.setIn(['functions', name], doc.createNode({ lang: fn.lang, handler: fn.handler }));
  return doc.toString();
}
