// Preloaded with `node --import` to run a process whose clock is off by R2_BACKUP_TEST_CLOCK_SKEW_MS
// (a runner with a wrong clock): Date.now() and `new Date()` answer the skewed time.
const skew = Number(process.env.R2_BACKUP_TEST_CLOCK_SKEW_MS ?? 0);
const RealDate = Date;
class SkewedDate extends RealDate {
  constructor(...args) {
    if (args.length === 0) super(RealDate.now() + skew);
    else super(...args);
  }
  static now() {
    return RealDate.now() + skew;
  }
}
globalThis.Date = SkewedDate;
