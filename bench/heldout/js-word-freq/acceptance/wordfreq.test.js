const test = require('node:test');
const assert = require('node:assert/strict');
const { wordFrequency, topWords } = require('../wordfreq.js');

test('wordFrequency counts case-insensitively', () => {
  assert.deepEqual(wordFrequency('The cat and the hat'), { the: 2, cat: 1, and: 1, hat: 1 });
});

test('punctuation and other characters separate words', () => {
  assert.deepEqual(wordFrequency("It's 2 o'clock, it's late!"), { it: 2, s: 2, '2': 1, o: 1, clock: 1, late: 1 });
  assert.deepEqual(wordFrequency('well-known\tWELL\nknown'), { well: 2, known: 2 });
});

test('no words gives an empty object', () => {
  assert.deepEqual(wordFrequency(''), {});
  assert.deepEqual(wordFrequency(' ... !? '), {});
});

test('topWords orders by count then alphabetically', () => {
  const text = 'b a c b a b d';
  assert.deepEqual(topWords(text, 3), [['b', 3], ['a', 2], ['c', 1]]);
  assert.deepEqual(topWords('pear apple fig', 2), [['apple', 1], ['fig', 1]]);
});

test('topWords returns at most n pairs', () => {
  assert.deepEqual(topWords('one two one', 10), [['one', 2], ['two', 1]]);
  assert.deepEqual(topWords('', 5), []);
});

test('topWords rejects a bad n', () => {
  assert.throws(() => topWords('a b', 0), RangeError);
  assert.throws(() => topWords('a b', -2), RangeError);
  assert.throws(() => topWords('a b', 1.5), RangeError);
});
