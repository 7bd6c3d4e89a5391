"""The ``dubbomesh`` command line: ``run``, ``render``, ``decode``, ``demo``, ``options``.

Why this module exists: one place turns argv into a validated :class:`AgentConfig` (flags generated
from :mod:`dubbomesh.agent.options`, so ``--help`` documents every setting with its env var) and
hands it to the composition root. Errors in configuration exit with status 2 and one clear line.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from typing import Any

from dubbomesh import __version__
from dubbomesh.agent.config import AgentConfig, load_file, resolve
from dubbomesh.agent.options import OPTIONS, ConfigError, parse_bool

GROUP_TITLES = {
    "zookeeper": "ZooKeeper registries",
    "mesh": "catalog and mesh model",
    "sinks": "sinks and state",
    "xds": "xDS server",
    "kubernetes": "Kubernetes sink",
    "operations": "operations",
}


def _add_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--config",
        metavar="FILE",
        help="YAML file of settings (keys are the "
        "flag names without dashes prefix). Precedence: flag > env > file > "
        "default. Env: DUBBOMESH_CONFIG.",
    )
    groups = {g: parser.add_argument_group(t) for g, t in GROUP_TITLES.items()}
    for opt in OPTIONS:
        default = list(opt.default) if opt.many else opt.default
        shown = "<redacted>" if opt.secret and default else default
        help_text = f"{opt.help} [env {opt.env}; default {shown!r}]".replace("%", "%%")
        kwargs: dict[str, Any] = {"dest": opt.attr, "default": None, "help": help_text}
        if opt.metavar:
            kwargs["metavar"] = opt.metavar
        if opt.parse is parse_bool:
            # `--flag` alone means true; `--flag false` is accepted too.
            kwargs.update(nargs="?", const="true", metavar="BOOL")
        if opt.many:
            kwargs["action"] = "append"
        groups[opt.group].add_argument(opt.flag, **kwargs)


def build_parser() -> argparse.ArgumentParser:
    """The full argument parser."""
    parser = argparse.ArgumentParser(
        prog="dubbomesh",
        description="Bring Apache Dubbo services registered in ZooKeeper into an Istio mesh.",
    )
    parser.add_argument("--version", action="version", version=f"dubbomesh {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    run = sub.add_parser(
        "run",
        help="watch ZooKeeper and publish continuously",
        description="Watch ZooKeeper and publish over xDS (always), and to the "
        "sinks given with --sink.",
    )
    _add_options(run)

    render = sub.add_parser(
        "render",
        help="list ZooKeeper once and print the Istio manifests",
        description="List ZooKeeper once, print every ServiceEntry and "
        "WorkloadEntry as Kubernetes manifests, exit.",
    )
    render.add_argument("-o", "--output", choices=("yaml", "json"), default="yaml")
    render.add_argument(
        "--timeout",
        type=float,
        default=60.0,
        help="give up when the listing takes longer (seconds)",
    )
    _add_options(render)

    decode = sub.add_parser(
        "decode",
        help="decode Dubbo URLs / znode names to JSON",
        description="Decode node names, znode paths or URLs (arguments, or "
        "one per line on stdin) to one JSON object each.",
    )
    decode.add_argument("--json", action="store_true", help="one compact JSON object per line")
    decode.add_argument("strings", nargs="*", metavar="STRING")

    demo = sub.add_parser(
        "demo", help="start a local ZooKeeper with sample providers and run the agent against it"
    )
    demo.add_argument("--output-dir", default="out/demo", help="where the demo keeps manifests")
    demo.add_argument(
        "--once",
        action="store_true",
        help="print what would be published, then exit (no long-running agent)",
    )
    demo.add_argument("--xds-listen", default="127.0.0.1:15910")
    demo.add_argument("--http-listen", default="127.0.0.1:9090")

    sub.add_parser("options", help="print the settings table (markdown) used in the README")
    return parser


def config_from_args(args: argparse.Namespace) -> AgentConfig:
    """Resolve flags, env and the optional config file into a validated config."""
    import os

    flags = {o.name: getattr(args, o.attr) for o in OPTIONS if getattr(args, o.attr) is not None}
    path = args.config or os.environ.get("DUBBOMESH_CONFIG", "")
    return resolve(flags, file_values=load_file(path) if path else None)


def options_table() -> str:
    """The README table of settings."""
    rows = ["| flag | env | default | meaning |", "|---|---|---|---|"]
    for o in OPTIONS:
        default = ",".join(o.default) if o.many else str(o.default)
        if o.secret:
            default = ""
        choices = f" One of: {', '.join(o.choices)}." if o.choices else ""
        rows.append(f"| `{o.flag}` | `{o.env}` | `{default}` | {o.help}{choices} |")
    return "\n".join(rows)


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the console script."""
    args = build_parser().parse_args(argv)
    try:
        if args.command == "decode":
            from dubbomesh.agent.decode_cmd import run_decode

            return run_decode(
                args.strings, json_lines=args.json, stdin=sys.stdin, stdout=sys.stdout
            )
        if args.command == "options":
            print(options_table())
            return 0
        if args.command == "demo":
            from dubbomesh.agent.demo import run_demo

            return run_demo(
                output_dir=args.output_dir,
                once=args.once,
                xds_listen=args.xds_listen,
                http_listen=args.http_listen,
            )
        config = config_from_args(args)
        from dubbomesh.agent.wiring import check

        check(config)
        if args.command == "render":
            from dubbomesh.agent.render_cmd import run_render

            return run_render(config, output=args.output, timeout=args.timeout)
        from dubbomesh.agent.app import run_agent

        return run_agent(config)
    except ConfigError as exc:
        print(f"dubbomesh: configuration error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
