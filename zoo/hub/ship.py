"""`python -m zoo ship NAME`: train 3 seeds, ship the best, write its model card.

    python -m zoo ship digits_mlp                       # seeds 0,1,2, the recipe's defaults
    python -m zoo ship music_lstm --seeds 0,1,2 epochs=3

For each seed it runs the recipe's own training (the same as
`python -m zoo train NAME seed=S key=value ...`) in WORKDIR/seed_S (default
WORKDIR: runs/ship/NAME) and evaluates the result on the test split. It then
ships the weights of the seed with the lowest validation loss (never chosen
on the test split) to pretrained/NAME/, and GENERATES the card from the runs:

    pretrained/NAME/model.weights.h5   the weights (sha256 in the manifest)
    pretrained/NAME/config.json        the run's config.json
    pretrained/NAME/card.json          everything below, machine-readable
    pretrained/NAME/MODEL_CARD.md      the same, for people

The card holds the command, the seeds, the test metrics as mean ± std over the
seeds (sample std, n - 1), the shipped seed's own test metrics, wall time and
hardware, TF/Keras versions, the git commit, the dataset fingerprint and the
parameter count. A seed whose run finished earlier (WORKDIR/seed_S/ship_seed.json
with the same config) is not trained again, so rerunning `ship` regenerates the
card from the recorded runs. tests/test_pretrained.py re-evaluates every
shipped checkpoint against its card, so a stale card fails the tests.
"""

import contextlib
import datetime
import json
import math
import os
import pathlib
import platform
import shutil

from absl import logging

from zoo import errors, files
from zoo.hub import pretrained

MAX_WEIGHTS_BYTES = 8 * 2**20  # Shipped files live in git: a few MB at most.
SEED_RECORD = "ship_seed.json"


CURVES_ROLE = "curves_seed_"  # Manifest roles of each seed's metrics.jsonl: curves_seed_0, ...


def parse_seeds(text: str) -> list:
    try:
        seeds = [int(part, 10) for part in str(text).split(",") if part.strip()]
    except ValueError:
        raise errors.UserError(f"--seeds {text!r} is not a comma-separated list of ints; pass e.g. --seeds 0,1,2.") from None
    if not seeds or len(set(seeds)) != len(seeds) or min(seeds) < 0:
        raise errors.UserError(f"--seeds {text!r}: give distinct seeds >= 0, e.g. --seeds 0,1,2.")
    return seeds


def ship(name, overrides=(), seeds=(0, 1, 2), workdir=None, verbose=True, destination=None, manifest_path=None,
         sections=None) -> dict:
    """Trains `name` for each seed, ships the best and writes its card; returns the card.

    `sections(name, loaded)`, when given, returns the card's extra sections for the shipped
    model (zoo.ship passes the tune report's, zoo/inference/tune_report.py): a list of
    {"title", "markdown", ...}, kept in card.json and rendered after the results.
    """
    from zoo.engine import config as config_lib
    from zoo.engine import registry, rundir

    recipe = registry.get_recipe(name)
    overrides = config_lib.split_overrides(list(overrides))
    if "seed" in overrides:
        raise errors.UserError("Do not pass seed=...: `ship` trains every seed in --seeds (e.g. --seeds 0,1,2).")
    root = pathlib.Path(workdir or rundir.default_workdir("ship", name))
    destination = pathlib.Path(destination or pretrained.PRETRAINED_DIR / name)
    with files.owned(root):
        return _ship(name, recipe, overrides, seeds, root, destination, manifest_path, verbose, sections)


