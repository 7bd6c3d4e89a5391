"""``dubbomesh decode``: arguments or stdin lines in, one JSON object per input out."""

from __future__ import annotations

import io
import json
import subprocess
import sys

from dubbomesh.agent.decode_cmd import run_decode

NODE = (
    "dubbo%3A%2F%2F10.0.0.1%3A20880%2Fcom.acme.Foo%3Fapplication%3D%E8%AE%A2%E5%8D%95"
    "%26interface%3Dcom.acme.Foo%26side%3Dprovider"
)


def _run(args: list[str], stdin: str = "", *, json_lines: bool = True) -> tuple[int, list[str]]:
    out = io.StringIO()
    code = run_decode(args, json_lines=json_lines, stdin=io.StringIO(stdin), stdout=out)
    return code, out.getvalue().splitlines()


def test_arguments_json_lines() -> None:
    code, lines = _run([NODE, "dubbo://[::1]:20880/com.acme.Bar"])
    assert code == 0
    first, second = (json.loads(line) for line in lines)
    assert first["input"] == NODE
    assert first["host"] == "10.0.0.1"
    assert first["params"]["application"] == "订单"
    assert first["routable"] is True
    assert first["error"] is None
    assert second["endpoint_address"] == "::1"
    assert second["routable"] is False
    assert [w["code"] for w in second["warnings"]] == ["loopback-host"]


def test_stdin_one_per_line_blank_lines_skipped_and_exit_1_on_error() -> None:
    code, lines = _run([], f"{NODE}\n\n%9%d\r\n/dubbo/com.acme.Foo/providers/{NODE}\n")
    assert code == 1
    objs = [json.loads(line) for line in lines]
    assert len(objs) == 3
    assert objs[0]["error"] is None
    assert objs[1]["input"] == "%9%d"
    assert "malformed escape" in objs[1]["error"]
    assert objs[2]["interface"] == "com.acme.Foo"
    assert objs[2]["warnings"] == []


def test_pretty_output_is_indented_json() -> None:
    code, lines = _run([NODE], json_lines=False)
    assert code == 0
    assert lines[0] == "{"
    assert json.loads("\n".join(lines))["service_key"] == "com.acme.Foo"


def test_lone_surrogates_and_a_non_utf8_stdout_do_not_crash() -> None:
    raw = io.BytesIO()
    stdout = io.TextIOWrapper(raw, encoding="ascii", errors="strict")
    code = run_decode(
        ["dubbo://\udcff:1/x", NODE], json_lines=True, stdin=io.StringIO(), stdout=stdout
    )
    stdout.flush()
    assert code == 0
    objs = [json.loads(line) for line in raw.getvalue().decode("ascii").splitlines()]
    assert objs[0]["host"] == "\udcff"
    assert objs[1]["params"]["application"] == "订单"


def test_invalid_utf8_bytes_on_stdin() -> None:
    stdin = io.TextIOWrapper(io.BytesIO(b"dubbo%3A%2F%2F10.0.0.2%3A1%2Fa\xff\n\xfe\xfd\n"), "utf-8")
    out = io.StringIO()
    code = run_decode([], json_lines=True, stdin=stdin, stdout=out)
    objs = [json.loads(line) for line in out.getvalue().splitlines()]
    assert code == 1  # the second line is no URL at all
    assert objs[0]["host"] == "10.0.0.2"
    assert objs[0]["path"] == "a\ufffd"
    assert [w["code"] for w in objs[0]["warnings"]] == ["invalid-utf8"]
    assert objs[1]["error"]


def test_no_input_at_all() -> None:
    assert _run([]) == (0, [])


def test_the_console_command() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "dubbomesh", "decode", "--json", NODE, "nonsense"],
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )
    assert result.returncode == 1, result.stderr
    objs = [json.loads(line) for line in result.stdout.splitlines()]
    assert [o["error"] is None for o in objs] == [True, False]
