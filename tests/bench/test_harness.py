"""The benchmark harness: ratios, verdicts, and RESULTS.md sections rewritten in place."""

from __future__ import annotations

from pathlib import Path

from bench.harness import Figure, ModuleResult, discover, fmt, rows, write_results


def test_ratio_and_verdicts() -> None:
    met = Figure("x", 150.0, "ms", 100.0, "bare", "<= 1.5x floor", True)
    missed = Figure("y", 2.0, "s", None, "", "informational", None)
    assert met.ratio == 1.5
    assert missed.ratio is None
    row = rows(ModuleResult("demo", (met, missed), 0.1))
    assert row[0][-1] == "OK"
    assert row[1][-1] == "-"
    assert rows(ModuleResult("demo", (Figure("z", 3, "s", 1, "f", "t", False),), 0.1))[0][-1] == (
        "MISS"
    )


def test_number_format() -> None:
    assert fmt(123456.7) == "123,457"
    assert fmt(0.01234) == "0.0123"
    assert fmt(None) == "-"


def test_every_module_is_discovered() -> None:
    found = discover()
    assert {"decode", "zk_sync", "zk_latency", "memory", "xds", "k8s", "catalog"} <= set(found)


def test_write_replaces_only_its_own_section(tmp_path: Path) -> None:
    path = tmp_path / "RESULTS.md"
    other = "<!-- bench:k8s:begin -->\nkeep me\n<!-- bench:k8s:end -->"
    path.write_text("# Benchmark results\n\n" + other + "\n")
    fig = Figure("decode", 1.0, "names/s", 2.0, "floor", "target", False)
    write_results([ModuleResult("decode", (fig,), 0.5)], quick=True, path=path)
    first = path.read_text()
    assert other in first
    assert first.count("<!-- bench:decode:begin -->") == 1
    write_results([ModuleResult("decode", (fig,), 0.5)], quick=True, path=path)
    again = path.read_text()
    assert again.count("<!-- bench:decode:begin -->") == 1
    assert other in again
    # A module that raised leaves its section alone.
    write_results([ModuleResult("k8s", (), 0.1, error="boom")], quick=True, path=path)
    assert other in path.read_text()
