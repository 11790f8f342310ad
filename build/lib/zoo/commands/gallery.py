"""`zoo gallery`: a static site of every shipped checkpoint, with playable tunes (zoo/page/gallery.py).

    zoo gallery --tunes 3            # site/index.html: open it from disk
    zoo gallery --only digits_cnn,music_lstm --out /tmp/site --screenshot docs/gallery.png
"""

import pathlib


def add_command(subparsers) -> None:
    from zoo.page import gallery

    parser = subparsers.add_parser("gallery", help="a static site of every shipped checkpoint, with playable tunes")
    parser.add_argument("--out", type=pathlib.Path, default=pathlib.Path("site"), help="default: site/")
    parser.add_argument("--tunes", type=int, default=3, help="tunes per music recipe (default 3)")
    parser.add_argument("--length", type=int, default=600, help="characters sampled per tune (default 600)")
    parser.add_argument("--temperature", type=float, default=0.8)
    parser.add_argument("--seed", type=int, default=0, help="first sampling seed (default 0)")
    parser.add_argument("--only", help="comma-separated recipes (default: every shipped one)")
    parser.add_argument("--abcjs", type=pathlib.Path, help=f"abcjs-basic-min.js (default: ./{gallery.ABCJS}, then the checkout's)")
    parser.add_argument("--screenshot", type=pathlib.Path, help="also save a PNG of the first music recipe's section (needs chromium)")
    parser.set_defaults(run=run)


def run(args) -> int:
    from zoo.page import gallery

    made = gallery.make(args.out, args.only, args.abcjs, args.tunes, args.length, args.temperature, args.seed, args.screenshot)
    print(f"gallery: {len(made['names'])} recipes, {made['tunes']} tunes in {made['seconds']:.0f} s; open {args.out / 'index.html'}")
    if made["screenshot_of"]:
        print(f"gallery: screenshot of {made['screenshot_of']} in {args.screenshot}")
    return 0