def _ship(name, recipe, overrides, seeds, root, destination, manifest_path, verbose, sections) -> dict:
    from zoo.engine import config as config_lib
    from zoo.engine import rundir, runs

    records = []
    for seed in seeds:
        config = config_lib.make_config(recipe.Config, {**overrides, "seed": str(seed)})
        records.append(_train_seed(recipe, config, root / f"seed_{seed}", verbose))

    best = min(records, key=lambda record: record["best_validation"]["loss"])
    best_dir = root / f"seed_{best['seed']}"
    run = rundir.RunDir(best_dir)
    weights_bytes = run.best_weights.stat().st_size
    if weights_bytes > MAX_WEIGHTS_BYTES:
        raise errors.UserError(
            f"{run.best_weights} is {weights_bytes / 2**20:.1f} MiB, over the {MAX_WEIGHTS_BYTES // 2**20} MiB "
            "that a shipped checkpoint may take in git; ship a smaller config."
        )
    # Evaluate the weights file exactly as a user (and the tests) will load it.
    shipped = runs.load_run(recipe, best_dir)
    shipped_test = runs.evaluate_model(recipe, shipped.model, shipped.splits, "test")
    extra_sections = sections(name, shipped) if sections else []

    # Everything is written to a staging folder first and swapped in at the end.
    staging = destination.with_name(f".{destination.name}.new")
    if staging.exists():
        shutil.rmtree(staging)  # Our own, left by a ship killed before its swap.
    staging.mkdir(parents=True)
    weights_sha = pretrained.copy_verified(run.best_weights, staging / "model.weights.h5")
    # The run's config.json, but with the recipe file named as the checkout knows it
    # (recipes/NAME.py), never by a path of the machine that shipped it.
    shipped_config = run.read_config()
    if shipped_config.get("recipe_file"):
        shipped_config["recipe_file"] = {**shipped_config["recipe_file"], "path": portable_path(recipe.path)}
    _write_json(staging / "config.json", shipped_config)
    config_sha = files.sha256_file(staging / "config.json")

    override_text = " ".join(f"{key}={value}" for key, value in overrides.items())
    metric_names = ["loss", *recipe.module.METRICS]
    summary = {metric: _mean_std([r["test"][metric] for r in records]) for metric in metric_names}
    headline_metric = recipe.headline
    headline = _headline(headline_metric, summary[headline_metric])
    report_keys = sorted(
        key for key in records[0].get("report", {})
        if all(isinstance(r.get("report", {}).get(key), (int, float)) for r in records)
    )
    info = shipped.info
    card = {
        "name": name,
        "recipe": recipe.name,
        "summary": recipe.summary,
        "task": recipe.task,
        "command": f"python -m zoo ship {name} --seeds {','.join(map(str, seeds))}" + (f" {override_text}" if override_text else ""),
        "train_command": f"python -m zoo train {name} seed=SEED" + (f" {override_text}" if override_text else ""),
        "overrides": overrides,
        "seeds": list(seeds),
        "selection": "the seed with the lowest validation loss (the test split plays no part in the choice)",
        "shipped_seed": best["seed"],
        "split": "test",
        "headline_metric": headline_metric,
        "headline": headline,
        "test_metrics": summary,
        "shipped_test_metrics": shipped_test,
        "report": {key: _mean_std([r["report"][key] for r in records]) for key in report_keys},
        "per_seed": [
            {
                "seed": r["seed"],
                "test": r["test"],
                "best_validation": r["best_validation"],
                "steps": r["steps"],
                "wall_time_s": r["wall_time_s"],
            }
            for r in records
        ],
        "wall_time_s": {"per_seed": [r["wall_time_s"] for r in records], "total": round(sum(r["wall_time_s"] for r in records), 1)},
        "hardware": records[0]["hardware"],
        "versions": records[0]["versions"],
        "git_commit": records[0]["git_commit"],
        "dataset": {
            "name": info.name,
            "fingerprint": info.fingerprint,
            "num_examples": dict(info.num_examples),
            "num_classes": info.num_classes,
            "class_names": list(info.class_names),
        },
        "parameters": int(shipped.model.count_params()),
        "weights": {"file": "model.weights.h5", "bytes": weights_bytes, "sha256": weights_sha},
        "config": config_lib.to_dict(shipped.config),
        "created": _now(),
        **({"sections": extra_sections} if extra_sections else {}),
    }
    _write_json(staging / "card.json", card)
    (staging / "MODEL_CARD.md").write_text(render_card(card))
    shipped_file = lambda file_name: {  # noqa: E731
        "path": pretrained.relative(destination / file_name),
        "sha256": files.sha256_file(staging / file_name),
    }
    # Each seed's per-epoch metrics, so that the page (zoo/page) can draw the training curves.
    curves = {}
    for record in records:
        metrics = root / f"seed_{record['seed']}" / "metrics.jsonl"
        if metrics.is_file():
            shutil.copy(metrics, staging / f"metrics_seed_{record['seed']}.jsonl")
            curves[f"{CURVES_ROLE}{record['seed']}"] = shipped_file(f"metrics_seed_{record['seed']}.jsonl")
    entry = {
        "recipe": recipe.name,
        "files": {
            "weights": {"path": pretrained.relative(destination / "model.weights.h5"), "sha256": weights_sha, "bytes": weights_bytes},
            "config": {"path": pretrained.relative(destination / "config.json"), "sha256": config_sha},
            "card": shipped_file("card.json"),
            "model_card": shipped_file("MODEL_CARD.md"),
            **curves,
        },
        "card": pretrained.relative(destination / "MODEL_CARD.md"),
        "headline": headline,
        "headline_metric": headline_metric,
        "split": "test",
        "seeds": list(seeds),
        "shipped_seed": best["seed"],
        "test_metrics": summary,
        "shipped_test_metrics": shipped_test,
    }
    swap_in(staging, destination, name, entry, manifest_path)
    return card


