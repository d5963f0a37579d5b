// core/mirror/content-type.ts: the Content-Type a mirrored file is stored with.
import { contentTypeOf } from '../../../core/mirror/content-type.js';

test('Content-Type: source as text, known binaries by type, the rest octet-stream', () => {
  expect(contentTypeOf('src/a.ts')).toBe('text/plain; charset=utf-8');
  expect(contentTypeOf('web/index.HTML')).toBe('text/plain; charset=utf-8');
  expect(contentTypeOf('Dockerfile')).toBe('text/plain; charset=utf-8');
  expect(contentTypeOf('.gitignore')).toBe('text/plain; charset=utf-8');
  expect(contentTypeOf('a/b.json')).toBe('application/json');
  expect(contentTypeOf('img/x.jpeg')).toBe('image/jpeg');
  expect(contentTypeOf('bin/tool')).toBe('application/octet-stream');
  expect(contentTypeOf('x.unknownext')).toBe('application/octet-stream');
});
