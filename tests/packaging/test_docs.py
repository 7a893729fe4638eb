"""The user documentation and the code name the same things: every environment variable the
tools and the VS Code extension read is documented (in the README's Configuration table), and
every one the documents name is read; every option of every tool is documented, and every one a
documented command line uses exists; the extension's settings and launch attributes are
described; every relative link leads somewhere."""
from __future__ import annotations

import json
import re
import sys
from dataclasses import fields
from pathlib import Path
from typing import Dict, Iterable, Iterator, List, Set, Tuple

import pytest

from tbdump.budget import Budgets

from ..conftest import run

REPO = Path(__file__).resolve().parents[2]
CODE = [*(REPO / package for package in ("tbdump", "tbdap", "tbdebug", "tbpeep", "tblsp")),
        REPO / "vscode-extension" / "src"]
README = REPO / "README.md"
EXTENSION_README = REPO / "vscode-extension" / "README.md"
DOCS = [README, *sorted((REPO / "docs").glob("*.md")), EXTENSION_README]
# A whole name; one that ends in "_" is a prefix ("TBDUMP_" + name, `TBDUMP_PREVIEW_*`), not a variable.
VARIABLE = re.compile(r"\b(?:TBDUMP|TBLSP)_[A-Z0-9_]+")
TOOLS = ["tbdump", "tbdap", "tbdebug", "tbpeep", "tblsp", "tbdump.report"]
LONG_OPTION = re.compile(r"(?<![\w-])--[a-z][a-z-]*")


def _named(files: Iterable[Path]) -> Set[str]:
    return {name for path in files for name in VARIABLE.findall(path.read_text(encoding="utf-8"))
            if not name.endswith("_")}


def _read_by_the_code() -> Set[str]:
    code = _named(path for folder in CODE for path in folder.rglob("*") if path.suffix in (".py", ".ts"))
    return code | {"TBDUMP_" + f.name.upper() for f in fields(Budgets)}   # read as "TBDUMP_" + the field


def _section(path: Path, heading: str) -> str:
    """The text under ``## heading``, up to the next heading of that level."""
    text = path.read_text(encoding="utf-8")
    assert f"\n## {heading}\n" in text, f"{path.name} has no section {heading!r}"
    return text.split(f"\n## {heading}\n", 1)[1].split("\n## ", 1)[0]


def _table_rows(text: str) -> List[List[str]]:
    """The cells of every row of the Markdown tables in ``text``, header rows included."""
    return [[cell.strip() for cell in line.strip().strip("|").split(" | ")] for line in text.splitlines()
            if line.startswith("|") and not re.match(r"\|\s*-", line)]


def _table_column(text: str) -> List[str]:
    """The first cell of every row of the Markdown tables in ``text``."""
    return [row[0] for row in _table_rows(text)]


def test_every_variable_the_code_reads_is_documented_and_no_other() -> None:
    code = _read_by_the_code()
    documented = _named(DOCS)
    assert sorted(code - documented) == [], "read by the code, documented nowhere"
    assert sorted(documented - code) == [], "documented, read by nothing"


def test_the_readme_configuration_table_lists_every_variable_the_code_reads() -> None:
    """One place a user looks for every setting: each row names whole variables (no `_ITEMS`
    shorthand a reader has to complete), and each variable the code reads has a row."""
    rows = _table_column(_section(README, "Configuration"))[1:]      # past the header row
    in_table = {name for row in rows for name in VARIABLE.findall(row)}
    assert all(VARIABLE.fullmatch(name.strip("` ")) for row in rows for name in row.split(",")), rows
    code = _read_by_the_code()
    assert sorted(code - in_table) == [], "read by the code, missing from the README's table"
    assert sorted(in_table - code) == [], "in the README's table, read by nothing"


def _prose(text: str) -> str:
    """``text`` without fenced code blocks and code spans, where brackets are code, not links."""
    return re.sub(r"`[^`\n]*`", "", re.sub(r"^```.*?^```", "", text, flags=re.S | re.M))


def _code(text: str) -> Iterator[str]:
    """Every line of a fenced code block and every code span of ``text``."""
    for block in re.findall(r"^```[^\n]*\n(.*?)^```", text, flags=re.S | re.M):
        yield from block.splitlines()
    yield from re.findall(r"`([^`\n]+)`", re.sub(r"^```.*?^```", "", text, flags=re.S | re.M))


def _anchors(path: Path) -> Set[str]:
    """The anchors GitHub gives the headings of ``path``: lower case, punctuation dropped,
    spaces as hyphens; a repeated one gets -1, -2, ..."""
    text = re.sub(r"^```.*?^```", "", path.read_text(encoding="utf-8"), flags=re.S | re.M)
    seen: Dict[str, int] = {}
    anchors = set()
    for heading in re.findall(r"^#+\s+(.*?)\s*#*$", text, flags=re.M):
        slug = re.sub(r"[^\w\- ]", "", heading.lower()).replace(" ", "-")
        anchors.add(slug if slug not in seen else f"{slug}-{seen[slug]}")
        seen[slug] = seen.get(slug, 0) + 1
    return anchors


def _relative_links(path: Path) -> Iterator[Tuple[str, Path, str]]:
    for link in re.findall(r"\]\(([^)\s]+)\)", _prose(path.read_text(encoding="utf-8"))):
        if not re.match(r"[a-z][a-z0-9+.-]*:", link):          # https:, mailto:: not ours to check
            target, _, anchor = link.partition("#")
            yield link, (path.parent / target) if target else path, anchor


