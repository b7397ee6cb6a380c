const test = require('node:test');
const assert = require('node:assert/strict');
const { TodoList } = require('../todo.js');
const { formatList } = require('../format.js');

test('add returns increasing ids', () => {
  const list = new TodoList();
  assert.equal(list.add('milk'), 1);
  assert.equal(list.add('eggs'), 2);
  assert.deepEqual(list.remaining(), ['milk', 'eggs']);
});

test('complete and remaining', () => {
  const list = new TodoList();
  list.add('milk');
  const eggs = list.add('eggs');
  list.complete(eggs);
  assert.deepEqual(list.remaining(), ['milk']);
  assert.deepEqual(list.items(), [
    { id: 1, title: 'milk', done: false },
    { id: 2, title: 'eggs', done: true },
  ]);
});

test('errors', () => {
  const list = new TodoList();
  assert.throws(() => list.add(''), Error);
  assert.throws(() => list.complete(42), Error);
});

test('formatList', () => {
  const list = new TodoList();
  assert.equal(formatList(list), '');
  list.add('milk');
  list.add('eggs');
  list.complete(1);
  assert.equal(formatList(list), '[x] milk\n[ ] eggs');
});
