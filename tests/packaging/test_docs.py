"""The user documentation and the code name the same things: every environment variable the
tools and the VS Code extension read is documented (in the README's Configuration table), and
every one the documents name is read; every option of every tool is documented, and every one a
documented command line uses exists; the extension's settings and launch attributes are
described; every relative link leads somewhere; each tool's help fits 80 columns; the budgets'
documented defaults are the code's; the README's first outputs are what the tools print; and
FORMAT.md names every key a real dump writes."""
from __future__ import annotations

import json
import re
import shutil
import sys
import textwrap
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
# A long option, or a short one standing alone (`-e`, not the `-e` of `--exception` or `-eN`).
OPTION = re.compile(r"(?<![\w-])(?:--[a-z][a-z-]*|-[a-zA-Z](?![\w-]))")


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
    """The options, long and short, ``python -m tool --help`` lists."""
    done = run([sys.executable, "-m", tool, "--help"], REPO)
    assert done.returncode == 0, done.stderr
    return set(OPTION.findall(done.stdout.replace("python -m ", ""))) - {"--help", "-h"}


@pytest.fixture(scope="module")
def options() -> Dict[str, Set[str]]:
    return {tool: _options(tool) for tool in TOOLS}


def test_every_option_of_every_tool_is_documented(options: Dict[str, Set[str]]) -> None:
    docs = "\n".join(path.read_text(encoding="utf-8") for path in DOCS)
    undocumented = sorted(f"{tool} {option}" for tool, listed in options.items() for option in listed
                          if not re.search(rf"(?<![\w-]){option}(?![\w-])", docs))
    assert undocumented == []


def _documented_commands() -> Iterator[Tuple[str, str, List[str]]]:
    """(document, tool, the options it is given) for each `python -m tool ...` the docs show.
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
                    given += [part for part in re.split(r"[\[\]/=]", word) if OPTION.fullmatch(part)]
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


def _output_of(doc: Path, command: str) -> str:
    """The output the document shows in the block right after the code block that runs ``command``."""
    shown = re.search(r"```\w*\n[ ]*%s\n[ ]*```\n[ ]*```\n(.*?\n)[ ]*```" % re.escape(command),
                      doc.read_text(encoding="utf-8"), re.S)
    assert shown, f"{doc.name} shows no output of {command}"
    return textwrap.dedent(shown.group(1))


def test_the_output_the_docs_show_is_what_the_commands_print(tmp_path: Path) -> None:
    """The README's first two outputs, as a user who copies its commands sees them: the crash of
    examples/divide.py under tbdump, and a failing test's dump under `pytest --tbdump` (named by
    the test's node id; pytest's rule 80 columns wide, as it prints where there is no terminal)."""
    shutil.copy(REPO / "examples" / "divide.py", tmp_path)
    crashed = run([sys.executable, "-m", "tbdump", "divide.py", "5", "0"], tmp_path)
    assert crashed.stderr == _output_of(README, "python -m tbdump divide.py 5 0")
    (tmp_path / "tests").mkdir()
    (tmp_path / "tests" / "test_calc.py").write_text(
        "def test_divide_by_zero():\n    assert 1 / 0\n", encoding="utf-8")
    tested = run([sys.executable, "-m", "pytest", "--tbdump", "tests"], tmp_path, env={"COLUMNS": "80"})
    for doc in (README, REPO / "docs" / "PYTEST.md"):
        assert _output_of(doc, "pytest --tbdump") in tested.stdout, (doc.name, tested.stdout)


def _help_lines(tool: str) -> List[str]:
    done = run([sys.executable, "-m", tool, "--help"], REPO, env={"COLUMNS": "80"})
    assert done.returncode == 0, done.stderr
    return done.stdout.splitlines()


@pytest.mark.parametrize("tool", TOOLS)
def test_every_tools_help_fits_an_80_column_terminal(tool: str) -> None:
    """Text a tool lays out itself (tbdebug's description and epilog, tbdump's whole help, its
    usage too) is wrapped as argparse wraps the rest."""
    wide = [line for line in _help_lines(tool) if len(line) > 80]
    assert wide == []


_UNITS = {"": 1, "KiB": 1 << 10, "MiB": 1 << 20, "GiB": 1 << 30}


def _defaults_documented(path: Path) -> Iterator[Tuple[str, str]]:
    """(variable, default) for each variable of a table row whose next cell is its default; a
    cell of several (`A` / `B`) has as many defaults (`20 / 10`)."""
    for row in _table_rows(path.read_text(encoding="utf-8")):
        for index, cell in enumerate(row[:-1]):
            names = VARIABLE.findall(cell)
            if names and all(VARIABLE.fullmatch(name.strip("` ")) for name in re.split(r"[,/]", cell)):
                defaults = row[index + 1].split(" / ")
                yield from zip(names, defaults if len(defaults) == len(names) else [row[index + 1]] * len(names))


@pytest.mark.parametrize("doc", [README, REPO / "docs" / "SECURITY.md"], ids=lambda path: path.name)
def test_the_budgets_documented_defaults_are_the_code_defaults(doc: Path) -> None:
    """The README's Configuration table and SECURITY.md's budgets table give each budget's default
    (`1 GiB`, `10 s`, `20`): the values a crash is dumped with when nothing is set."""
    code = {"TBDUMP_" + f.name.upper(): getattr(Budgets(), f.name) for f in fields(Budgets)}
    documented = {}
    for name, default in _defaults_documented(doc):
        if name in code:
            number = re.match(r"([\d.]+)\s*(GiB|MiB|KiB)?", default)
            assert number, f"{doc.name}: {name}'s default {default!r} is not a number"
            documented[name] = float(number.group(1)) * _UNITS[number.group(2) or ""]
    assert documented == code


def _dump_of_many_shapes(folder: Path) -> Path:
    """A dump whose exception has a cause and a note, whose frames run through a library and
    above the handler, with another thread's stack and a redacted value: most fields a dump can
    hold."""
    (folder / "shapes.py").write_text(
        "import json, threading, tbdump\n"
        "SETTINGS = {'retries': 3, 'names': ['a', 'b']}\n"
        "def parse(text):\n"
        "    try:\n"
        "        return json.loads(text)\n"
        "    except ValueError as exc:\n"
        "        exc.add_note('while parsing the config')\n"
        "        raise KeyError('config') from exc\n"
        "def main():\n"
        "    password = 'hunter2'\n"
        "    try:\n"
        "        parse('{')\n"
        "    except KeyError as exc:\n"
        "        tbdump.dump_exception(exc, 'shapes.tbdump', threads=True)\n"
        "stop = threading.Event()\n"
        "threading.Thread(target=stop.wait, name='idle').start()\n"
        "main()\n"
        "stop.set()\n", encoding="utf-8")
    done = run([sys.executable, "shapes.py"], folder)
    assert done.returncode == 0, done.stderr
    return folder / "shapes.tbdump"


def _spans(text: str) -> Set[str]:
    return set(re.findall(r"`([^`\n]+)`", text))


def _previews(value: object) -> Iterator[Dict[str, object]]:
    """Every preview within ``value``: a value, its children's values, theirs..."""
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, dict):
            yield item
            stack.extend(child[1] for child in item.get("c", ()))


