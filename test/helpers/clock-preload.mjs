// Preloaded with `node --import` (see test-clock.ts) to set the clock of a process under test
// from outside, since production code reads no test variable:
// - R2_BACKUP_TEST_CLOCK_START (an ISO time): the clock reads that time at its first reading
//   and runs on from there (a run started then; two processes given the same time start in the
//   same second);
// - R2_BACKUP_TEST_CLOCK_SKEW_MS: the clock is that far off (a runner with a wrong clock).
// Date.now() and `new Date()` answer the test clock; everything else is the real Date.
const RealDate = Date;
const start = process.env.R2_BACKUP_TEST_CLOCK_START;
const startMs = start === undefined ? undefined : RealDate.parse(start);
if (Number.isNaN(startMs)) throw new Error(`R2_BACKUP_TEST_CLOCK_START is no time: ${start}`);
let offset = startMs === undefined ? Number(process.env.R2_BACKUP_TEST_CLOCK_SKEW_MS ?? 0) : undefined;

function now() {
  const real = RealDate.now();
  offset ??= startMs - real;
  return real + offset;
}

class TestClockDate extends RealDate {
  constructor(...args) {
    if (args.length === 0) super(now());
    else super(...args);
  }
  static now() {
    return now();
  }
}
globalThis.Date = TestClockDate;
