const { test } = require('node:test');
const assert = require('node:assert');
const { spawnSync } = require('child_process');
const { secondsToDuration } = require('../seconds-to-duration.js');

test('should convert seconds to a human-readable duration in days, hours, minutes, and seconds, omitting units that are zero', () => {
  const result = spawnSync(process.execPath, ['seconds-to-duration.js', '3660'], { encoding: 'utf8' });
  assert.strictEqual(result.stdout, "1 day 1 hour 1 minute 1 second\n");
});

test('should convert seconds to a human-readable duration in days, hours, minutes, and seconds, omitting units that are zero', () => {
  const result = spawnSync(process.execPath, ['seconds-to-duration.js', '3600'], { encoding: 'utf8' });
  assert.strictEqual(result.stdout, "1 hour 1 minute 0 second\n");
});

test('should convert seconds to a human-readable duration in days, hours, minutes, and seconds, omitting units that are zero', () => {
  const result = spawnSync(process.execPath, ['seconds-to-duration.js', '60'], { encoding: 'utf8' });
  assert.strictEqual(result.stdout, "1 minute 0 second\n");
});

test('should convert seconds to a human-readable duration in days, hours, minutes, and seconds, omitting units that are zero', () => {
  const result = spawnSync(process.execPath, ['seconds-to-duration.js', '1'], { encoding: 'utf8' });
  assert.strictEqual(result.stdout, "1 second\n");
});

test('should throw an error for negative input', () => {
  try {
    spawnSync(process.execPath, ['seconds-to-duration.js', '-1'], { encoding: 'utf8' });
  } catch (error) {
    assert.strictEqual(error.message, 'Input must be a non-negative number');
  }
});

test('should throw an error for non-numeric input', () => {
  try {
    spawnSync(process.execPath, ['seconds-to-duration.js', 'abc'], { encoding: 'utf8' });
  } catch (error) {
    assert.strictEqual(error.message, 'Input must be a non-negative number');
  }
});
