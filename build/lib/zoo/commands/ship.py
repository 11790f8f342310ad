"""`zoo ship NAME [key=value ...] --seeds 0,1,2`: train each seed, ship the best with its card (zoo/hub/ship.py).

    zoo ship digits_mlp --seeds 0,1,2
"""

import pathlib

from zoo.commands import options


def add_command(subparsers) -> None:
    parser = options.add_intermixed_parser(
        subparsers, "ship", help="train seeds, ship the best weights to pretrained/NAME with a generated model card"
    )
    parser.add_argument("name")
    parser.add_argument("overrides", nargs="*", metavar="key=value")
    parser.add_argument("--seeds", default="0,1,2", help="comma-separated seeds (default 0,1,2)")
    parser.add_argument("--workdir", type=pathlib.Path, help="where the seed runs go (default runs/ship/NAME)")
    parser.add_argument("--quiet", action="store_true", help="no progress bars")
    parser.set_defaults(run=run)


def run(args) -> int:
    import zoo
    from zoo.hub import ship

    card = zoo.ship(args.name, args.overrides, seeds=ship.parse_seeds(args.seeds), workdir=args.workdir, verbose=not args.quiet)
    print(f"{args.name}: shipped seed {card['shipped_seed']} to pretrained/{args.name}/; {card['headline']} "
          f"(test, mean ± std over seeds {','.join(map(str, card['seeds']))})")
    return 0
