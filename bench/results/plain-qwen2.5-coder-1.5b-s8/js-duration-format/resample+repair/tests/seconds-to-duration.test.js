const test = require('node:test');
const assert = require('node:assert');
const mod = require('../seconds-to-duration.js');

test('should throw an error for negative input', () => {
  try {
    mod.secondsToDuration(-1);
    assert.fail('Expected an error to be thrown');
  } catch (error) {
    assert.equal(error.message, 'Input must be a non-negative number');
  }
});

test('should throw an error for non-numeric input', () => {
  try {
    mod.secondsToDuration('abc');
    assert.fail('Expected an error to be thrown');
  } catch (error) {
    assert.equal(error.message, 'Input must be a non-negative number');
  }
});

test('should return "1 day 1 hour 1 minute 1 second" for 3660 seconds', () => {
  assert.equal(mod.secondsToDuration(3660), '1 day 1 hour 1 minute 1 second');
});

test('should return "1 hour 1 minute 0 second" for 3600 seconds', () => {
  assert.equal(mod.secondsToDuration(3600), '1 hour 1 minute 0 second');
});

test('should return "1 minute 0 second" for 60 seconds', () => {
  assert.equal(mod.secondsToDuration(60), '1 minute 0 second');
});

test('should return "1 second" for 1 second', () => {
  assert.equal(mod.secondsToDuration(1), '1 second');
});

test('should return an empty string for 0 seconds', () => {
  assert.equal(mod.secondsToDuration(0), '');
});
