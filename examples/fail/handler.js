'use strict';

// fail: always fails. It logs a line to stderr and throws; the template writes the error to stderr
// and exits 1, so the watchdog answers 500 with X-Exit-Code: 1 (the body carries the stderr lines
// while combine_output is true).
module.exports = async () => {
  console.error('fail: about to fail on purpose');
  throw new Error('this function always fails');
};
