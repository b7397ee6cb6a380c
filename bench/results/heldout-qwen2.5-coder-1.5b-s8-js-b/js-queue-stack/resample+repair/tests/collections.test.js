const { test } = require('node:test');
const { Queue, Stack } = require('../collections.js');
const assert = require('node:assert');

test('Test Queue', () => {
  // Test Queue
  const queue = new Queue(3);
  assert(queue.enqueue(1) === undefined, 'Queue should not throw an error when enqueueing');
  assert(queue.enqueue(2) === undefined, 'Queue should not throw an error when enqueueing');
  assert(queue.enqueue(3) === undefined, 'Queue should not throw an error when enqueueing');
  assert(queue.enqueue(4) === 'Queue is full', 'Queue should throw an error when enqueueing when full');

  assert(queue.dequeue() === 1, 'Queue should dequeue the first item');
  assert(queue.dequeue() === 2, 'Queue should dequeue the second item');
  assert(queue.dequeue() === 3, 'Queue should dequeue the third item');
  assert(queue.dequeue() === 'Queue is empty', 'Queue should throw an error when dequeuing when empty');

  assert(queue.peek() === 4, 'Queue should peek the last item without removing it');
  assert(queue.size() === 1, 'Queue should have one item left after dequeueing');

  assert(queue.isEmpty() === false, 'Queue should not be empty after dequeuing');
});

test('Test Stack', () => {
  // Test Stack
  const stack = new Stack();
  assert(stack.push(1) === undefined, 'Stack should not throw an error when pushing');
  assert(stack.push(2) === undefined, 'Stack should not throw an error when pushing');
  assert(stack.push(3) === undefined, 'Stack should not throw an error when pushing');
  assert(stack.push(4) === 'Stack is full', 'Stack should throw an error when pushing when full');

  assert(stack.pop() === 4, 'Stack should pop the last item');
  assert(stack.pop() === 3, 'Stack should pop the second item');
  assert(stack.pop() === 2, 'Stack should pop the first item');
  assert(stack.pop() === 'Stack is empty', 'Stack should throw an error when popping when empty');

  assert(stack.peek() === 1, 'Stack should peek the last item without removing it');
  assert(stack.size() === 1, 'Stack should have one item left after popping');

  assert(stack.isEmpty() === false, 'Stack should not be empty after popping');
});
