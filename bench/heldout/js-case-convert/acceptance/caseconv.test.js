const test = require('node:test');
const assert = require('node:assert/strict');
const { splitWords, toCamelCase, toSnakeCase, toKebabCase } = require('../caseconv.js');

test('splitWords on separators and case changes', () => {
  assert.deepEqual(splitWords('hello world'), ['hello', 'world']);
  assert.deepEqual(splitWords('__user--ID  number_'), ['user', 'id', 'number']);
  assert.deepEqual(splitWords('parseHttpResponse'), ['parse', 'http', 'response']);
  assert.deepEqual(splitWords('version2Update'), ['version2', 'update']);
  assert.deepEqual(splitWords('Hello, World!'), ['hello', 'world']);
  assert.deepEqual(splitWords(' -_ '), []);
});

test('toCamelCase', () => {
  assert.equal(toCamelCase('hello world'), 'helloWorld');
  assert.equal(toCamelCase('user_id_number'), 'userIdNumber');
  assert.equal(toCamelCase('Background-COLOR'), 'backgroundColor');
  assert.equal(toCamelCase(''), '');
});

test('toSnakeCase', () => {
  assert.equal(toSnakeCase('parseHttpResponse'), 'parse_http_response');
  assert.equal(toSnakeCase('Hello World'), 'hello_world');
  assert.equal(toSnakeCase('already_snake'), 'already_snake');
  assert.equal(toSnakeCase('---'), '');
});

test('toKebabCase', () => {
  assert.equal(toKebabCase('backgroundColor'), 'background-color');
  assert.equal(toKebabCase('max_value  limit'), 'max-value-limit');
  assert.equal(toKebabCase(''), '');
});

test('round trips between styles', () => {
  assert.equal(toCamelCase(toSnakeCase('someLongName')), 'someLongName');
  assert.equal(toKebabCase(toCamelCase('one-two-three')), 'one-two-three');
});

test('non-string arguments throw TypeError', () => {
  for (const fn of [splitWords, toCamelCase, toSnakeCase, toKebabCase]) {
    assert.throws(() => fn(42), TypeError);
    assert.throws(() => fn(null), TypeError);
    assert.throws(() => fn(undefined), TypeError);
  }
});
