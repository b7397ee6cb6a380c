import pytest
from csvline import format_line, parse_line


def test_plain_fields_keep_spaces():
    assert parse_line("a,b,c") == ["a", "b", "c"]
    assert parse_line(" a , b") == [" a ", " b"]


def test_empty_line_and_empty_fields():
    assert parse_line("") == [""]
    assert parse_line("a,,b,") == ["a", "", "b", ""]


def test_quoted_fields():
    assert parse_line('"x,y",z') == ["x,y", "z"]
    assert parse_line('"say ""hi""",2') == ['say "hi"', "2"]
    assert parse_line('"",a') == ["", "a"]


def test_other_delimiter():
    assert parse_line('a;"b;c";d', delimiter=";") == ["a", "b;c", "d"]
    assert parse_line("a,b;c", delimiter=";") == ["a,b", "c"]


@pytest.mark.parametrize("bad", ['"abc', 'a,"b', '"ab"c,d'])
def test_malformed_lines_raise(bad):
    with pytest.raises(ValueError):
        parse_line(bad)


def test_bad_delimiter_raises():
    for delim in ("", ";;", '"'):
        with pytest.raises(ValueError):
            parse_line("a,b", delimiter=delim)


def test_format_line_quotes_only_when_needed():
    assert format_line(["a", "b c", ""]) == "a,b c,"
    assert format_line(["x,y", 'say "hi"']) == '"x,y","say ""hi"""'
    assert format_line(["a;b", "c,d"], delimiter=";") == '"a;b";c,d'


def test_round_trip():
    for fields in (["1", "two, three", 'q"uote', "", "line\nbreak"], [""], ["a"]):
        assert parse_line(format_line(fields)) == fields