def _now() -> str:
    return datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")


def refresh_card(name: str, sections, destination=None, manifest_path=None, root=None) -> dict:
    """Rewrites the card of shipped checkpoint `name` from its own files, with the extra sections
    `sections(name, loaded)` gives for its weights (`zoo ship NAME --card-only`): no training,
    the weights, config and curves unchanged.

    The new folder is staged beside the old one and swapped in as `ship` does. `root`: where the
    manifest's relative paths start (default: the checkout).
    """
    destination = pathlib.Path(destination or pretrained.PRETRAINED_DIR / name)
    loaded = pretrained.load(name, manifest_path, root)  # Every file verified against the manifest.
    card = pretrained.read_card(name, manifest_path, root)
    card.pop("sections", None)
    extra_sections = sections(name, loaded)
    if extra_sections:
        card["sections"] = extra_sections
    entry = pretrained.entry_for(name, manifest_path)
    staging = destination.with_name(f".{destination.name}.new")
    if staging.exists():
        shutil.rmtree(staging)  # Our own, left by a ship killed before its swap.
    staging.mkdir(parents=True)
    for spec in entry["files"].values():
        file_name = pathlib.Path(spec["path"]).name
        if file_name not in ("card.json", "MODEL_CARD.md"):
            if pretrained.copy_verified(destination / file_name, staging / file_name) != spec["sha256"]:
                raise errors.UserError(f"{destination / file_name} fails its check against the manifest; reship {name}.")
    _write_json(staging / "card.json", card)
    (staging / "MODEL_CARD.md").write_text(render_card(card))
    for role, file_name in (("card", "card.json"), ("model_card", "MODEL_CARD.md")):
        entry["files"][role] = {**entry["files"][role], "sha256": files.sha256_file(staging / file_name)}
    swap_in(staging, destination, name, entry, manifest_path)
    return card


def swap_in(staging: pathlib.Path, destination: pathlib.Path, name: str, entry: dict, manifest_path=None) -> None:
    """Replaces pretrained/NAME with `staging` and its manifest entry, so that a kill leaves one or the other.

    The old folder is renamed to .NAME.old, the staging folder to NAME, then
    the manifest is rewritten atomically (the commit point), and only then is
    .NAME.old removed. Until the manifest names the new files, a load reads the
    old ones from .NAME.old (pretrained.read_verified); the next ship finishes
    or undoes a swap that a kill interrupted (`recover_swap`).
    """
    with files.owned(destination.parent, "pretrained folder", lock_name=f".{destination.name}.lock", wait=True):
        recover_swap(destination, name, manifest_path)
        old = destination.with_name(f".{destination.name}.old")
        if destination.exists():
            os.replace(destination, old)
        os.replace(staging, destination)
        update_manifest(name, entry, manifest_path)
        if old.exists():
            shutil.rmtree(old)


def recover_swap(destination: pathlib.Path, name: str, manifest_path=None) -> None:
    """Finishes or undoes a swap that a kill interrupted, by what the manifest names."""
    old = destination.with_name(f".{destination.name}.old")
    if not old.exists():
        return
    entry = pretrained.read_manifest(manifest_path)["models"].get(name, {})
    specs = entry.get("files", {}).values()

    def names_of(folder):
        """True when `folder` holds the very files the manifest entry names."""
        paths = [folder / pathlib.Path(spec["path"]).name for spec in specs if "path" in spec]
        hashes = [spec.get("sha256") for spec in specs if "path" in spec]
        return all(path.is_file() and files.sha256_file(path) == expected for path, expected in zip(paths, hashes))

    if specs and destination.exists() and names_of(destination):
        shutil.rmtree(old)  # The manifest was rewritten: the swap was done.
        return
    if destination.exists():
        shutil.rmtree(destination)  # The new folder never became the shipped one.
    os.replace(old, destination)


