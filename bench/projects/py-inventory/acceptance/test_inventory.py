import pytest
from inventory import Inventory
from report import format_report


def test_add_and_quantity():
    inv = Inventory()
    inv.add_item("apple", 3)
    inv.add_item("apple", 2)
    inv.add_item("pear", 1)
    assert inv.quantity("apple") == 5
    assert inv.quantity("kiwi") == 0
    assert inv.total_items() == 6
    assert inv.names() == ["apple", "pear"]


def test_remove():
    inv = Inventory()
    inv.add_item("apple", 3)
    inv.remove_item("apple", 3)
    assert inv.quantity("apple") == 0
    assert inv.names() == []
    with pytest.raises(KeyError):
        inv.remove_item("ghost", 1)
    inv.add_item("pear", 1)
    with pytest.raises(ValueError):
        inv.remove_item("pear", 2)


def test_invalid_quantity():
    with pytest.raises(ValueError):
        Inventory().add_item("apple", 0)


def test_report():
    inv = Inventory()
    inv.add_item("pear", 2)
    inv.add_item("apple", 1)
    assert format_report(inv) == "apple: 1\npear: 2\ntotal: 3"
    assert format_report(Inventory()) == "total: 0"
