"""`zoo generate NAME ...`: sample text or ABC tunes, print them and keep them as files.

    zoo generate music_lstm --pretrained --num-tunes 10 --length 600 --temperature 0.8 --seed 0
    zoo generate music_lstm --workdir runs/music_lstm --prompt "X:1" --length 400

Writes into --out (default WORKDIR/generated, or runs/NAME_pretrained/generated):
generated.txt, and for a model of ABC tunes each tune (cut at its 64th bar
line if it runs longer: music.MAX_BARS) as tune_NN.abc, plus
tune_NN.mid and tune_NN.wav when music21 parses it and it has notes
(zoo/inference/music.py), and tunes.json; generation.json lists what this call
wrote, so a rerun replaces only those files (zoo/outputs.py). It prints the
valid-song rate and the speed in tokens/second; with --report, also the tune
report against the training file (zoo/inference/tune_report.py), kept in
generation.json.
"""

import json
import pathlib

from zoo import errors, outputs
from zoo.commands import options

RECORD = "generation.json"  # What a generate call wrote into its output folder.


def add_command(subparsers) -> None:
    from zoo.inference import generate

    parser = subparsers.add_parser("generate", help="sample text or ABC tunes from a trained recipe")
    parser.add_argument("name")
    options.add_model_source(parser)
    parser.add_argument("--length", type=int, default=400, help="tokens to generate per sample (default 400)")
    parser.add_argument("--temperature", type=float, default=1.0, help="> 0; lower is more conservative (default 1)")
    parser.add_argument("--seed", type=int, default=0, help="same seed, same text (default 0)")
    parser.add_argument("--prompt", default=None, help=f"text to continue (default {generate.ABC_PROMPT!r} for ABC tunes, a newline otherwise)")
    parser.add_argument("--num-tunes", type=int, default=0, help="draw K samples and keep the first tune of each (ABC only)")
    parser.add_argument("--report", action="store_true",
                        help="also print the tune report: the tunes beside the training file's (zoo/inference/tune_report.py)")
    parser.add_argument("--out", type=pathlib.Path, help="output folder (default: WORKDIR/generated, or runs/NAME_pretrained/generated)")
    parser.set_defaults(run=run)


def output_names(count: int) -> list:
    """Every file name a generate call with `count` tunes may write."""
    width = max(2, len(str(count)))
    tune_files = [f"tune_{index:0{width}d}{suffix}" for index in range(1, count + 1) for suffix in (".abc", ".mid", ".wav")]
    return [RECORD, "generated.txt", "tunes.json", *tune_files]


def run(args) -> int:
    import zoo
    from zoo.engine import registry
    from zoo.inference import generate

    generate.check_request(args.length, args.temperature, args.num_tunes)  # These checks: before TensorFlow loads.
    generate.generation_hook(registry.describe(args.name))
    name = registry.locate(args.name)[0]  # The recipe's name, also for a recipe file's path.
    out = args.out or options.inspection_folder(args, name, "generated")
    outputs.check(out, [RECORD, "generated.txt", "tunes.json"], RECORD, "generate")
    loaded = options.load_model(args)
    generation = zoo.generate(loaded, prompt=args.prompt, length=args.length,
                              temperature=args.temperature, seed=args.seed, num_tunes=args.num_tunes)
    if args.report and not generation.tunes:
        raise errors.UserError(f"--report is for models of ABC tunes; {name!r} generated text; drop --report.")
    with outputs.Outputs(out, RECORD, "generate") as outs:
        _write(name, generation, outs, loaded.info if args.report else None)
    return 0


def _write(name, generation, outs, report_info=None) -> None:
    from zoo.inference import music

    out = outs.folder
    outs.claim(output_names(len(generation.tunes)))
    outs.write_text("generated.txt", "\n\n".join(generation.texts) + "\n")
    for text in generation.texts:
        print(text)
        print()
    print(f"{name}: generated {generation.tokens} tokens in {generation.seconds:.2f} s: "
          f"{generation.tokens_per_second:.0f} tokens/s (the first call includes tracing)")
    result = {"recipe": name, "tokens": generation.tokens, "seconds": round(generation.seconds, 3),
              "tokens_per_second": round(generation.tokens_per_second, 1), "length": generation.length,
              "temperature": generation.temperature, "seed": generation.seed, "prompt": generation.prompt}
    if generation.tunes:
        summary = music.save_tunes([tune.abc for tune in generation.tunes], outs.scratch)  # Drawn aside, then moved in.
        summary["cut"] = sum(tune.cut for tune in generation.tunes)
        for record, tune in zip(summary["files"], generation.tunes):
            record["cut"] = tune.cut
            for kind in ("abc", "mid", "wav"):
                if record.get(kind):
                    record[kind] = str(outs.place(pathlib.Path(record[kind]).name))
        outs.write_text("tunes.json", json.dumps(summary, indent=2) + "\n")  # With the files' paths in `out`.
        result.update({key: summary[key] for key in ("tunes", "valid", "valid_song_rate", "rendered", "cut")})
        print(
            f"{name}: {summary['valid']}/{summary['tunes']} tunes parse and have notes "
            f"(valid-song rate {summary['valid_song_rate']:.0%}), {summary['rendered']} written as "
            f".mid and .wav; files in {out}"
        )
        if summary["cut"]:
            print(f"{name}: {summary['cut']} tune(s) ran past {music.MAX_BARS} bars and were cut at bar line {music.MAX_BARS}")
        if report_info is not None:
            from zoo.inference import tune_report

            report = tune_report.compare([tune.abc for tune in generation.tunes], tune_report.training_tunes(report_info),
                                         report_info.extras.get("validation_songs", ()))
            result["report"] = report
            print(f"{name}: tune report\n{tune_report.format_report(report)}")
    else:
        print(f"{name}: text written to {out / 'generated.txt'}")
    outs.finish(result)  # Lists what this call wrote: the next call may replace these, and only these.
