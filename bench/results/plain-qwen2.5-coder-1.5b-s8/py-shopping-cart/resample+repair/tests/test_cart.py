import pytest
from cart import ShoppingCart

def test_add():
    cart = ShoppingCart()
    cart.add("apple", 0.5, 3)
    assert cart.items == {"apple": 3}
    cart.add("banana", 0.3, 2)
    assert cart.items == {"apple": 3, "banana": 2}

def test_remove():
    cart = ShoppingCart()
    cart.add("apple", 0.5, 3)
    cart.remove("apple", 2)
    assert cart.items == {"apple": 1}
    with pytest.raises(ValueError):
        cart.remove("apple", 4)

def test_calculate_total():
    cart = ShoppingCart()
    cart.add("apple", 0.5, 3)
    cart.add("banana", 0.3, 2)
    assert cart.calculate_total() == 1.1
    assert cart.calculate_total(20) == 0.88

def test_negative_price():
    with pytest.raises(ValueError):
        cart = ShoppingCart()
        cart.add("apple", -0.5, 3)

def test_negative_quantity():
    with pytest.raises(ValueError):
        cart = ShoppingCart()
        cart.add("apple", 0.5, -3)

def test_discount_outside_0_to_100():
    with pytest.raises(ValueError):
        cart = ShoppingCart()
        cart.add("apple", 0.5, 3)
        cart.calculate_total(101)
