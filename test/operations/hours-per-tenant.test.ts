// STALE_AFTER_HOURS and ABANDONED_AFTER_HOURS: one number, or per tenant with "*" for the
// others; a broken value fails closed, naming the variable and the rule, never the value.
import { parseHoursPerTenant } from '../../worker/src/hours-per-tenant.js';
import { HttpError } from '../../worker/src/http.js';

const parse = (raw: string | undefined) => parseHoursPerTenant('STALE_AFTER_HOURS', raw, 48);

function refusal(raw: string): string {
  try {
    parse(raw);
  } catch (error) {
    if (error instanceof HttpError) return `${error.status} ${error.message}`;
    throw error;
  }
  return 'accepted';
}

test('unset or empty: the default for everyone', () => {
  expect(parse(undefined)('any')).toBe(48);
  expect(parse('  ')('any')).toBe(48);
});

test('one number for every tenant, fractions allowed', () => {
  expect(parse('12')('a')).toBe(12);
  expect(parse('0.5')('b')).toBe(0.5);
});

test('per tenant, "*" for the others, the default without "*"', () => {
  const hours = parse('{"*": 24, "nightly": 30}');
  expect(hours('nightly')).toBe(30);
  expect(hours('other')).toBe(24);
  expect(parse('{"nightly": 30}')('other')).toBe(48);
});

test.each(['0', '-1', 'soon', '{"a": "12"}', '{"a": 0}', '{"bad tenant!": 1}', '[1]', '{', '9000000'])(
  '%s is refused, naming the variable and not the value',
  (raw) => {
    const message = refusal(raw);
    expect(message).toMatch(/^500 Worker misconfigured: STALE_AFTER_HOURS /);
    if (raw.length > 2) expect(message).not.toContain(raw);
  },
);
