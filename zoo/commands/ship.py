"""`zoo ship NAME [key=value ...] --seeds 0,1,2`: train each seed, ship the best with its card (zoo/hub/ship.py).

    zoo ship digits_mlp --seeds 0,1,2
    zoo ship music_lstm --card-only      # rewrite the card from the shipped files, no training
"""

import pathlib

from zoo import errors
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
    parser.add_argument("--card-only", action="store_true",
                        help="rewrite the shipped card from pretrained/NAME's own files (a music model's card gains its "
                             "tune report); trains nothing, keeps the weights")
    parser.set_defaults(run=run)


def run(args) -> int:
    import zoo
    from zoo.hub import ship

    if args.card_only:
        if args.overrides or args.workdir:
            raise errors.UserError("--card-only rewrites the shipped card as it is; drop the key=value overrides and --workdir.")
        card = zoo.ship(args.name, card_only=True)
        rows = [row for section in card.get("sections", []) for row in section.get("rows", [])]
        valid = ", ".join(f"{row['valid']}/{row['tunes']} at temperature {row['temperature']:g}" for row in rows)
        print(f"{args.name}: rewrote pretrained/{args.name}/card.json and MODEL_CARD.md from the shipped files"
              + (f"; valid tunes {valid}" if rows else ""))
        return 0
    card = zoo.ship(args.name, args.overrides, seeds=ship.parse_seeds(args.seeds), workdir=args.workdir, verbose=not args.quiet)
    print(f"{args.name}: shipped seed {card['shipped_seed']} to pretrained/{args.name}/; {card['headline']} "
          f"(test, mean ± std over seeds {','.join(map(str, card['seeds']))})")
    return 0
