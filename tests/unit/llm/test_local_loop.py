"""The repetition-loop detector of the local provider."""

from __future__ import annotations

from atelier.llm.local import LOOP_WINDOW, is_looping


def test_a_repeated_line_pattern_is_a_loop() -> None:
    lines = ["def test_x():"]
    for i in range(LOOP_WINDOW // 2):
        lines += [f"    # Test case {i}: closer than the threshold",
                  f"    assert f([1.0, 2.8], {i / 10})"]
    assert is_looping(lines)
    assert not is_looping(lines[: LOOP_WINDOW - 1])  # too short to tell


def test_varied_code_and_blank_lines_are_not_a_loop() -> None:
    block = ["def test_add():", "    assert add(2, 3) == 5", "", "",
             "def test_empty():", "    assert add() == 0", "", "",
             "def test_negative():", "    with pytest.raises(ValueError):", "        add(-1)", ""]
    assert not is_looping(block * 8)  # three tests repeated: 7 shapes
