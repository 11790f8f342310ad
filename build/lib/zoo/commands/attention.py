"""`zoo attention NAME --text TEXT`: a PNG heatmap of a transformer block's attention, one per head.

    zoo attention music_transformer --pretrained --text "X:1\\nK:D\\n|:dAFA dAFA|"
    zoo attention music_transformer --pretrained --text "K:G\\nGABc" --block 2
    zoo attention sentiment_transformer --workdir runs/sentiment_transformer --text "K:D\\n|:dAFA dAFA|" --out map.png

In `--text`, the two characters backslash-n stand for a newline (ABC tunes are
line based). The PNG goes to --out (default WORKDIR/attention/, or
runs/NAME_pretrained/attention/: never a training run's own files). Its folder
gets `attention.json`, the list of the PNGs attention wrote there: a rerun
replaces its own PNG, and a file of the user's (or a symbolic link) at `--out`
is refused, never overwritten (zoo/outputs.py).
"""

import pathlib

from zoo import errors, outputs
from zoo.commands import options

RECORD = "attention.json"  # The PNGs attention wrote into a folder: a rerun may replace these, and only these.


def add_command(subparsers) -> None:
    parser = subparsers.add_parser("attention", help="PNG heatmap of a transformer's attention weights, per head")
    parser.add_argument("name")
    options.add_model_source(parser)
    parser.add_argument("--text", required=True, help="the input to attend over (\\n = newline)")
    parser.add_argument("--block", type=int, default=1, help="which transformer block, from 1 (default 1)")
    parser.add_argument("--out", type=pathlib.Path, help="PNG to write (default: WORKDIR/attention/attention_block<N>.png)")
    parser.set_defaults(run=run)


def run(args) -> int:
    import zoo
    from zoo.engine import registry
    from zoo.inference import attention

    attention.attention_hook(registry.describe(args.name))  # These mistakes are said before TensorFlow loads.
    text = args.text.replace("\\n", "\n")
    attention.check_request(text, args.block)
    if args.out is not None and args.out.suffix.lower() != ".png":
        raise errors.UserError(f"--out {str(args.out)!r} is not a .png path; pass e.g. --out attention.png.")
    name = registry.locate(args.name)[0]
    out = args.out or options.inspection_folder(args, name, "attention") / f"attention_block{args.block}.png"
    folder = out.absolute().parent  # Its folder holds RECORD, which lists the PNGs attention wrote there.
    outputs.check(folder, [out.name], RECORD, "attention")
    found = zoo.attention(options.load_model(args), text, block=args.block)
    heads = found.weights.shape[0]
    title = f"{name}: block {args.block}, {len(found.tokens)} tokens, {heads} heads"
    with outputs.Outputs(folder, RECORD, "attention", keeps_earlier=True) as outs:
        outs.claim([out.name])
        attention.plot_attention(found.tokens, found.weights, outs.scratch / out.name, title)
        outs.place(out.name)
        outs.finish()
    print(f"{name}: attention of block {args.block} ({heads} heads, {len(found.tokens)} tokens) written to {out}")
    return 0
