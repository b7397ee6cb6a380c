const test = require('node:test');
const assert = require('node:assert/strict');
const { fizzbuzz, fizzbuzzValue } = require('../fizzbuzz.js');

test('fizzbuzzValue', () => {
  assert.equal(fizzbuzzValue(9), 'Fizz');
  assert.equal(fizzbuzzValue(10), 'Buzz');
  assert.equal(fizzbuzzValue(30), 'FizzBuzz');
  assert.equal(fizzbuzzValue(7), '7');
});

test('fizzbuzz', () => {
  assert.deepEqual(fizzbuzz(5), ['1', '2', 'Fizz', '4', 'Buzz']);
  assert.equal(fizzbuzz(15)[14], 'FizzBuzz');
  assert.deepEqual(fizzbuzz(0), []);
});