def _member_order(members: Dict[str, Dict[str, int]]) -> List[str]:
    """The kinds of member (``globals.0`` and ``globals.1`` are ``globals``) as they lie in the file."""
    by_offset = sorted(members, key=lambda name: members[name]["offset"])
    return list(dict.fromkeys(re.sub(r"\.\d+$", "", name) for name in by_offset))


def test_format_md_names_every_field_a_real_dump_writes(tmp_path: Path) -> None:
    """docs/FORMAT.md is the reference for readers in other languages: the container it lays out
    (magic, trailer, manifest; its example's members one after the other, in the order a dump
    writes them) reads a real dump as it says, and every key the dump writes, in the
    manifest, the safe layer and its records, the frames and the value previews, is one it names."""
    import struct
    import zlib

    from tbdump.model import FORMAT_VERSION

    doc = (REPO / "docs" / "FORMAT.md").read_text(encoding="utf-8")
    data = _dump_of_many_shapes(tmp_path).read_bytes()
    assert re.match(rf"# The tbdump file format \(version {FORMAT_VERSION}\)\n", doc)
    assert data[:8] == b"\x89TBDUMP\n" and data[-8:] == b"\nTBDEND\x1a"
    length, = struct.unpack("<Q", data[-16:-8])
    manifest = json.loads(data[-16 - length:-16])
    example = json.loads(_section(REPO / "docs" / "FORMAT.md", "Container").split("```json\n")[1].split("```")[0])
    assert manifest["format"] == FORMAT_VERSION and set(manifest) <= set(example)
    assert all(re.fullmatch(r"objects|objects\.idx|safe|(globals|source)\.\d+", name) for name in manifest["members"])
    member_keys = set(example["members"]["safe"])
    assert all(set(entry) <= member_keys for entry in manifest["members"].values())
    for members in (manifest["members"], example["members"]):   # "one after the other", from offset 8
        spans = sorted((entry["offset"], entry["size"]) for entry in members.values())
        assert spans[0][0] == 8 and all(a + n == b for (a, n), (b, _) in zip(spans, spans[1:])), spans
    assert _member_order(example["members"]) == _member_order(manifest["members"])

    def member(name: str) -> object:
        entry = manifest["members"][name]
        raw = data[entry["offset"]:entry["offset"] + entry["size"]]
        return json.loads(zlib.decompress(raw) if entry["encoding"] == "zlib" else raw)

    safe = member("safe")
    assert isinstance(safe, dict)
    rows = {row[0].strip("`"): row[1] for row in _table_rows(_section(REPO / "docs" / "FORMAT.md",
                                                                        "Member `safe`: the safe layer"))}
    undocumented = sorted(set(safe) - set(rows))
    for key in ("metadata", "threads", "exceptions"):
        records = [safe[key]] if key == "metadata" else safe[key]
        undocumented += sorted(f"{key}.{field}" for record in records for field in set(record) - _spans(rows[key]))
    undocumented += sorted(f"sources.{field}" for source in safe["sources"].values()
                           for field in set(source) - set(re.findall(r"\b\w+\b", rows["sources"])))
    frame_text = doc.split("\nA frame: ", 1)[1].split("\n\n", 1)[0]
    undocumented += sorted(f"frames.{field}" for frame in safe["frames"] for field in set(frame) - _spans(frame_text))
    value_keys = set(_table_column(doc.split("\nA value (preview)", 1)[1].split("\n## ", 1)[0])[1:])
    values = [value for frame in safe["frames"] for value in frame["vars"].values()]
    values += [value for name in safe["globals"].values() for value in member(name).values()]
    values += [record["value"] for record in safe["exceptions"]]
    undocumented += sorted({f"value.{key}" for value in values for preview in _previews(value)
                            for key in set(preview) - {key.strip("`") for key in value_keys}})
    assert undocumented == []
    # the shapes were there: a cause, a caller above the handler, a redacted value
    assert safe["exceptions"][0]["cause"] is not None and any(frame.get("above") for frame in safe["frames"])
    assert any("red" in preview for value in values for preview in _previews(value))