@pytest.mark.parametrize("doc", DOCS, ids=lambda path: str(path.relative_to(REPO)))
def test_every_relative_link_resolves(doc: Path) -> None:
    broken = []
    for link, target, anchor in _relative_links(doc):
        if not target.exists():
            broken.append(f"{link}: no {target.relative_to(REPO) if target.is_relative_to(REPO) else target}")
        elif anchor and (target.suffix != ".md" or anchor not in _anchors(target)):
            broken.append(f"{link}: no heading #{anchor} in {target.name}")
    assert broken == []


def _options(tool: str) -> Set[str]:
    """The long options ``python -m tool --help`` lists."""
    done = run([sys.executable, "-m", tool, "--help"], REPO)
    assert done.returncode == 0, done.stderr
    return set(LONG_OPTION.findall(done.stdout)) - {"--help"}


@pytest.fixture(scope="module")
def options() -> Dict[str, Set[str]]:
    return {tool: _options(tool) for tool in TOOLS}


def test_every_option_of_every_tool_is_documented(options: Dict[str, Set[str]]) -> None:
    docs = "\n".join(path.read_text(encoding="utf-8") for path in DOCS)
    undocumented = sorted(f"{tool} {option}" for tool, listed in options.items() for option in listed
                          if not re.search(rf"(?<![\w-]){option}(?![\w-])", docs))
    assert undocumented == []


def _documented_commands() -> Iterator[Tuple[str, str, List[str]]]:
    """(document, tool, the long options it is given) for each `python -m tool ...` the docs show.
    tbdump's own options end at the program it runs: what follows is the program's."""
    tool_name = "|".join(re.escape(tool) for tool in sorted(TOOLS, key=len, reverse=True))
    for path in DOCS:
        for code in _code(path.read_text(encoding="utf-8")):
            for match in re.finditer(rf"\bpython3? -m ({tool_name})(?![\w.])([^|;#`]*)", code):
                tool, words = match.group(1), match.group(2).split()
                given = []
                for index, word in enumerate(words):
                    if tool == "tbdump" and not word.startswith("-") and \
                            (index == 0 or words[index - 1] not in ("-o", "--output")):
                        break                                            # the program
                    if tool == "tbdump" and word in ("-m", "-c"):
                        break
                    given += [part for part in re.split(r"[\[\]/=]", word) if LONG_OPTION.fullmatch(part)]
                yield str(path.relative_to(REPO)), tool, given


def test_every_option_a_documented_command_gives_exists(options: Dict[str, Set[str]]) -> None:
    commands = list(_documented_commands())
    assert {tool for _, tool, _ in commands} == set(TOOLS)      # the parse finds them all
    unknown = sorted({f"{doc}: python -m {tool} {option}" for doc, tool, given in commands for option in given
                      if option not in options[tool] | {"--help"}})
    assert unknown == []


def test_the_extensions_settings_attributes_and_commands_are_described() -> None:
    """What package.json contributes, a user reads about in the extension's README and the main
    one's VS Code section; and the extension README's attribute table names real attributes."""
    manifest = json.loads((REPO / "vscode-extension" / "package.json").read_text(encoding="utf-8"))
    contributes = manifest["contributes"]
    attributes = {request: set(schema["properties"])
                  for request, schema in contributes["debuggers"][0]["configurationAttributes"].items()}
    settings = set(contributes["configuration"]["properties"])
    extension_readme = EXTENSION_README.read_text(encoding="utf-8")
    vs_code = _section(README, "VS Code")
    for text, where in ((extension_readme, "the extension's README"), (vs_code, "the README's VS Code section")):
        for name in sorted(set.union(*attributes.values()) | settings):
            assert re.search(rf"(?<![\w.]){re.escape(name)}(?![\w])", text), f"{name} is not in {where}"
    for command in contributes["commands"]:
        assert command["command"] in extension_readme or command["title"] in extension_readme, command
    table = _table_column(_section(EXTENSION_README, "Launch configurations"))[1:]
    assert table and {name.strip("`") for name in table} <= attributes["launch"], table


def test_the_readmes_profiling_command_refuses_a_wrong_name_in_one_usage_line() -> None:
    """`python benchmarks/profile_dump.py SCENARIO` (Development): a scenario or sort key it does
    not know is a usage error listing the ones it knows, not a KeyError's traceback."""
    assert "`python benchmarks/profile_dump.py SCENARIO`" in README.read_text(encoding="utf-8")
    profile = [sys.executable, str(REPO / "benchmarks" / "profile_dump.py")]
    for args, says, listed in ((["nosuch"], "unknown scenario 'nosuch'", "web"),
                               (["web", "--sort", "bogus"], "argument --sort: invalid choice: 'bogus'", "tottime")):
        done = run([*profile, *args], REPO)
        assert done.returncode == 2 and "Traceback" not in done.stderr, done
        error, _, choices = done.stderr.splitlines()[-1].partition(" (choose from ")
        assert error == f"profile_dump.py: error: {says}" and listed in choices, done


def _help_lines(tool: str) -> List[str]:
    done = run([sys.executable, "-m", tool, "--help"], REPO, env={"COLUMNS": "80"})
    assert done.returncode == 0, done.stderr
    return done.stdout.splitlines()


@pytest.mark.parametrize("tool", TOOLS)
def test_every_tools_help_fits_an_80_column_terminal(tool: str) -> None:
    """Text a tool lays out itself (tbdebug's description and epilog, tbdump's whole help) is
    wrapped as argparse wraps the rest; tbdump's usage line is exempt: its usage errors print it
    as their one line."""
    wide = [line for line in _help_lines(tool) if len(line) > 80 and not line.startswith("usage:")]
    assert wide == []
