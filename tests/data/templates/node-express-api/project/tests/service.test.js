'use strict';

const test = require('node:test');
const assert = require('node:assert/strict');
const { createBookmarkService, isHttpUrl, ValidationError } = require('../src/service');

test('add gives each bookmark the next id', () => {
  const service = createBookmarkService();
  const first = service.add({ url: 'https://nodejs.org', title: 'Node.js' });
  const second = service.add({ url: 'http://example.com', title: ' Example ' });
  assert.deepEqual(first, { id: 1, url: 'https://nodejs.org', title: 'Node.js' });
  assert.deepEqual(second, { id: 2, url: 'http://example.com', title: 'Example' });
  assert.deepEqual(service.list(), [first, second]);
});

test('add refuses a url that is not http or https', () => {
  const service = createBookmarkService();
  for (const url of ['ftp://example.com', 'not a url', '', undefined]) {
    assert.throws(() => service.add({ url, title: 'x' }), ValidationError);
  }
  assert.deepEqual(service.list(), []);
});

test('add refuses an empty title', () => {
  const service = createBookmarkService();
  assert.throws(() => service.add({ url: 'https://example.com', title: '  ' }),
    /title must not be empty/);
});

test('get and remove find bookmarks by id, given as a number or a string', () => {
  const service = createBookmarkService();
  const bookmark = service.add({ url: 'https://example.com', title: 'Example' });
  assert.deepEqual(service.get('1'), bookmark);
  assert.equal(service.get(2), null);
  assert.equal(service.remove(1), true);
  assert.equal(service.remove(1), false);
  assert.equal(service.get(1), null);
});

test('isHttpUrl', () => {
  assert.equal(isHttpUrl('https://example.com/a?b=c'), true);
  assert.equal(isHttpUrl('mailto:someone@example.com'), false);
  assert.equal(isHttpUrl(42), false);
});
