const test = require('node:test');
const assert = require('node:assert/strict');
const { mean, median, mode, range } = require('../stats.js');

test('mean', () => {
  assert.equal(mean([1, 2, 3, 4]), 2.5);
  assert.equal(mean([5]), 5);
});

test('median does not modify its input', () => {
  const input = [3, 1, 2];
  assert.equal(median(input), 2);
  assert.deepEqual(input, [3, 1, 2]);
  assert.equal(median([4, 1, 3, 2]), 2.5);
  assert.equal(median([10, 2, 33]), 10);
});

test('mode with ties', () => {
  assert.equal(mode([1, 2, 2, 3]), 2);
  assert.equal(mode([3, 3, 1, 1]), 1);
});

test('range', () => {
  assert.equal(range([4, 9, 1]), 8);
});

test('empty arrays throw', () => {
  for (const fn of [mean, median, mode, range]) {
    assert.throws(() => fn([]), Error);
  }
});
