import pytest
from stack import Stack


def test_push_pop_is_lifo():
    s = Stack()
    s.push(1)
    s.push(2)
    s.push(3)
    assert s.pop() == 3
    assert s.pop() == 2
    assert s.size() == 1


def test_peek_does_not_remove():
    s = Stack()
    s.push("a")
    assert s.peek() == "a"
    assert s.size() == 1
    assert len(s) == 1


def test_empty_stack():
    s = Stack()
    assert s.is_empty()
    assert s.size() == 0
    with pytest.raises(IndexError):
        s.pop()
    with pytest.raises(IndexError):
        s.peek()