def _train_seed(recipe, config, workdir: pathlib.Path, verbose: bool) -> dict:
    """Trains one seed (or reuses its finished record); returns the record (engine/record.py)."""
    from zoo.engine import record

    record_path = workdir / SEED_RECORD
    saved = record.finished(record_path, config, needs=[workdir / "best.weights.h5"])
    if saved is not None:
        if verbose:
            logging.info(f"{recipe.name} seed {config.seed}: reusing the finished run in {workdir}")
        return saved
    if record_path.exists():  # A damaged record is one line naming it, never trained over.
        files.read_json(record_path, f"it is the record of a finished seed: move {workdir} aside or pass another --workdir")
    extra = {"seed": config.seed, "hardware": describe_hardware()}  # The load when training started.
    result = record.train_and_record(recipe, config, workdir, record_path, verbose=verbose, extra=extra, evaluate_test=True)
    if result["status"] != "ok":
        raise FloatingPointError(f"{recipe.name} seed {config.seed}: {result['message']}")
    if verbose:
        logging.info(f"{recipe.name} seed {config.seed}: {result['wall_time_s']:.1f} s, test "
                     + ", ".join(f"{k}={v:.4f}" for k, v in result["test"].items()))
    return result


def portable_path(path) -> str:
    """`path` relative to the checkout (recipes/NAME.py), or only its file name when it lies elsewhere."""
    relative = pretrained.relative(path)
    return relative if not pathlib.Path(relative).is_absolute() else pathlib.Path(path).name


def describe_hardware() -> dict:
    """CPU model, cores, GPUs and the load when training started (the machine may be shared)."""
    import tensorflow as tf

    cpu = platform.processor() or platform.machine()
    with contextlib.suppress(OSError):
        for line in pathlib.Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    gpus = [device.name for device in tf.config.list_physical_devices("GPU")]
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else None
    return {
        "cpu": cpu,
        "cpu_cores": os.cpu_count(),
        "gpus": gpus,
        "system": f"{platform.system()} {platform.machine()}",
        "load_average_1min_at_start": round(load, 2) if load is not None else None,
    }


def _mean_std(values) -> dict:
    values = [float(v) for v in values]
    mean = sum(values) / len(values)
    std = math.sqrt(sum((v - mean) ** 2 for v in values) / (len(values) - 1)) if len(values) > 1 else 0.0
    return {"mean": mean, "std": std, "values": values}


def _headline(metric: str, stats: dict) -> str:
    return f"{metric} {stats['mean']:.3f} ± {stats['std']:.3f}"


def _write_json(path: pathlib.Path, value) -> None:

    files.write_atomically(path, json.dumps(value, indent=2, ensure_ascii=False) + "\n")


def update_manifest(name: str, entry: dict, manifest_path=None) -> None:
    """Sets models[name] = entry in the manifest (under a lock: ships may run in parallel)."""
    path = pathlib.Path(manifest_path or pretrained.MANIFEST)
    with files.owned(path.parent, "pretrained folder", lock_name=f".{path.name}.lock", wait=True):
        manifest = pretrained.read_manifest(path)
        manifest["models"][name] = entry
        manifest["models"] = dict(sorted(manifest["models"].items()))
        manifest.setdefault(
            "about",
            "Shipped checkpoints: `zoo.load_pretrained(name)` verifies each file's sha256 before "
            "reading it. Generated by `python -m zoo ship NAME`; do not edit by hand.",
        )
        _write_json(path, {"about": manifest["about"], "models": manifest["models"]})


def _format(value) -> str:
    if isinstance(value, float):
        return f"{value:.4f}"
    return str(value)


