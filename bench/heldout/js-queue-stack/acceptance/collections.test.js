const test = require('node:test');
const assert = require('node:assert/strict');
const { Queue, Stack } = require('../collections.js');

test('queue is first in, first out', () => {
  const q = new Queue();
  assert.equal(q.isEmpty(), true);
  q.enqueue('a');
  q.enqueue('b');
  q.enqueue('c');
  assert.equal(q.size(), 3);
  assert.equal(q.peek(), 'a');
  assert.equal(q.dequeue(), 'a');
  assert.equal(q.dequeue(), 'b');
  assert.equal(q.size(), 1);
  assert.equal(q.isEmpty(), false);
});

test('empty queue throws on dequeue and peek', () => {
  const q = new Queue();
  assert.throws(() => q.dequeue(), Error);
  assert.throws(() => q.peek(), Error);
  q.enqueue(1);
  q.dequeue();
  assert.throws(() => q.dequeue(), Error);
});

test('queue capacity', () => {
  const q = new Queue(2);
  q.enqueue(1);
  q.enqueue(2);
  assert.throws(() => q.enqueue(3), RangeError);
  assert.equal(q.size(), 2);
  assert.equal(q.dequeue(), 1);
  q.enqueue(3);
  assert.equal(q.size(), 2);
});

test('invalid capacity throws RangeError', () => {
  assert.throws(() => new Queue(0), RangeError);
  assert.throws(() => new Queue(-1), RangeError);
  assert.throws(() => new Queue(1.5), RangeError);
});

test('stack is last in, first out', () => {
  const s = new Stack();
  assert.equal(s.isEmpty(), true);
  s.push(1);
  s.push(2);
  s.push(3);
  assert.equal(s.peek(), 3);
  assert.equal(s.size(), 3);
  assert.equal(s.pop(), 3);
  assert.equal(s.pop(), 2);
  assert.equal(s.size(), 1);
  assert.equal(s.isEmpty(), false);
});

test('empty stack throws on pop and peek', () => {
  const s = new Stack();
  assert.throws(() => s.pop(), Error);
  assert.throws(() => s.peek(), Error);
});
