let todoList = [];

function addTask(title) {
  if (title === '') {
    throw new Error('Task title cannot be empty');
  }
  todoList.push(title);
}

function markAsDone(index) {
  if (index < 0 || index >= todoList.length) {
    throw new Error('Invalid task index');
  }
  todoList[index] = 'Done: ' + todoList[index];
}

function listOpenTasks() {
  return todoList.filter(task => !task.startsWith('Done: '));
}

function clearFinishedTasks() {
  todoList = todoList.filter(task => !task.startsWith('Done: '));
}

if (require.main === module) {
  // Example usage
  addTask('Buy groceries');
  addTask('Read a book');
  addTask('Finish the project');
  console.log(listOpenTasks()); // Output: ['Buy groceries', 'Read a book']
  markAsDone(1);
  console.log(listOpenTasks()); // Output: ['Buy groceries', 'Finish the project']
  clearFinishedTasks();
  console.log(listOpenTasks()); // Output: ['Buy groceries']
}

module.exports = { addTask, markAsDone, listOpenTasks, clearFinishedTasks };
