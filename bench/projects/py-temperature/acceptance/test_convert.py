import math

import pytest
from convert import (
    celsius_to_fahrenheit,
    celsius_to_kelvin,
    fahrenheit_to_celsius,
    kelvin_to_celsius,
)


def test_fahrenheit_round_trip():
    assert math.isclose(celsius_to_fahrenheit(100), 212.0)
    assert math.isclose(celsius_to_fahrenheit(-40), -40.0)
    assert math.isclose(fahrenheit_to_celsius(32), 0.0, abs_tol=1e-9)
    assert math.isclose(fahrenheit_to_celsius(212), 100.0)


def test_kelvin():
    assert math.isclose(celsius_to_kelvin(0), 273.15)
    assert math.isclose(kelvin_to_celsius(273.15), 0.0, abs_tol=1e-9)


def test_invalid_kelvin():
    with pytest.raises(ValueError):
        kelvin_to_celsius(-1)
    with pytest.raises(ValueError):
        celsius_to_kelvin(-300)
