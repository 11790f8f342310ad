"""Flags that several commands share, declared once: where the model comes from, and `key=value` words.

Every command that reads a trained model takes the same pair, exclusive:
`--workdir DIR` (a run's best weights; default runs/NAME) or `--pretrained`
(the zoo's shipped, hash-checked checkpoint).
"""

import pathlib

WORKDIR_HELP = "the run whose best weights to use (default: runs/NAME)"
PRETRAINED_HELP = "use the zoo's shipped checkpoint instead of a run"


def add_model_source(parser) -> None:
    """--workdir DIR | --pretrained, exclusive, with one help text for every command."""
    source = parser.add_mutually_exclusive_group()
    source.add_argument("--workdir", type=pathlib.Path, help=WORKDIR_HELP)
    source.add_argument("--pretrained", action="store_true", help=PRETRAINED_HELP)


def load_model(args):
    """The model `args.name`, `args.workdir` and `args.pretrained` name (zoo.load)."""
    import zoo

    return zoo.load(args.name, args.workdir, pretrained=args.pretrained)


def inspection_folder(args, name: str, folder: str) -> pathlib.Path:
    """Where an inspection command writes by default: WORKDIR/FOLDER for a run, runs/NAME_pretrained/FOLDER
    for the shipped checkpoint; never a training run's own files."""
    from zoo.engine import rundir

    if args.pretrained:
        return rundir.default_workdir(f"{name}_pretrained") / folder
    return (args.workdir or rundir.default_workdir(name)) / folder


def add_intermixed_parser(subparsers, name: str, **kwargs):
    """`subparsers.add_parser`, but `key=value` words may also follow the options.

    argparse (before Python 3.12) stops filling a `nargs="*"` positional at the
    first option, so `tune NAME --trials 2 epochs=3` would be an error. This
    parser parses intermixed options and positionals instead.
    """
    base = subparsers._parser_class

    class IntermixedParser(base):
        _inside = False

        def parse_known_args(self, args=None, namespace=None):
            if self._inside:
                return super().parse_known_args(args, namespace)
            self._inside = True
            try:
                return self.parse_known_intermixed_args(args, namespace)
            finally:
                self._inside = False

    subparsers._parser_class = IntermixedParser
    try:
        return subparsers.add_parser(name, **kwargs)
    finally:
        subparsers._parser_class = base
