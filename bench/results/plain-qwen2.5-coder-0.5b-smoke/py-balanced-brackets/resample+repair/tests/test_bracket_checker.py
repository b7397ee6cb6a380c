from bracket_checker import is_balanced, is_properly_nested
import pytest

def test_is_balanced_1():
    assert is_balanced("()") == True


def test_is_balanced_2():
    assert is_balanced("(()())") == True


def test_is_balanced_3():
    assert is_balanced(")(") == False


def test_is_balanced_4():
    assert is_balanced("{}}") == False


def test_is_balanced_5():
    assert is_properly_nested("()") == True


def test_is_balanced_6():
    assert is_properly_nested("(()())") == True


def test_is_balanced_7():
    assert is_properly_nested(")(") == False


def test_is_balanced_8():
    assert is_properly_nested("{}}") == False

if __name__ == "__main__":
    pytest.main()
