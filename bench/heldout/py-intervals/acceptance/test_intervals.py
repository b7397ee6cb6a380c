import pytest
from intervals import contains_point, merge_intervals, total_covered


def test_merges_overlapping_and_sorts():
    assert merge_intervals([(8, 10), (1, 3), (2, 6), (15, 18)]) == [(1, 6), (8, 10), (15, 18)]


def test_touching_intervals_merge():
    assert merge_intervals([(1, 4), (4, 5)]) == [(1, 5)]
    assert merge_intervals([(1, 2), (3, 4)]) == [(1, 2), (3, 4)]


def test_contained_and_empty_and_input_untouched():
    data = [(5, 7), (1, 10), (2, 3)]
    assert merge_intervals(data) == [(1, 10)]
    assert data == [(5, 7), (1, 10), (2, 3)]
    assert merge_intervals([]) == []
    assert merge_intervals([(3, 3)]) == [(3, 3)]


def test_invalid_interval_raises():
    with pytest.raises(ValueError):
        merge_intervals([(1, 2), (5, 4)])


def test_total_covered_counts_overlaps_once():
    assert total_covered([(1, 3), (2, 6), (8, 10)]) == 7
    assert total_covered([]) == 0
    assert total_covered([(0, 5), (5, 10)]) == 10


def test_contains_point_includes_ends():
    intervals = [(1, 3), (7, 9)]
    assert contains_point(intervals, 1)
    assert contains_point(intervals, 3)
    assert contains_point(intervals, 8)
    assert not contains_point(intervals, 5)
    assert not contains_point([], 0)
