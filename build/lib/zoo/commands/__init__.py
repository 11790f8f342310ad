"""The command line: argparse and printing only; each command calls the public API (zoo/__init__.py)."""

import zoo

__getattr__ = zoo.submodules_on_first_use(__name__)  # zoo.commands.MODULE after a plain `import zoo`.
