"""`zoo gallery`: the zoo in the browser, every shipped model live, in the order of the lectures (zoo/page/gallery.py).

    zoo gallery                      # site/index.html: open it from disk
    zoo gallery --only digits_cnn,digits_mlp --out /tmp/site
    zoo gallery --screenshots docs/  # also docs/page_digits.png and docs/page_translation.png (needs chromium)
"""

import pathlib


def add_command(subparsers) -> None:
    from zoo.page import gallery

    parser = subparsers.add_parser("gallery", help="a static site where every shipped model runs live, in the order of the lectures")
    parser.add_argument("--out", type=pathlib.Path, default=pathlib.Path("site"), help="default: site/")
    parser.add_argument("--only", help="comma-separated recipes (default: every shipped one)")
    parser.add_argument("--abcjs", type=pathlib.Path, help=f"abcjs-basic-min.js (default: ./{gallery.ABCJS}, then the checkout's)")
    parser.add_argument("--screenshots", type=pathlib.Path, metavar="FOLDER",
                        help=f"also save {' and '.join(gallery.SCREENSHOTS)} there, taken in headless chromium after drawing a digit and translating")
    parser.set_defaults(run=run)


def run(args) -> int:
    from zoo.page import gallery

    made = gallery.make(args.out, args.only, args.abcjs, args.screenshots)
    print(f"gallery: {len(made['names'])} models in {made['seconds']:.0f} s; open {args.out / 'index.html'}")
    for png in made["screenshots"]:
        print(f"gallery: screenshot {png}")
    return 0
