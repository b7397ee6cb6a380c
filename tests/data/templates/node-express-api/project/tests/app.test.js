'use strict';

const { describe, it, before, after } = require('node:test');
const assert = require('node:assert/strict');
const { once } = require('node:events');
const { createApp } = require('../src/app');

describe('the bookmarks API over HTTP', () => {
  let server;
  let base;

  before(async () => {
    server = createApp().listen(0, '127.0.0.1');
    await once(server, 'listening');
    base = `http://127.0.0.1:${server.address().port}`;
  });

  after(() => {
    server.closeAllConnections();
    server.close();
  });

  async function send(method, path, body) {
    const response = await fetch(base + path, {
      method,
      headers: body === undefined ? {} : { 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await response.text();
    return { status: response.status, body: text ? JSON.parse(text) : null };
  }

  it('creates a bookmark, then lists and gets it', async () => {
    const created = await send('POST', '/bookmarks', { url: 'https://nodejs.org', title: 'Node.js' });
    assert.equal(created.status, 201);
    assert.deepEqual(created.body, { id: 1, url: 'https://nodejs.org', title: 'Node.js' });
    assert.deepEqual((await send('GET', '/bookmarks')).body, [created.body]);
    assert.deepEqual(await send('GET', '/bookmarks/1'), { status: 200, body: created.body });
  });

  it('answers 400 with a JSON error for an invalid bookmark', async () => {
    const response = await send('POST', '/bookmarks', { url: 'nope', title: 'x' });
    assert.equal(response.status, 400);
    assert.match(response.body.error, /url/);
  });

  it('answers 400 with a JSON error for a body that is not JSON', async () => {
    const response = await fetch(`${base}/bookmarks`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{not json',
    });
    assert.equal(response.status, 400);
    assert.ok((await response.json()).error);
  });

  it('answers 404 with a JSON error for an unknown id', async () => {
    assert.deepEqual(await send('GET', '/bookmarks/99'),
      { status: 404, body: { error: 'bookmark 99 not found' } });
  });

  it('deletes a bookmark', async () => {
    const { body } = await send('POST', '/bookmarks', { url: 'http://example.com', title: 'Example' });
    assert.equal((await send('DELETE', `/bookmarks/${body.id}`)).status, 204);
    assert.equal((await send('GET', `/bookmarks/${body.id}`)).status, 404);
  });
});
