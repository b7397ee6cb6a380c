// ### collections.js

class Queue {
  constructor(capacity) {
    if (typeof capacity !== 'number' || capacity <= 0) {
      throw new RangeError('Capacity must be a positive integer');
    }
    this.capacity = capacity;
    this.items = [];
  }

  enqueue(item) {
    if (this.items.length === this.capacity) {
      throw new RangeError('Queue is already full');
    }
    this.items.push(item);
  }

  dequeue() {
    if (this.isEmpty()) {
      throw new Error('Queue is empty');
    }
    return this.items.shift();
  }

  peek() {
    if (this.isEmpty()) {
      throw new Error('Queue is empty');
    }
    return this.items[0];
  }

  size() {
    return this.items.length;
  }

  isEmpty() {
    return this.items.length === 0;
  }
}

class Stack {
  constructor() {
    this.items = [];
  }

  push(item) {
    this.items.push(item);
  }

  pop() {
    if (this.isEmpty()) {
      throw new Error('Stack is empty');
    }
    return this.items.pop();
  }

  peek() {
    if (this.isEmpty()) {
      throw new Error('Stack is empty');
    }
    return this.items[this.items.length - 1];
  }

  size() {
    return this.items.length;
  }

  isEmpty() {
    return this.items.length === 0;
  }
}

module.exports = { Queue, Stack };
