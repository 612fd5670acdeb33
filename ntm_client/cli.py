"""`python -m ntm_client COMMAND ...`: one sub-command per module, each with `add_arguments(parser)`
and `run(arguments) -> exit code`. A new command is one more entry in COMMANDS."""

from __future__ import annotations

import argparse
import sys
from types import ModuleType

from ntm_client import similar, topics_command

COMMANDS: dict[str, ModuleType] = {"topics": topics_command, "similar": similar}


def parser() -> argparse.ArgumentParser:
    top = argparse.ArgumentParser(prog="python -m ntm_client", description=__doc__.split("\n\n")[0])
    commands = top.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name, module in COMMANDS.items():
        module.add_arguments(commands.add_parser(name, help=module.HELP, description=module.__doc__))
    return top


def main(argv: list[str] | None = None) -> int:
    arguments = parser().parse_args(argv)
    try:
        return COMMANDS[arguments.command].run(arguments)
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
