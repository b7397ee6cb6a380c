import pytest
from semver import compare_versions, max_version, parse_version


def test_parse_version():
    assert parse_version("1.2.3") == (1, 2, 3)
    assert parse_version("v10.0.7") == (10, 0, 7)
    assert parse_version("0.0.0") == (0, 0, 0)


@pytest.mark.parametrize("bad", ["", "1.2", "1.2.3.4", "1..3", "1.a.3", "-1.2.3", "1.2.3-beta"])
def test_parse_version_rejects(bad):
    with pytest.raises(ValueError):
        parse_version(bad)


def test_compare_is_numeric():
    assert compare_versions("1.10.0", "1.9.9") == 1
    assert compare_versions("1.2.3", "1.2.4") == -1
    assert compare_versions("2.0.0", "10.0.0") == -1
    assert compare_versions("v1.2.3", "1.2.3") == 0


def test_compare_invalid_raises():
    with pytest.raises(ValueError):
        compare_versions("1.2", "1.2.3")


def test_max_version_keeps_original_text():
    assert max_version(["1.2.3", "v1.10.0", "1.9.0"]) == "v1.10.0"
    assert max_version(["v2.0.0", "2.0.0"]) == "v2.0.0"
    assert max_version(["0.1.0"]) == "0.1.0"


def test_max_version_empty_raises():
    with pytest.raises(ValueError):
        max_version([])
