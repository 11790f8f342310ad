"""`python -m zoo generate NAME ...`: sample from a trained recipe's weights.

    python -m zoo generate music_lstm --length 600 --temperature 0.8 --seed 0 --num-tunes 10
    python -m zoo generate music_lstm --prompt "X:1" --length 400
    python -m zoo generate music_lstm --pretrained --num-tunes 5

A recipe that can generate defines the hook

    def generate(model, info, config, prompt: str, length: int, temperature: float, seed: int) -> str

returning `prompt` followed by `length` sampled tokens. It must not rely on a
stateful layer or a fixed batch size (it steps its state explicitly) and must
use a seeded stateless RNG, so the same seed gives the same text. It raises a
one-line ValueError for length <= 0, temperature <= 0 or a prompt outside its
vocabulary.

The weights are the run's best ones (`--workdir`, default runs/NAME), or the
shipped ones with `--pretrained`. When the model was trained on ABC tunes, the
text is split into tunes, each saved as .abc and, where music21 parses it and
it has notes, as .mid and .wav (zoo/inference/music.py); the command prints the
valid-song rate. `--num-tunes K` draws K samples (seeds S, S+1, ...) and keeps
the first tune of each. It also prints the generation speed in tokens/second.
"""

import json
import pathlib
import time

from zoo import errors
from zoo import outputs
from zoo.engine import registry

MAX_LENGTH = 1_000_000  # Tokens per sample: more would not fit the sampler's int32 buffers in memory.
# Logits are float32: dividing them by less than this overflows to inf and the draws become NaN.
MIN_TEMPERATURE, MAX_TEMPERATURE = 1e-3, 1e3
RECORD = "generation.json"  # What a generate call wrote into its output folder.
ABC_PROMPT = "X:"  # Every tune in ABC notation starts with its X: reference number.
TEXT_PROMPT = "\n"


def add_command(subparsers) -> None:
    parser = subparsers.add_parser("generate", help="sample text or ABC tunes from a trained recipe")
    parser.add_argument("name")
    parser.add_argument("--workdir", type=pathlib.Path, help="run to load (default: runs/NAME)")
    parser.add_argument("--pretrained", action="store_true", help="use the shipped weights instead of a run")
    parser.add_argument("--length", type=int, default=400, help="tokens to generate per sample (default 400)")
    parser.add_argument("--temperature", type=float, default=1.0, help="> 0; lower is more conservative (default 1)")
    parser.add_argument("--seed", type=int, default=0, help="same seed, same text (default 0)")
    parser.add_argument("--prompt", default=None, help=f"text to continue (default {ABC_PROMPT!r} for ABC tunes, a newline otherwise)")
    parser.add_argument("--num-tunes", type=int, default=0, help="draw K samples and keep the first tune of each (ABC only)")
    parser.add_argument("--out", type=pathlib.Path, help="output folder (default: WORKDIR/generated, or runs/NAME_pretrained/generated)")
    parser.set_defaults(run=run_generate)


def check_request(length, temperature, num_tunes=0) -> None:
    """The checks that need no model: raise a one-line ValueError on a bad value, before any allocation."""
    if isinstance(length, bool) or not isinstance(length, int) or not 1 <= length <= MAX_LENGTH:
        raise errors.UserError(
            f"--length {length!r} is not valid; expected an int in [1, {MAX_LENGTH}] (tokens to generate); "
            "pass e.g. --length 400."
        )
    if not isinstance(temperature, (int, float)) or not MIN_TEMPERATURE <= temperature <= MAX_TEMPERATURE:
        raise errors.UserError(
            f"--temperature {temperature!r} is not valid; expected a number in [{MIN_TEMPERATURE:g}, {MAX_TEMPERATURE:g}] "
            "(1 samples the model's distribution, lower is more conservative); pass e.g. --temperature 0.8."
        )
    if num_tunes < 0:
        raise errors.UserError(f"--num-tunes {num_tunes!r} is not valid; expected an int >= 0 (0: one sample); pass e.g. --num-tunes 10.")


def generation_hook(recipe):
    """The recipe's `generate` hook; a UserError naming the recipes that have one if it has none."""
    return registry.require_hook(recipe, "generate", "cannot generate")


def is_abc(info) -> bool:
    """True when the model was trained on tunes in ABC notation."""
    source = str(info.extras.get("source", "")) if info.extras else ""
    return info.name.startswith("irish") or source.lower().endswith(".abc")


