const test = require('node:test');
const assert = require('node:assert/strict');
const { capitalize, reverse, isPalindrome, countVowels } = require('../strings.js');

test('capitalize', () => {
  assert.equal(capitalize('hello'), 'Hello');
  assert.equal(capitalize('hELLO'), 'HELLO');
  assert.equal(capitalize(''), '');
});

test('reverse', () => {
  assert.equal(reverse('abc'), 'cba');
  assert.equal(reverse(''), '');
});

test('isPalindrome', () => {
  assert.equal(isPalindrome('A man, a plan, a canal: Panama'), true);
  assert.equal(isPalindrome('racecar'), true);
  assert.equal(isPalindrome('hello'), false);
});

test('countVowels', () => {
  assert.equal(countVowels('Education'), 5);
  assert.equal(countVowels('xyz'), 0);
});
