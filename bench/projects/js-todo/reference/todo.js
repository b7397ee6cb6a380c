class TodoList {
  constructor() {
    this._items = [];
  }
  add(title) {
    if (!title) throw new Error('empty title');
    const id = this._items.length + 1;
    this._items.push({ id, title, done: false });
    return id;
  }
  complete(id) {
    const item = this._items.find((i) => i.id === id);
    if (!item) throw new Error(`unknown id ${id}`);
    item.done = true;
  }
  remaining() {
    return this._items.filter((i) => !i.done).map((i) => i.title);
  }
  items() {
    return this._items.map((i) => ({ ...i }));
  }
}
module.exports = { TodoList };
