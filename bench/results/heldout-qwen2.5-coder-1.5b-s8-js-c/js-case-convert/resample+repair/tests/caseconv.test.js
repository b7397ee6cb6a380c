const test = require('node:test');
const assert = require('node:assert');
const { splitWords, toCamelCase, toSnakeCase, toKebabCase } = require('../caseconv.js');

test('splitWords', () => {
  assert.deepStrictEqual(splitWords('hello world'), ['hello', 'world']);
  assert.deepStrictEqual(splitWords('hello world!'), ['hello', 'world!']);
  assert.deepStrictEqual(splitWords('hello world 123'), ['hello', 'world', '123']);
  assert.deepStrictEqual(splitWords('hello world_123'), ['hello', 'world_123']);
  assert.deepStrictEqual(splitWords('hello world-123'), ['hello', 'world-123']);
  assert.deepStrictEqual(splitWords('hello world!_123'), ['hello', 'world!_123']);
  assert.deepStrictEqual(splitWords('hello world!_123!'), ['hello', 'world!_123!']);
});
