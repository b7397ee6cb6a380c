import pytest
from lru_cache import LRUCache


def test_put_and_get():
    cache = LRUCache(2)
    cache.put("a", 1)
    cache.put("b", 2)
    assert cache.get("a") == 1
    assert cache.get("b") == 2
    assert len(cache) == 2


def test_missing_key_gives_default_and_changes_nothing():
    cache = LRUCache(2)
    cache.put("a", 1)
    assert cache.get("zzz") is None
    assert cache.get("zzz", 42) == 42
    assert len(cache) == 1
    assert "zzz" not in cache


def test_evicts_least_recently_used():
    cache = LRUCache(2)
    cache.put("a", 1)
    cache.put("b", 2)
    cache.get("a")  # "b" is now the least recently used
    cache.put("c", 3)
    assert "b" not in cache
    assert cache.get("a") == 1
    assert cache.get("c") == 3
    assert len(cache) == 2


def test_put_existing_key_updates_without_evicting():
    cache = LRUCache(2)
    cache.put("a", 1)
    cache.put("b", 2)
    cache.put("a", 10)  # update: "a" becomes most recent, nothing evicted
    assert len(cache) == 2
    assert cache.get("a") == 10
    cache.put("c", 3)  # evicts "b"
    assert "b" not in cache and "a" in cache


def test_keys_order_and_contains_is_not_a_use():
    cache = LRUCache(3)
    cache.put(1, "x")
    cache.put(2, "y")
    cache.put(3, "z")
    assert cache.keys() == [1, 2, 3]
    assert 1 in cache  # not a use: 1 stays least recent
    assert cache.keys() == [1, 2, 3]
    cache.get(1)
    assert cache.keys() == [2, 3, 1]
    cache.put(4, "w")
    assert cache.keys() == [3, 1, 4]


def test_capacity_must_be_positive():
    with pytest.raises(ValueError):
        LRUCache(0)
    with pytest.raises(ValueError):
        LRUCache(-3)
    cache = LRUCache(1)
    cache.put("a", 1)
    cache.put("b", 2)
    assert cache.keys() == ["b"]
