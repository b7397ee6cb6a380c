import io

from wordcount.cli import main


def test_one_file_prints_all_three_counts_and_its_name(tmp_path, capsys):
    path = tmp_path / "poem.txt"
    path.write_text("roses are red\nviolets are blue\n", encoding="utf-8")
    assert main([str(path)]) == 0
    assert capsys.readouterr().out.split() == ["2", "6", "31", str(path)]


def test_options_choose_the_counts(tmp_path, capsys):
    path = tmp_path / "a.txt"
    path.write_text("a b c\n", encoding="utf-8")
    assert main(["--words", "--lines", str(path)]) == 0
    assert capsys.readouterr().out.split() == ["1", "3", str(path)]


def test_several_files_end_with_a_total(tmp_path, capsys):
    first, second = tmp_path / "1.txt", tmp_path / "2.txt"
    first.write_text("x\n", encoding="utf-8")
    second.write_text("y y\n", encoding="utf-8")
    assert main(["-w", str(first), str(second)]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert [line.split() for line in lines] == [
        ["1", str(first)], ["2", str(second)], ["3", "total"]]


def test_standard_input_is_read_when_no_file_is_given(monkeypatch, capsys):
    monkeypatch.setattr("sys.stdin", io.StringIO("from stdin\n"))
    assert main([]) == 0
    assert capsys.readouterr().out.split() == ["1", "2", "11"]


def test_a_missing_file_is_reported_and_the_others_still_counted(tmp_path, capsys):
    present = tmp_path / "here.txt"
    present.write_text("hello\n", encoding="utf-8")
    missing = tmp_path / "missing.txt"
    assert main(["-l", str(missing), str(present)]) == 1
    captured = capsys.readouterr()
    assert f"wordcount: {missing}: No such file or directory" in captured.err
    assert captured.out.splitlines()[0].split() == ["1", str(present)]
