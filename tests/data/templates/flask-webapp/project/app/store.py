"""The to-dos, kept in memory for the life of one app."""

from dataclasses import dataclass


@dataclass
class Todo:
    id: int
    title: str
    done: bool = False


class TodoStore:
    """To-dos by id, in the order they were added."""

    def __init__(self) -> None:
        self._todos: dict[int, Todo] = {}
        self._next_id = 1

    def all(self) -> list[Todo]:
        return list(self._todos.values())

    def add(self, title: str) -> Todo:
        todo = Todo(id=self._next_id, title=title)
        self._todos[todo.id] = todo
        self._next_id += 1
        return todo

    def mark_done(self, todo_id: int) -> Todo | None:
        """The to-do, now done; None when there is no such to-do."""
        todo = self._todos.get(todo_id)
        if todo is not None:
            todo.done = True
        return todo