def render_card(card: dict) -> str:
    """MODEL_CARD.md from card.json's dict."""
    seeds = ", ".join(map(str, card["seeds"]))
    lines = [
        f"# {card['name']}: model card",
        "",
        "_Generated by `python -m zoo ship`; do not edit by hand (edit zoo/hub/ship.py and reship)._",
        "",
        card["summary"],
        "",
        f"**Headline ({card['split']} split, mean ± std over seeds {seeds}):** {card['headline']}",
        "",
        "## How it was made",
        "",
        "```",
        card["command"],
        "```",
        "",
        f"Each seed runs `{card['train_command']}` (the recipe's own training). "
        f"Shipped: seed {card['shipped_seed']}, {card['selection']}.",
        "",
        "## Results",
        "",
        f"Test split ({card['dataset']['num_examples'].get('test')} examples). "
        "Mean ± sample std (n - 1) over the seeds.",
        "",
        "| metric | mean ± std | per seed | shipped seed |",
        "|---|---|---|---|",
    ]
    for metric, stats in card["test_metrics"].items():
        per_seed = ", ".join(f"{v:.4f}" for v in stats["values"])
        shipped = card["shipped_test_metrics"].get(metric)
        lines.append(f"| {metric} | {stats['mean']:.4f} ± {stats['std']:.4f} | {per_seed} | {_format(shipped)} |")
    for key, stats in card.get("report", {}).items():
        per_seed = ", ".join(f"{v:.4f}" for v in stats["values"])
        lines.append(f"| {key} (recipe report) | {stats['mean']:.4f} ± {stats['std']:.4f} | {per_seed} | |")
    lines += ["", "Best validation epoch per seed:", ""]
    for seed_record in card["per_seed"]:
        validation = seed_record["best_validation"]
        lines.append(
            f"- seed {seed_record['seed']}: epoch {validation.get('epoch')}, validation loss "
            f"{validation.get('loss', float('nan')):.4f}, {seed_record['steps']} steps, "
            f"{seed_record['wall_time_s']:.1f} s"
        )
    for section in card.get("sections", []):
        lines += ["", f"## {section['title']}", "", section["markdown"]]
    hardware = card["hardware"]
    versions = card["versions"]
    gpus = ", ".join(hardware["gpus"]) or "none"
    lines += [
        "",
        "## Training cost and environment",
        "",
        f"- Wall time: {card['wall_time_s']['total']:.1f} s for {len(card['seeds'])} seeds "
        f"({', '.join(f'{t:.1f}' for t in card['wall_time_s']['per_seed'])} s).",
        f"- Hardware: {hardware['cpu']}, {hardware['cpu_cores']} CPU cores, GPUs: {gpus}; "
        f"1-minute load average at start {hardware.get('load_average_1min_at_start')} "
        "(the machine may have been shared, so times are upper bounds).",
        f"- TensorFlow {versions.get('tensorflow')}, Keras {versions.get('keras')}, "
        f"NumPy {versions.get('numpy')}, Python {versions.get('python')}.",
        f"- Git commit: `{card['git_commit'] or 'unknown'}`.",
        "",
        "## Data",
        "",
        f"- Dataset: `{card['dataset']['name']}`, examples {card['dataset']['num_examples']}.",
        f"- Fingerprint (sha256 of the raw data and split parameters): `{card['dataset']['fingerprint']}`.",
    ]
    if card["dataset"]["class_names"]:
        lines.append(f"- Classes: {', '.join(card['dataset']['class_names'])}.")
    lines += [
        "",
        "## Model",
        "",
        f"- Parameters: {card['parameters']:,}.",
        f"- Weights: `{card['weights']['file']}`, {card['weights']['bytes']:,} bytes, "
        f"sha256 `{card['weights']['sha256']}`.",
        f"- Load: `zoo.load_pretrained({card['name']!r})` (builds the model from recipes/{card['recipe']}.py "
        "and the shipped config.json, verifies the sha256, loads weights only).",
        "",
        "Config:",
        "",
        "```json",
        json.dumps(card["config"], indent=2),
        "```",
        "",
        "## Intended use and limits",
        "",
        f"A teaching checkpoint for MIT 6.S191 lectures 1-2. Its numbers hold for data like the "
        f"`{card['dataset']['name']}` test split and nothing else; it is not for real decisions "
        "(medical or otherwise).",
        "",
        f"Generated {card['created']}.",
        "",
    ]
    return "\n".join(lines)
