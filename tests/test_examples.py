"""The commands the README and the recipes' docstrings show run as pasted.

Every command in a code block (README.md's ```sh blocks, the indented command
lines of recipes/*.py docstrings) is checked: no `...` standing in for input,
every file it reads (--input) is shipped, and `--pretrained` is there where the
command needs a model and names no run. The cheap ones (predict, translate,
and attention on the shipped checkpoints, each distinct command once) are run, in-process, from a
scratch folder that sees the checkout's docs/, and must exit 0.
"""

import pathlib
import re
import shlex

import pytest

from zoo.commands import cli

ROOT = pathlib.Path(__file__).resolve().parent.parent
COMMAND = re.compile(r"^\s*(?:\$ )?(python -m zoo|zoo) (.*)$")
NEEDS_A_MODEL = ("predict", "translate", "attention", "features", "generate", "export")
RUN_HERE = ("predict", "translate", "attention")  # features: tests/test_features.py runs the same command


def _code_lines():
    """(where, line) of every command line in a code block."""
    in_block = False
    for number, line in enumerate((ROOT / "README.md").read_text().splitlines(), start=1):
        if line.startswith("```"):
            in_block = not in_block and line.strip() in ("```sh", "```bash", "```shell")
            continue
        if in_block:
            yield f"README.md:{number}", line
    for path in sorted((ROOT / "recipes").glob("*.py")):
        text = path.read_text()
        docstring = text.split('"""')[1] if text.startswith('"""') else ""
        for number, line in enumerate(docstring.splitlines(), start=1):
            if line.startswith("    "):
                yield f"recipes/{path.name}:{number}", line


def examples() -> list:
    found = []
    for where, line in _code_lines():
        match = COMMAND.match(line)
        if match:
            command = match.group(2).split("  #")[0].split(" # ")[0].strip()
            found.append((where, shlex.split(command)))
    return found


EXAMPLES = examples()


def test_the_examples_are_found():
    assert len(EXAMPLES) >= 15
    assert {"predict", "translate", "generate", "train"} <= {argv[0] for _, argv in EXAMPLES}


@pytest.mark.parametrize("where, argv", EXAMPLES, ids=[where for where, _ in EXAMPLES])
def test_an_example_names_real_files_and_no_placeholder(where, argv):
    assert "..." not in " ".join(argv), f"{where}: `...` is not something a user can paste"
    if "--input" in argv:
        given = argv[argv.index("--input") + 1]
        assert given == "-" or (ROOT / given).is_file(), f"{where}: {given} is not shipped"
    if argv[0] in NEEDS_A_MODEL:
        assert "--pretrained" in argv or "--workdir" in argv, f"{where}: needs --pretrained (no run is named)"


CHEAP = list({tuple(argv): (where, argv) for where, argv in EXAMPLES if argv[0] in RUN_HERE and "--pretrained" in argv}.values())


@pytest.mark.parametrize("where, argv", CHEAP, ids=[where for where, _ in CHEAP])
def test_a_cheap_example_runs_as_pasted(where, argv, tmp_path, monkeypatch, capsys):
    (tmp_path / "docs").symlink_to(ROOT / "docs")
    monkeypatch.chdir(tmp_path)
    code = cli.main(argv)
    captured = capsys.readouterr()
    assert code == 0, f"{where}: {captured.err}"
    assert captured.out.strip()
