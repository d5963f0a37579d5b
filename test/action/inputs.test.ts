// action/inputs.ts: the bucket-map and exclude inputs, parsed and refused with the input named.
import { parseBucketMap, parseExcludes } from '../../action/inputs.js';

const MAP =
  'meauxbility: meauxbilitygithubconnect\n# comment\n\nautonomous-coding-agent: autonomous-coding-agent';

test('parseBucketMap refuses malformed lines, naming the line', () => {
  expect([...parseBucketMap(MAP)]).toEqual([
    ['meauxbility', 'meauxbilitygithubconnect'],
    ['autonomous-coding-agent', 'autonomous-coding-agent'],
  ]);
  expect(() => parseBucketMap('a: ok-bucket\nno colon here')).toThrow('Invalid bucket-map (line 2)');
  expect(() => parseBucketMap('a: UPPER')).toThrow(/bucket-map \(line 1\): must be an R2 bucket name/);
});

test('parseExcludes: empty means the seed six; lines or commas', () => {
  expect(parseExcludes('')).toEqual(['.git', 'node_modules', '.next', 'dist', 'build', '.cache']);
  expect(parseExcludes('.git\nnode_modules, *.log\n\n')).toEqual(['.git', 'node_modules', '*.log']);
  expect(() => parseExcludes(Array.from({ length: 101 }, (_, i) => `p${i}`).join('\n'))).toThrow(
    'Invalid exclude',
  );
});
