"""The command line: argparse and printing only; each command calls the public API (zoo/__init__.py)."""
