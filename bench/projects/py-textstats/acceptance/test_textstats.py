from textstats import char_frequency, most_common_word, word_count


def test_word_count_any_whitespace():
    assert word_count("hello  big world") == 3
    assert word_count("one\ttwo\nthree ") == 3


def test_word_count_empty():
    assert word_count("") == 0
    assert word_count("   ") == 0


def test_char_frequency_case_insensitive_letters_only():
    assert char_frequency("Aa b!") == {"a": 2, "b": 1}
    assert char_frequency("123 ...") == {}


def test_most_common_word():
    assert most_common_word("The cat and the hat.") == "the"
    assert most_common_word("Dog! dog? cat") == "dog"


def test_most_common_word_tie_and_empty():
    assert most_common_word("b a") == "b"
    assert most_common_word("") is None
