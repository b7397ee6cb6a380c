const test = require('node:test');
const assert = require('node:assert/strict');
const { transpose, multiply, identity } = require('../matrix.js');

test('transpose', () => {
  assert.deepEqual(transpose([[1, 2, 3], [4, 5, 6]]), [[1, 4], [2, 5], [3, 6]]);
  assert.deepEqual(transpose([[7]]), [[7]]);
  assert.deepEqual(transpose([[1, 2]]), [[1], [2]]);
  assert.deepEqual(transpose([]), []);
});

test('transpose rejects ragged rows', () => {
  assert.throws(() => transpose([[1, 2], [3]]), Error);
});

test('multiply', () => {
  assert.deepEqual(multiply([[1, 2], [3, 4]], [[5, 6], [7, 8]]), [[19, 22], [43, 50]]);
  assert.deepEqual(multiply([[1, 2, 3]], [[4], [5], [6]]), [[32]]);
  assert.deepEqual(multiply([[2], [3]], [[1, 10]]), [[2, 20], [3, 30]]);
});

test('multiply rejects incompatible, empty or ragged matrices', () => {
  assert.throws(() => multiply([[1, 2]], [[1, 2]]), Error);
  assert.throws(() => multiply([], [[1]]), Error);
  assert.throws(() => multiply([[1, 2], [3]], [[1], [2]]), Error);
});

test('identity', () => {
  assert.deepEqual(identity(1), [[1]]);
  assert.deepEqual(identity(3), [[1, 0, 0], [0, 1, 0], [0, 0, 1]]);
  const m = [[1, 2], [3, 4]];
  assert.deepEqual(multiply(m, identity(2)), m);
  assert.throws(() => identity(0), RangeError);
  assert.throws(() => identity(2.5), RangeError);
  assert.throws(() => identity(-1), RangeError);
});

test('arguments are not modified', () => {
  const a = [[1, 2], [3, 4]];
  const b = [[0, 1], [1, 0]];
  transpose(a);
  multiply(a, b);
  assert.deepEqual(a, [[1, 2], [3, 4]]);
  assert.deepEqual(b, [[0, 1], [1, 0]]);
  const t = transpose(a);
  t[0][0] = 99;
  assert.equal(a[0][0], 1);
});
