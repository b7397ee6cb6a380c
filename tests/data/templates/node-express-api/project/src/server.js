'use strict';

const { createApp } = require('./app');

const port = Number(process.env.PORT) || 3000;

if (require.main === module) {
  createApp().listen(port, () => {
    console.log(`bookmarks API listening on http://localhost:${port}`);
  });
}
