class Queue {
  constructor(capacity) {
    if (capacity !== undefined && !(Number.isInteger(capacity) && capacity > 0)) {
      throw new RangeError('capacity must be a positive integer');
    }
    this.capacity = capacity === undefined ? Infinity : capacity;
    this.items = [];
  }
  enqueue(item) {
    if (this.items.length >= this.capacity) throw new RangeError('queue is full');
    this.items.push(item);
  }
  dequeue() {
    if (this.items.length === 0) throw new Error('queue is empty');
    return this.items.shift();
  }
  peek() {
    if (this.items.length === 0) throw new Error('queue is empty');
    return this.items[0];
  }
  size() { return this.items.length; }
  isEmpty() { return this.items.length === 0; }
}

class Stack {
  constructor() { this.items = []; }
  push(item) { this.items.push(item); }
  pop() {
    if (this.items.length === 0) throw new Error('stack is empty');
    return this.items.pop();
  }
  peek() {
    if (this.items.length === 0) throw new Error('stack is empty');
    return this.items[this.items.length - 1];
  }
  size() { return this.items.length; }
  isEmpty() { return this.items.length === 0; }
}

module.exports = { Queue, Stack };
