"""Docker's .dockerignore rules, enough to assemble the exact build context the Dockerfile sees.

Why this module exists: CI has no Docker engine, so the image test builds from a directory that
holds exactly what ``docker build`` would send. Semantics as in Docker's pattern matcher: patterns
are Go ``filepath.Match`` globs with ``**`` for any number of directories, a pattern that matches a
parent directory matches everything under it, ``!`` re-includes, and the last match wins.
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path


def _regex(pattern: str) -> re.Pattern[str]:
    out = []
    i = 0
    while i < len(pattern):
        c = pattern[i]
        if pattern.startswith("**/", i):
            out.append("(?:.*/)?")
            i += 3
            continue
        if pattern.startswith("**", i):
            out.append(".*")
            i += 2
            continue
        out.append({"*": "[^/]*", "?": "[^/]"}.get(c, re.escape(c)))
        i += 1
    return re.compile("".join(out) + r"\Z")


def parse(text: str) -> list[tuple[bool, re.Pattern[str]]]:
    """(negated, regex) per non-comment line, in order."""
    rules = []
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        negated = line.startswith("!")
        pattern = line[1:].strip() if negated else line
        pattern = pattern.strip("/")
        rules.append((negated, _regex(pattern)))
    return rules


def excluded(path: str, rules: list[tuple[bool, re.Pattern[str]]]) -> bool:
    """Whether ``path`` (slash-separated, relative to the context root) is left out."""
    parts = path.split("/")
    prefixes = ["/".join(parts[: i + 1]) for i in range(len(parts))]
    result = False
    for negated, rx in rules:
        if any(rx.match(p) for p in prefixes):
            result = not negated
    return result


def assemble(root: Path, dest: Path) -> list[str]:
    """Copy the files of ``root`` that ``root/.dockerignore`` lets through into ``dest``."""
    rules = parse((root / ".dockerignore").read_text(encoding="utf-8"))
    copied = []
    for path in sorted(root.rglob("*")):
        rel = path.relative_to(root).as_posix()
        if path.is_dir() or excluded(rel, rules):
            continue
        target = dest / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(path, target)
        copied.append(rel)
    return copied
