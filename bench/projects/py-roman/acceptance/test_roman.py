import pytest
from roman import from_roman, to_roman


def test_to_roman():
    assert to_roman(1) == "I"
    assert to_roman(4) == "IV"
    assert to_roman(9) == "IX"
    assert to_roman(1994) == "MCMXCIV"
    assert to_roman(3999) == "MMMCMXCIX"


def test_from_roman():
    assert from_roman("MMXXIV") == 2024
    assert from_roman("XLII") == 42
    assert from_roman("CDXLIV") == 444


def test_round_trip():
    for n in range(1, 400):
        assert from_roman(to_roman(n)) == n


def test_invalid():
    with pytest.raises(ValueError):
        to_roman(0)
    with pytest.raises(ValueError):
        to_roman(4000)
    with pytest.raises(ValueError):
        from_roman("")
    with pytest.raises(ValueError):
        from_roman("ABC")
