"""The benchmark harness: run every ``bench/bench_*.py`` module, print a table, record RESULTS.md.

Why this module exists: a figure alone says little on a shared 2-core machine, so every figure
carries a FLOOR (the same work done by the barest tool available: raw kazoo, bare urllib...) and
a TARGET; the ratio value/floor is what stays comparable from one machine to another. Timing lives
here, never in tests. CI runs ``python -m bench --quick`` as a smoke test: it fails only when a
module raises, a missed target is printed as MISS.

Each module exposes ``run(quick: bool) -> list[Figure]``.
"""

from __future__ import annotations

import argparse
import importlib
import os
import pkgutil
import platform
import sys
import time
import traceback
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

BENCH_DIR = Path(__file__).resolve().parent
RESULTS = BENCH_DIR / "RESULTS.md"
_HEADER = """# Benchmark results

Written by `python -m bench --write` (`make bench`); each module rewrites only its own section,
between its markers. `ratio` = value / floor: the floor is the same work done by the barest tool
available, so the ratio is what compares across machines. Quick-mode runs are smoke tests only.
"""


@dataclass(frozen=True, slots=True)
class Figure:
    """One measured number, its floor and its target."""

    name: str
    value: float
    unit: str
    floor: float | None
    """The same measurement for the barest possible implementation (None when there is none)."""
    floor_name: str
    """What the floor measures, in a few words."""
    target: str
    """The goal, in words (e.g. ">= 100,000 names/s on one core", or "informational")."""
    ok: bool | None
    """Whether the target is met; None when there is no target."""

    @property
    def ratio(self) -> float | None:
        """value / floor, or None without a (non-zero) floor."""
        return self.value / self.floor if self.floor else None


@dataclass(frozen=True, slots=True)
class ModuleResult:
    module: str
    """Short name: ``decode`` for ``bench/bench_decode.py``."""
    figures: tuple[Figure, ...]
    seconds: float
    error: str | None = None


def discover() -> list[str]:
    """Short names of every ``bench_*`` module, sorted."""
    names = (m.name for m in pkgutil.iter_modules([str(BENCH_DIR)]))
    return sorted(n.removeprefix("bench_") for n in names if n.startswith("bench_"))


def run_module(short: str, quick: bool) -> ModuleResult:
    """Import and run one module; an exception becomes ``error`` (with its traceback)."""
    start = time.perf_counter()
    try:
        module = importlib.import_module(f"bench.bench_{short}")
        figures = tuple(module.run(quick))
    except Exception:
        return ModuleResult(short, (), time.perf_counter() - start, traceback.format_exc())
    return ModuleResult(short, figures, time.perf_counter() - start)


def fmt(value: float | None) -> str:
    """A number for humans: thousands separators for big ones, 3 significant digits otherwise."""
    if value is None:
        return "-"
    if abs(value) >= 1000:
        return f"{value:,.0f}"
    return f"{value:.3g}"


def _verdict(ok: bool | None) -> str:
    return "-" if ok is None else ("OK" if ok else "MISS")


def _floor(figure: Figure) -> str:
    text = fmt(figure.floor) if figure.floor else "-"
    name = figure.floor_name.strip("() ")
    return f"{text} ({name})" if name else text


def rows(result: ModuleResult) -> list[list[str]]:
    """Table rows: figure, value, floor, ratio, target, ok."""
    return [
        [
            f.name,
            f"{fmt(f.value)} {f.unit}",
            _floor(f),
            fmt(f.ratio),
            f.target,
            _verdict(f.ok),
        ]
        for f in result.figures
    ]


_COLUMNS = ["figure", "value", "floor", "ratio", "target", "ok"]


def text_table(results: Sequence[ModuleResult]) -> str:
    """A plain-text table of every figure, for the terminal."""
    table = [_COLUMNS] + [r for res in results for r in rows(res)]
    widths = [min(max(len(row[i]) for row in table), 70) for i in range(len(_COLUMNS))]
    return "\n".join(
        "  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)) for row in table
    )


def machine() -> str:
    """Where the numbers were measured (they mean little without it)."""
    model = ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.partition(":")[2].strip()
                break
    except OSError:
        pass
    load = "/".join(f"{x:.1f}" for x in os.getloadavg()) if hasattr(os, "getloadavg") else "?"
    return (
        f"nproc {len(os.sched_getaffinity(0))}, {model or platform.machine()}, "
        f"Python {platform.python_version()} ({platform.python_implementation()}), "
        f"{platform.system()} {platform.release()}, load average {load}"
    )


def section(result: ModuleResult, quick: bool) -> str:
    """The RESULTS.md section of one module, markers included."""
    doc = (importlib.import_module(f"bench.bench_{result.module}").__doc__ or "").strip()
    summary = doc.split("\n\n")[0].replace("\n", " ") if doc else ""
    when = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    lines = [
        f"<!-- bench:{result.module}:begin -->",
        f"## {result.module}",
        "",
        summary,
        "",
        f"Measured {when}{' (QUICK mode: smoke test only)' if quick else ''} on {machine()}; "
        f"the module took {result.seconds:.1f} s.",
        "",
        "| " + " | ".join(_COLUMNS) + " |",
        "|" + "---|" * len(_COLUMNS),
        *("| " + " | ".join(c.replace("|", "\\|") for c in row) + " |" for row in rows(result)),
        f"<!-- bench:{result.module}:end -->",
    ]
    return "\n".join(lines)


def write_results(results: Sequence[ModuleResult], quick: bool, path: Path = RESULTS) -> None:
    """Replace (or append) the section of each module that ran without error."""
    text = path.read_text() if path.exists() else _HEADER
    for result in results:
        if result.error is not None:
            continue
        new = section(result, quick)
        begin, end = f"<!-- bench:{result.module}:begin -->", f"<!-- bench:{result.module}:end -->"
        if begin in text and end in text:
            head, _, rest = text.partition(begin)
            _, _, tail = rest.partition(end)
            text = head + new + tail
        else:
            text = text.rstrip("\n") + "\n\n" + new + "\n"
    path.write_text(text)


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m bench [--quick] [--only NAME...] [--write]``; 1 when a module raised."""
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="a few seconds per module (CI smoke)")
    parser.add_argument("--only", nargs="+", metavar="NAME", help="modules to run, e.g. decode")
    parser.add_argument("--write", action="store_true", help=f"update {RESULTS.name}")
    args = parser.parse_args(argv)
    available = discover()
    wanted = [n.removeprefix("bench_").removesuffix(".py") for n in args.only or available]
    unknown = sorted(set(wanted) - set(available))
    if unknown:
        parser.error(f"unknown bench module(s) {unknown}; available: {available}")
    results = []
    for short in wanted:
        print(f"[bench] {short} ...", file=sys.stderr, flush=True)
        result = run_module(short, args.quick)
        if result.error is not None:
            print(f"[bench] {short} FAILED:\n{result.error}", file=sys.stderr, flush=True)
        results.append(result)
    print(text_table(results))
    failed = [r.module for r in results if r.error is not None]
    if failed:
        print(f"modules that raised: {', '.join(failed)}")
    if args.write:
        write_results(results, args.quick)
    return 1 if failed else 0
