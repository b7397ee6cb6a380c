"""The repetition-loop detector of the local provider."""

from __future__ import annotations

from atelier.llm.local import LOOP_TOKENS, is_looping


def test_a_repeated_line_pattern_is_a_loop() -> None:
    lines = [("def test_x():", 5)]
    for i in range(LOOP_TOKENS // 40 + 1):
        lines += [(f"    # Test case {i}: closer than the threshold", 12),
                  (f"    assert f([1.0, 2.8, 3.0, 4.0], {i / 10})", 28)]
    assert is_looping(lines)
    assert not is_looping(lines[:6])  # too few tokens to tell


def test_a_short_table_of_same_shaped_lines_is_not_a_loop() -> None:
    table = [(f"    ({value}, 'M'),", 8) for value in range(13)]  # a roman numeral map
    assert not is_looping([("NUMERALS = [", 4), *table])


def test_varied_code_is_not_a_loop() -> None:
    block = [("def test_add():", 5), ("    assert add(2, 3) == 5", 12), ("", 1),
             ("def test_empty():", 5), ("    assert add() == 0", 9), ("", 1),
             ("def test_negative():", 5), ("    with pytest.raises(ValueError):", 9),
             ("        add(-1)", 6), ("", 1)]
    assert not is_looping(block * 8)


def test_long_repeated_lines_are_a_loop_once_there_are_enough_of_them() -> None:
    line = "    assert not has_close_elements([1.0, 2.0, 3.0, 4.0, 5.0, 2.0], 0.{})"
    lines = [(line.format(i), 43) for i in range(10)]
    assert not is_looping(lines[:5])  # 215 tokens, but only 5 lines
    assert is_looping(lines)


def test_a_loop_whose_lists_grow_is_still_a_loop() -> None:
    lines = [(f"    assert below_zero([10, -5, -2, -3{', 0' * i}]) == False", 20 + 3 * i)
             for i in range(8)]
    assert is_looping(lines)


IS_SORTED_EXAMPLES = [
    "is_sorted([5]) ➞ True", "is_sorted([1, 2, 3, 4, 5]) ➞ True",
    "is_sorted([1, 3, 2, 4, 5]) ➞ False", "is_sorted([1, 2, 3, 4, 5, 6]) ➞ True",
    "is_sorted([1, 2, 3, 4, 5, 6, 7]) ➞ True", "is_sorted([1, 3, 2, 4, 5, 6, 7]) ➞ False",
    "is_sorted([1, 2, 2, 3, 3, 4]) ➞ True", "is_sorted([1, 2, 2, 2, 3, 4]) ➞ False",
]


def test_a_docstring_copied_from_the_prompt_is_not_a_loop() -> None:
    # HumanEval/126: the reply echoes the prompt's eight examples before the body.
    prompt = frozenset(IS_SORTED_EXAMPLES)
    lines = [("    Examples", 2), *((f"    {line}", 24) for line in IS_SORTED_EXAMPLES)]
    assert is_looping(lines)  # the shape alone looks like a loop …
    assert not is_looping(lines, prompt)  # … but every line is the prompt's own


def test_a_loop_after_the_echoed_prompt_lines_is_still_a_loop() -> None:
    prompt = frozenset(IS_SORTED_EXAMPLES)
    echoed = [(f"    {line}", 24) for line in IS_SORTED_EXAMPLES]
    invented = [(f"    assert is_sorted([{', '.join(['1'] * (i + 2))}]) == False", 24)
                for i in range(8)]
    assert is_looping(echoed + invented, prompt)


def test_a_prompt_line_written_over_and_over_is_a_loop() -> None:
    line = "    is_sorted([1, 2, 2, 3, 3, 4]) ➞ True"
    assert is_looping([(line, 24)] * 8, frozenset({line.strip()}))
