"""The CLI reference page is generated from the commands and cannot drift from them."""

from __future__ import annotations

from pathlib import Path

from bir.cli.reference import render

PAGE = Path(__file__).resolve().parent.parent / "site" / "docs" / "reference" / "cli.md"


def test_committed_reference_is_the_generated_one() -> None:
    assert PAGE.read_text(encoding="utf-8") == render(), (
        "site/docs/reference/cli.md is out of date: run `python -m bir.cli.reference > site/docs/reference/cli.md`")


def test_the_table_of_commands_names_each_command_s_module() -> None:
    """`bir` imports a command's module only when the command runs, through a table: every command a module
    adds is in it under that module, and every name in it is a command, so none is lost or loaded twice."""
    import importlib
    import pkgutil

    import bir.cli
    from bir.cli import COMMAND_MODULES, cli

    added: dict[str, str] = {}
    for info in pkgutil.iter_modules(bir.cli.__path__):
        if info.name == "reference":  # the generator of this reference, not a command
            continue
        before = set(cli.commands)
        importlib.import_module(f"bir.cli.{info.name}")
        added.update(dict.fromkeys(set(cli.commands) - before, info.name))
    missing = set(COMMAND_MODULES) - set(cli.commands)
    assert not missing
    for name, module in COMMAND_MODULES.items():
        assert added.get(name, module) == module, name
    assert set(cli.commands) == set(COMMAND_MODULES)


def test_a_command_loads_only_its_own_module() -> None:
    import subprocess
    import sys

    script = ("import sys\nfrom bir.cli import main\ntry:\n    main(['validate', '--help'])\n"
              "except SystemExit:\n    print(sorted(m for m in sys.modules if m.startswith('bir.cli.')), file=sys.stderr)")
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True)
    assert done.stderr.strip() == "['bir.cli.validate']" and "Usage: bir validate" in done.stdout
    script = script.replace("['validate', '--help']", "['--help']")
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True)
    modules = sorted(f"bir.cli.{m}" for m in set(bir_cli_modules()))
    assert done.stderr.strip() == str(modules)
    assert all(f"  {name} " in done.stdout for name in ("validate", "site", "change", "import", "return"))


def bir_cli_modules() -> list[str]:
    from bir.cli import COMMAND_MODULES

    return list(COMMAND_MODULES.values())


def test_every_command_is_documented() -> None:
    from bir.cli import cli

    text = render()
    for name in cli.commands:
        assert f"## `bir {name}`" in text
    assert "### `bir import csv`" in text
    assert "| `--where FILTER` |" in text
