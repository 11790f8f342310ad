"""The notebooks' sources, their .ipynb twins, and running them.

Each notebook is written as a jupytext "percent" script (NN_name.py: readable
diffs, cells marked `# %%`) and kept beside it as NN_name.ipynb without outputs,
which Jupyter, VS Code and Colab open. The .ipynb is made from the .py, never
edited by hand (with jupytext installed, Jupyter keeps the pair in sync).

    python notebooks/build.py sync            # writes every NN_name.ipynb from its .py
    python notebooks/build.py check           # exit 1 when an .ipynb is not its .py's (stale)
    python notebooks/build.py run [--quick] [--out runs/notebooks] [NAME ...]
                                              # executes each in a fresh kernel; writes OUT/NAME.ipynb with outputs

`make notebooks` is sync, then run. tests/test_notebooks.py runs check, then
every notebook with ZOO_NOTEBOOK_QUICK=1 (the notebooks' small settings).
"""

import argparse
import concurrent.futures
import json
import os
import pathlib
import sys
import time

HERE = pathlib.Path(__file__).resolve().parent
FORMAT = "py:percent"
KERNEL = {"display_name": "Python 3", "language": "python", "name": "python3"}


def sources() -> list:
    """The notebooks' .py sources, in the course's order (NN_name.py)."""
    return sorted(path for path in HERE.glob("[0-9][0-9]_*.py"))


def notebook_from_source(source: pathlib.Path):
    """The .ipynb (a NotebookNode, no outputs) that `source` stands for, with ids fixed by position."""
    import jupytext

    notebook = jupytext.read(source, fmt=FORMAT)
    notebook.metadata = {"jupytext": {"formats": f"ipynb,{FORMAT}"}, "kernelspec": KERNEL, "language_info": {"name": "python"}}
    for index, cell in enumerate(notebook.cells):
        cell.id = f"{source.stem[:2]}-{index:02d}"
        cell.metadata = {}
    return notebook


def cells(notebook) -> list:
    return [(cell.cell_type, cell.source, cell.get("outputs", []), cell.get("execution_count")) for cell in notebook.cells]


def stale(source: pathlib.Path) -> str:
    """Why the .ipynb beside `source` is not what `sync` would write ("" when it is)."""
    import nbformat

    twin = source.with_suffix(".ipynb")
    if not twin.is_file():
        return f"{twin.name} is missing"
    expected, found = cells(notebook_from_source(source)), cells(nbformat.read(twin, as_version=4))
    if found == expected:
        return ""
    if any(outputs or count for _, _, outputs, count in found):
        return f"{twin.name} holds outputs; it is kept without them"
    return f"{twin.name} differs from {source.name} ({sum(a != b for a, b in zip(found, expected)) + abs(len(found) - len(expected))} cells)"


def write_notebook(notebook, path: pathlib.Path) -> None:
    """Writes atomically, replacing only a notebook this file wrote (its metadata says jupytext's pair or "zoo")."""
    import nbformat

    if path.exists():
        metadata = json.loads(path.read_text(encoding="utf-8")).get("metadata", {})
        if "jupytext" not in metadata and "zoo" not in metadata:
            raise SystemExit(f"error: {path} is not a notebook this command wrote; move it away first.")
    temporary = path.with_name(f".tmp-{os.getpid()}-{path.name}")
    nbformat.write(notebook, temporary)
    os.replace(temporary, path)


def sync() -> int:
    for source in sources():
        if stale(source):
            write_notebook(notebook_from_source(source), source.with_suffix(".ipynb"))
            print(f"wrote {source.with_suffix('.ipynb').name}")
    return 0


def check() -> int:
    problems = [problem for problem in map(stale, sources()) if problem]
    for problem in problems:
        print(f"stale: {problem}; run `make notebooks` (or python notebooks/build.py sync)", file=sys.stderr)
    return 1 if problems else 0


def kernel_environment(quick: bool, runs: pathlib.Path) -> dict:
    """The kernel's environment: the notebooks' switches, and nothing that would hide a problem.

    TF_CPP_MIN_LOG_LEVEL is left out so that the kernel shows what a learner's would
    (the zoo must keep TensorFlow's start-up lines out itself), and MPLBACKEND so that
    figures are drawn inline.
    """
    environment = {key: value for key, value in os.environ.items() if key not in ("TF_CPP_MIN_LOG_LEVEL", "MPLBACKEND")}
    environment.update(ZOO_NOTEBOOK_RUNS=str(runs), PYTHONUNBUFFERED="1")
    if quick:
        environment["ZOO_NOTEBOOK_QUICK"] = "1"
    else:
        environment.pop("ZOO_NOTEBOOK_QUICK", None)
    return environment


def execute(source: pathlib.Path, runs: pathlib.Path, quick: bool = False, extra_code: str = "", timeout: int = 900):
    """Runs the notebook of `source` top to bottom in a fresh kernel (working folder: notebooks/).

    `extra_code`, when given, runs as one more cell after the last (the tests read the
    notebook's numbers with it). Returns (the executed notebook, seconds). A failing cell
    raises nbclient's CellExecutionError, which names the cell and holds its traceback.
    """
    import nbclient
    import nbformat

    notebook = notebook_from_source(source)
    if extra_code:
        notebook.cells.append(nbformat.v4.new_code_cell(extra_code, id="extra"))
    started = time.perf_counter()
    client = nbclient.NotebookClient(notebook, timeout=timeout, kernel_name="python3", resources={"metadata": {"path": str(HERE)}})
    client.execute(env=kernel_environment(quick, runs / source.stem))
    return notebook, time.perf_counter() - started


def run(names, out: pathlib.Path, quick: bool, workers: int) -> int:
    chosen = [source for source in sources() if not names or source.stem in names or source.stem[:2] in names]
    out.mkdir(parents=True, exist_ok=True)

    def one(source):
        notebook, seconds = execute(source, out, quick)
        notebook.metadata["zoo"] = {"source": source.name, "quick": quick, "seconds": round(seconds, 1)}
        write_notebook(notebook, out / f"{source.stem}.ipynb")
        return f"{source.stem}: {seconds:.1f} s -> {out / (source.stem + '.ipynb')}"

    with concurrent.futures.ThreadPoolExecutor(workers) as pool:
        for line in pool.map(one, chosen):
            print(line, flush=True)
    return 0


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("sync", help="write every .ipynb from its .py")
    commands.add_parser("check", help="exit 1 when an .ipynb is stale")
    running = commands.add_parser("run", help="execute the notebooks and write them with their outputs")
    running.add_argument("names", nargs="*", help="notebooks to run (01, or 01_perceptron); default all")
    running.add_argument("--out", type=pathlib.Path, default=pathlib.Path("runs/notebooks"), help="where the executed notebooks (and their runs) go")
    running.add_argument("--quick", action="store_true", help="the tests' small settings (ZOO_NOTEBOOK_QUICK=1)")
    running.add_argument("--workers", type=int, default=2, help="notebooks run at once (default 2)")
    args = parser.parse_args(argv)
    if args.command == "sync":
        return sync()
    if args.command == "check":
        return check()
    return run(args.names, args.out.resolve(), args.quick, args.workers)


if __name__ == "__main__":
    sys.exit(main())
