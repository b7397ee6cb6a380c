import subprocess
import pytest
import sys
from word_counter import main

@pytest.fixture
def tmp_path(tmpdir):
    return tmpdir

def test_word_counter(tmp_path):
    # Create a small text file with some words
    with open(tmp_path / 'input.txt', 'w') as file:
        file.write("hello world hello python world python python")

    # Run the word_counter program
    result = subprocess.run([sys.executable, "word_counter.py", str(tmp_path / 'input.txt')], capture_output=True, text=True)

    # Check the exit code
    assert result.returncode == 0

    # Check the output
    expected_output = """hello: 2
python: 3
world: 2
"""
    assert result.stdout == expected_output
