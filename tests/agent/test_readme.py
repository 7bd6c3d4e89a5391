"""The README stays true: its settings table is exactly what the code declares."""

from __future__ import annotations

from pathlib import Path

from dubbomesh.agent.cli import build_parser, options_table

README = Path(__file__).resolve().parents[2] / "README.md"


def test_readme_settings_table_matches_the_code() -> None:
    assert options_table() in README.read_text(encoding="utf-8"), (
        "README settings table is out of date: regenerate it with `dubbomesh options`"
    )


def test_readme_names_both_commands() -> None:
    text = README.read_text(encoding="utf-8")
    assert "make demo" in text
    assert "make test" in text


def test_every_subcommand_is_documented() -> None:
    text = README.read_text(encoding="utf-8")
    sub = next(a for a in build_parser()._actions if a.dest == "command")
    for name in sub.choices:  # type: ignore[union-attr]
        assert f"dubbomesh {name}" in text
