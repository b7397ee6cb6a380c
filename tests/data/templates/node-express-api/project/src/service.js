'use strict';

/** Bad input from a client: the HTTP layer answers 400 with its message. */
class ValidationError extends Error {
  constructor(message) {
    super(message);
    this.name = 'ValidationError';
  }
}

function isHttpUrl(value) {
  if (typeof value !== 'string') {
    return false;
  }
  try {
    const url = new URL(value);
    return url.protocol === 'http:' || url.protocol === 'https:';
  } catch {
    return false;
  }
}

/** An in-memory store of bookmarks; every call to it starts empty. */
function createBookmarkService() {
  const bookmarks = new Map();
  let nextId = 1;

  function add(input) {
    const { url, title } = input || {};
    if (!isHttpUrl(url)) {
      throw new ValidationError('url must be an http or https URL');
    }
    if (typeof title !== 'string' || title.trim() === '') {
      throw new ValidationError('title must not be empty');
    }
    const bookmark = { id: nextId, url, title: title.trim() };
    nextId += 1;
    bookmarks.set(bookmark.id, bookmark);
    return bookmark;
  }

  function list() {
    return [...bookmarks.values()];
  }

  function get(id) {
    return bookmarks.get(Number(id)) || null;
  }

  function remove(id) {
    return bookmarks.delete(Number(id));
  }

  return { add, list, get, remove };
}

module.exports = { createBookmarkService, isHttpUrl, ValidationError };
