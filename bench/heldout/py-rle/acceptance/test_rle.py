import pytest
from rle import decode, encode


def test_encode_runs():
    assert encode("aaabccdddd") == "3a1b2c4d"
    assert encode("x") == "1x"
    assert encode("") == ""


def test_encode_long_runs_and_other_characters():
    assert encode("z" * 12) == "12z"
    assert encode("  !!") == "2 2!"
    assert encode("aAa") == "1a1A1a"


def test_encode_rejects_digits():
    with pytest.raises(ValueError):
        encode("ab1")


def test_decode():
    assert decode("3a1b2c4d") == "aaabccdddd"
    assert decode("12z") == "z" * 12
    assert decode("") == ""


@pytest.mark.parametrize("bad", ["a", "3", "3a2", "0a", "2ab"])
def test_decode_rejects_malformed(bad):
    with pytest.raises(ValueError):
        decode(bad)


def test_round_trip():
    for text in ["hello world", "mississippi", "  tabs\t\tand spaces  ", "é é"]:
        assert decode(encode(text)) == text
