const { test } = require('node:test');
const assert = require('node:assert');
const { addTask, markAsDone, listOpenTasks, clearFinishedTasks } = require('../todo.js');
const { spawnSync } = require('child_process');
const fs = require('fs');
const path = require('path');

test('addTask with empty title throws', () => {
  try {
    addTask('');
    assert.fail('Expected an error to be thrown');
  } catch (error) {
    assert.equal(error.message, 'Task title cannot be empty');
  }
});

test('markAsDone with invalid index throws', () => {
  try {
    markAsDone(10);
    assert.fail('Expected an error to be thrown');
  } catch (error) {
    assert.equal(error.message, 'Invalid task index');
  }
});

test('listOpenTasks returns the correct tasks', () => {
  addTask('Buy groceries');
  addTask('Read a book');
  addTask('Finish the project');
  assert.deepEqual(listOpenTasks(), ['Buy groceries', 'Read a book']);
});

test('clearFinishedTasks removes the finished tasks', () => {
  addTask('Buy groceries');
  addTask('Read a book');
  addTask('Finish the project');
  markAsDone(1);
  clearFinishedTasks();
  assert.deepEqual(listOpenTasks(), ['Buy groceries']);
});

test('addTask with a title adds the task to the list', () => {
  addTask('Buy groceries');
  assert.deepEqual(todoList, ['Buy groceries']);
});

test('markAsDone with a valid index marks the task as done', () => {
  addTask('Buy groceries');
  addTask('Read a book');
  addTask('Finish the project');
  markAsDone(1);
  assert.equal(todoList[1], 'Done: Read a book');
});

test('listOpenTasks returns the correct tasks after marking as done', () => {
  addTask('Buy groceries');
  addTask('Read a book');
  addTask('Finish the project');
  markAsDone(1);
  assert.deepEqual(listOpenTasks(), ['Buy groceries', 'Finish the project']);
});

