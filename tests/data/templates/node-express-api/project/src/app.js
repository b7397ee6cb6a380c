'use strict';

const express = require('express');
const { createBookmarkService, ValidationError } = require('./service');

/** The Express app (not listening): the caller starts it or tests it. */
function createApp(service = createBookmarkService()) {
  const app = express();
  app.use(express.json());

  app.get('/bookmarks', (req, res) => {
    res.json(service.list());
  });

  app.post('/bookmarks', (req, res) => {
    try {
      res.status(201).json(service.add(req.body));
    } catch (err) {
      if (err instanceof ValidationError) {
        res.status(400).json({ error: err.message });
        return;
      }
      throw err;
    }
  });

  app.get('/bookmarks/:id', (req, res) => {
    const bookmark = service.get(req.params.id);
    if (!bookmark) {
      res.status(404).json({ error: `bookmark ${req.params.id} not found` });
      return;
    }
    res.json(bookmark);
  });

  app.delete('/bookmarks/:id', (req, res) => {
    if (!service.remove(req.params.id)) {
      res.status(404).json({ error: `bookmark ${req.params.id} not found` });
      return;
    }
    res.status(204).end();
  });

  app.use((req, res) => {
    res.status(404).json({ error: 'not found' });
  });

  // eslint-disable-next-line no-unused-vars
  app.use((err, req, res, next) => {
    if (err.type === 'entity.parse.failed') {
      res.status(400).json({ error: 'the body is not valid JSON' });
      return;
    }
    res.status(500).json({ error: 'internal error' });
  });

  return app;
}

module.exports = { createApp };
