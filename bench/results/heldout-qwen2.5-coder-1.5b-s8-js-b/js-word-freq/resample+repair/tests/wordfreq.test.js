const test = require('node:test');
const assert = require('node:assert');
const { wordFrequency, topWords } = require('../wordfreq.js');

test('wordFrequency should return an empty object for an empty string', () => {
  const text = '';
  const expected = {};
  assert.deepStrictEqual(wordFrequency(text), expected);
});

test('wordFrequency should return the correct frequency for a simple text', () => {
  const text = "Hello world! Hello everyone. This is a test. This is a test.";
  const expected = {
    hello: 2,
    world: 1,
    everyone: 1,
    this: 2,
    is: 2,
    a: 2,
    test: 2
  };
  assert.deepStrictEqual(wordFrequency(text), expected);
});

test('wordFrequency should ignore punctuation', () => {
  const text = "Hello, world! Hello everyone. This is a test. This is a test.";
  const expected = {
    hello: 2,
    world: 1,
    everyone: 1,
    this: 2,
    is: 2,
    a: 2,
    test: 2
  };
  assert.deepStrictEqual(wordFrequency(text), expected);
});

test('wordFrequency should return an empty object for a text with no words', () => {
  const text = "1234567890";
  const expected = {};
  assert.deepStrictEqual(wordFrequency(text), expected);
});

test('topWords should return an empty array for an empty string', () => {
  const text = '';
  const n = 3;
  const expected = [];
  assert.deepStrictEqual(topWords(text, n), expected);
});

test('topWords should return the correct top words for a simple text', () => {
  const text = "Hello world! Hello everyone. This is a test. This is a test.";
  const n = 3;
  const expected = [ ['hello', 2], ['this', 2], ['is', 2] ];
  assert.deepStrictEqual(topWords(text, n), expected);
});

test('topWords should return the correct top words for a text with no words', () => {
  const text = "1234567890";
  const n = 3;
  const expected = [];
  assert.deepStrictEqual(topWords(text, n), expected);
});

test('topWords should throw a RangeError for a non-positive integer', () => {
  const text = "Hello, world! Hello everyone. This is a test. This is a test.";
  const n = -1;
  assert.throws(() => topWords(text, n), RangeError);
});

test('topWords should throw a RangeError for a non-integer', () => {
  const text = "Hello, world! Hello everyone. This is a test. This is a test.";
  const n = "a";
  assert.throws(() => topWords(text, n), RangeError);
});
