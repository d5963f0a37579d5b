import { createExcludeMatcher } from '../../../core/tree/excludes.js';

test.each<[string[], string, boolean]>([
  [['node_modules'], 'node_modules', true],
  [['node_modules'], 'a/b/c/node_modules', true],
  [['node_modules'], 'node_modules_x', false],
  [['build'], 'build.txt', false],
  [['build'], 'docs/build', true],
  [['src/dist'], 'src/dist', true],
  [['src/dist'], 'pkg/src/dist', true],
  [['src/dist'], 'src/distant', false],
  [['*.log'], 'logs/a.log', true],
  [['*.log'], 'a.log.txt', false],
  [['a?c'], 'x/abc', true],
  [['a?c'], 'x/ac', false],
  [['[!a]bc'], 'xbc', true],
  [['[!a]bc'], 'abc', false],
  [['[a-c]x'], 'bx', true],
  [['./README.md'], 'README.md', true],
  [['dist/'], 'dist', true],
  [['a.b'], 'axb', false],
  [['\\*'], '*', true],
  [['\\*'], 'x', false],
  [[], 'anything', false],
])('%j matches %s: %s', (patterns, path, expected) => {
  expect(createExcludeMatcher(patterns)(path)).toBe(expected);
});
