"""The command line as a newcomer meets it: help at 80 columns, --version, the default method."""

from __future__ import annotations

import re
from typing import Any

import pytest
import typer
from typer.testing import CliRunner

import cli
from aras.methods.heuristics import aras as aras_heuristic
from aras.methods.solve import METHODS
from tests.helpers import cli_inprocess


def _commands(group: Any, prefix: tuple[str, ...] = ()) -> list[tuple[str, ...]]:
    """Every command path of the app, groups included (``()`` is the app itself)."""
    found = [prefix]
    for name, cmd in group.commands.items():
        if hasattr(cmd, "commands"):  # a group (Typer may vendor its own click)
            found += _commands(cmd, (*prefix, name))
        else:
            found.append((*prefix, name))
    return found


COMMANDS = _commands(typer.main.get_command(cli.app))


def test_every_command_is_found():
    names = {" ".join(c) for c in COMMANDS}
    assert {"", "solve", "networks", "networks show", "study", "study run",
            "study report"} <= names


@pytest.mark.parametrize("path", COMMANDS, ids=lambda c: " ".join(c) or "aras")
def test_help_reads_at_80_columns(path):
    r = CliRunner().invoke(cli.app, [*path, "--help"], terminal_width=80, prog_name="aras")
    assert r.exit_code == 0, r.output
    lines = r.output.splitlines()
    assert max(map(len, lines)) <= 80
    # Flags show no value placeholder, options no Python type names.
    assert "<bool>" not in r.output and "<str>" not in r.output.split("Options:")[-1]
    # No sentence of a command list is cut short ("...") and docstrings keep no line breaks
    # of their source: every command-list entry is one line.
    if "Commands:" in r.output:
        entries = r.output.split("Commands:\n")[1].rstrip().splitlines()
        assert entries and all(not e.rstrip().endswith("...") for e in entries)
        assert all(re.match(r"  \S", e) for e in entries)


def test_version_is_one_line_like_other_tools():
    from aras import __version__

    r = CliRunner().invoke(cli.app, ["--help"], terminal_width=80, prog_name="aras")
    assert re.search(r"^  --version\s+Print the version and exit\.$", r.output, re.M)
    v = cli_inprocess("--version")
    assert v.returncode == 0 and v.stdout == f"aras {__version__}\n"


def test_default_method_is_jit_and_stated():
    assert cli.DEFAULT_METHOD == "jit" and "jit" in METHODS
    r = cli_inprocess("methods")
    assert "jit (default)" in r.stdout and "The default is jit" in r.stderr


def test_solve_says_which_method_ran_and_what_quick_ones_give():
    from aras import load_hardware, load_network, map_network
    from aras.views.reports import ms

    r = cli_inprocess("solve", "resnet-18")
    assert r.returncode == 0, r.stderr
    assert r.stdout.startswith("resnet-18 / jit on 'aras'")
    assert "method jit (the default)" in r.stderr
    # The hint's figure for aras is the aras scheduler's makespan on the same problem.
    p = map_network(load_network("resnet-18"), load_hardware("aras"))
    assert f"aras {ms(aras_heuristic(p).makespan, p.hardware)} ms" in r.stderr
    assert "milp searches" in r.stderr and "baseline " in r.stderr
    other = cli_inprocess("solve", "resnet-18", "-m", "baseline")
    assert "method baseline;" in other.stderr and "jit (seconds)" in other.stderr
    assert "baseline " not in other.stderr.split("quick methods here")[1]
