from wordcount.core import Counts, count


def test_count_of_a_short_text():
    assert count("one two\nthree\n") == Counts(lines=2, words=3, chars=14)


def test_a_last_line_without_newline_is_not_counted_as_a_line():
    assert count("no newline") == Counts(lines=0, words=2, chars=10)


def test_empty_text_counts_nothing():
    assert count("") == Counts()


def test_runs_of_whitespace_separate_one_word():
    assert count("a  \t b\n\n").words == 2


def test_counts_add_up():
    assert Counts(1, 2, 3) + Counts(10, 20, 30) == Counts(11, 22, 33)
