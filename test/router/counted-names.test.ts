// Which names get their own series: listed names always; template names once they
// answered with something other than a connection error or 404, up to a cap.
import t from 'tap';
import { createLogger } from '../../common/log.js';
import { createCountedNames } from '../../router/counted-names.js';
import { chainResolvers, createStaticResolver, createTemplateResolver } from '../../router/resolver.js';

t.test('listed names count; template names after a real answer, within the cap', async (t) => {
  const lines: string[] = [];
  const resolver = chainResolvers([createStaticResolver([['fixed', new URL('http://fixed:8080')]]), createTemplateResolver('http://{name}:8080', '')]);
  const names = createCountedNames(resolver, createLogger({ write: (line) => lines.push(line) }), 2);
  t.ok(names.counts('fixed'), 'a listed name counts before any call');
  t.ok(names.answered('fixed', 0), 'and keeps counting whatever happens');
  t.notOk(names.counts('guess'));
  t.notOk(names.answered('guess', 0), 'no answer: not counted');
  t.notOk(names.answered('guess', 404), '404: not counted');
  t.ok(names.answered('guess', 500), 'any other answer counts, a 500 included');
  t.ok(names.counts('guess'));
  t.ok(names.answered('second', 200));
  t.notOk(names.answered('third', 200), 'past the cap a name is not counted');
  t.notOk(names.answered('fourth', 200));
  t.equal(lines.filter((l) => l.includes('not counted')).length, 1, 'the cap is logged once');
});
