"""``dubbomesh decode``: show how the agent reads registry strings, one JSON object per input.

Why this module exists: when a service is missing from the mesh, the operator's first question is
"what did the agent make of this znode?". This command answers it offline for node names, full
znode paths or plain URLs, with every warning the decoder raised. It never crashes on any input
(invalid UTF-8 from a pipe included) and exits 1 when any input could not be decoded.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Sequence
from typing import TextIO

from dubbomesh.dubbo.url import decode_any


def run_decode(args: Sequence[str], *, json_lines: bool, stdin: TextIO, stdout: TextIO) -> int:
    """Decode each of ``args`` (or, when there are none, each non-blank line of ``stdin``).

    ``json_lines`` prints one compact JSON object per line; otherwise each object is indented.
    Returns 1 when any input had an error, else 0.
    """
    failed = False
    for text in args if args else _lines(stdin):
        data = _decode(text)
        failed = failed or data.get("error") is not None
        _write(stdout, data, json_lines)
    return 1 if failed else 0


def _decode(text: str) -> dict[str, object]:
    try:
        return decode_any(text).to_json()
    except Exception as exc:  # a decoder bug must not hide the other inputs' answers
        return {"input": text, "warnings": [], "error": f"internal decoder error: {exc!r}"}


def _lines(stdin: TextIO) -> Iterator[str]:
    """Non-blank lines without their line ending; bytes that are not UTF-8 survive as surrogate
    escapes (the decoder then reports them) instead of crashing the read."""
    raw = getattr(stdin, "buffer", None)
    lines: Iterable[str] = stdin
    if raw is not None:
        lines = (line.decode("utf-8", "surrogateescape") for line in raw)
    for line in lines:
        text = line.rstrip("\r\n")
        if text.strip():
            yield text


def _write(stdout: TextIO, data: dict[str, object], json_lines: bool) -> None:
    indent = None if json_lines else 2
    try:
        stdout.write(json.dumps(data, ensure_ascii=False, indent=indent) + "\n")
    except UnicodeEncodeError:  # lone surrogates, or a terminal that is not UTF-8
        stdout.write(json.dumps(data, ensure_ascii=True, indent=indent) + "\n")