def sample(hook, model, info, config, prompt, length, temperature, seed, num_samples=1):
    """Runs the hook `num_samples` times (seeds seed, seed+1, ...).

    Returns (texts, seconds spent generating, tokens generated).
    """
    texts = []
    started = time.perf_counter()
    for index in range(num_samples):
        texts.append(hook(model, info, config, prompt, length, temperature, seed + index))
    return texts, time.perf_counter() - started, num_samples * length


def run_generate(args) -> int:
    from zoo.inference import music

    check_request(args.length, args.temperature, args.num_tunes)  # These three checks: before TensorFlow loads.
    generation_hook(registry.describe(args.name))
    name = registry.locate(args.name)[0]
    outputs.check(output_folder(args, name), [RECORD, "generated.txt", "tunes.json"], RECORD, "generate")
    recipe = registry.get_recipe(args.name)
    hook = generation_hook(recipe)
    workdir = args.workdir or pathlib.Path("runs") / recipe.name
    from zoo.engine import runs

    loaded = runs.load(recipe, workdir, pretrained=args.pretrained)
    model, info, config = loaded.model, loaded.info, loaded.config
    abc = is_abc(info)
    if args.num_tunes and not abc:
        raise errors.UserError(f"--num-tunes is for models of ABC tunes; {info.name!r} is text; drop --num-tunes.")
    prompt = args.prompt if args.prompt is not None else (ABC_PROMPT if abc else TEXT_PROMPT)
    texts, seconds, tokens = sample(
        hook, model, info, config, prompt, args.length, args.temperature, args.seed, max(1, args.num_tunes)
    )
    out = output_folder(args, recipe.name)
    tunes = []
    if abc:
        tunes = [(music.split_tunes(text) or [text])[0] for text in texts] if args.num_tunes else music.split_tunes(texts[0])
    with outputs.Outputs(out, RECORD, "generate") as outs:
        return _write_outputs(args, outs, texts, tunes, prompt, seconds, tokens, abc)


def output_folder(args, name: str) -> pathlib.Path:
    """--out, or WORKDIR/generated, or runs/NAME_pretrained/generated."""
    workdir = args.workdir or pathlib.Path("runs") / name
    return args.out or (pathlib.Path("runs") / f"{name}_pretrained" if args.pretrained else workdir) / "generated"


def output_names(count: int) -> list:
    """Every file name a generate call with `count` tunes may write."""
    width = max(2, len(str(count)))
    tune_files = [f"tune_{index:0{width}d}{suffix}" for index in range(1, count + 1) for suffix in (".abc", ".mid", ".wav")]
    return [RECORD, "generated.txt", "tunes.json", *tune_files]


def _write_outputs(args, outs, texts, tunes, prompt, seconds, tokens, abc) -> int:
    from zoo.inference import music

    name = registry.locate(args.name)[0]  # The recipe's name, also for a recipe file's path.
    out = outs.folder
    outs.claim(output_names(len(tunes)))
    outs.write_text("generated.txt", "\n\n".join(texts) + "\n")
    for text in texts:
        print(text)
        print()
    rate = tokens / max(seconds, 1e-9)
    print(f"{name}: generated {tokens} tokens in {seconds:.2f} s: {rate:.0f} tokens/s (the first call includes tracing)")
    result = {"recipe": name, "tokens": tokens, "seconds": round(seconds, 3), "tokens_per_second": round(rate, 1),
              "length": args.length, "temperature": args.temperature, "seed": args.seed, "prompt": prompt}
    if abc:
        summary = music.save_tunes(tunes, outs.scratch)  # Drawn aside, then each file moved in.
        for record in summary["files"]:
            for kind in ("abc", "mid", "wav"):
                if record.get(kind):
                    record[kind] = str(outs.place(pathlib.Path(record[kind]).name))
        outs.write_text("tunes.json", json.dumps(summary, indent=2) + "\n")  # With the files' paths in `out`.
        result.update({key: summary[key] for key in ("tunes", "valid", "valid_song_rate", "rendered")})
        print(
            f"{name}: {summary['valid']}/{summary['tunes']} tunes parse and have notes "
            f"(valid-song rate {summary['valid_song_rate']:.0%}), {summary['rendered']} written as "
            f".mid and .wav; files in {out}"
        )
    else:
        print(f"{name}: text written to {out / 'generated.txt'}")
    outs.finish(result)  # Lists what this call wrote: the next call may replace these, and only these.
    return 0
