from balanced_brackets import balanced_brackets

def test_balanced_brackets_1():
    assert balanced_brackets("()") == True


def test_balanced_brackets_2():
    assert balanced_brackets("[]") == True


def test_balanced_brackets_3():
    assert balanced_brackets("{}") == True


def test_balanced_brackets_4():
    assert balanced_brackets("()[]{}") == True


def test_balanced_brackets_5():
    assert balanced_brackets("(]") == False


def test_balanced_brackets_6():
    assert balanced_brackets("([)]") == False


def test_balanced_brackets_7():
    assert balanced_brackets("{[()]}") == True


def test_balanced_brackets_8():
    assert balanced_brackets("{{[[(())]]}}") == True


