"""`python -m zoo compare`: train one recipe once per value of one key, side by side.

    python -m zoo compare NAME key=v1,v2,... [key=value ...] [--workdir DIR] [--verbose]
    make compare MODEL=digits_mlp ARGS="optimizer=sgd,momentum,adam epochs=20"

The first `key=...` argument is the one compared; its comma-separated values are
parsed strictly by the recipe's Config, like any override, before anything trains.
The other `key=value` arguments are fixed for every run. `batch_size=full` means
the whole training split in one batch (full-batch gradient descent).

Every run uses the same seed and the same data; only the compared key changes.
Each run has its own run directory, `DIR/KEY=VALUE/`, so rerunning the command
skips finished runs and resumes an interrupted one from its last checkpoint.
A run whose loss turns NaN or infinite does not stop the comparison: it is
reported as diverged. The command prints a table and writes

    DIR/comparison.png    validation loss, validation headline metric and the
                          generalization gap (validation loss - training loss)
                          per epoch, one curve per value
    DIR/comparison.json   the table's rows and the resolved configs

DIR defaults to runs/compare/NAME/KEY, plus the fixed overrides
(runs/compare/NAME/KEY--k1=v1-k2=v2), so two comparisons never share runs.
"""

import json
import math
import pathlib
import re

from absl import logging

from zoo.engine import config as config_lib
from zoo import errors, files
from zoo.engine import registry
from zoo.engine import record as record_lib
from zoo.engine import rundir

FULL_BATCH = "full"
# The file each finished (or diverged) run leaves so that a rerun can skip it.
RUN_RECORD = "comparison_run.json"


class Comparison(dict):
    """What `compare` returns: a plain dict (rows, table, png, json, ...), shown in a notebook as its table."""

    def __repr__(self) -> str:
        labels = ", ".join(str(row["label"]) for row in self["rows"])
        return f"Comparison({self['recipe']}: {self['key']} = {labels}; keys {', '.join(self)})"

    def _repr_markdown_(self) -> str:
        return self["table"]


# ------------------------------------------------------------------ parsing


def parse_arguments(config_class, arguments) -> tuple:
    """Splits ["key=v1,v2", "k=v", ...] into (key, [v1, v2], {k: v}).

    Raises:
        ValueError: no argument, a malformed one, fewer than two or repeated
            values, or a comma in a fixed override.
    """
    arguments = list(arguments)
    if not arguments:
        raise errors.UserError(
            "compare needs the key to compare and its values, e.g. optimizer=sgd,adam "
            f"(keys: {config_lib.describe_keys(config_class)})."
        )
    overrides = config_lib.split_overrides(arguments)
    key = next(iter(overrides))
    values = [value.strip() for value in overrides.pop(key).split(",")]
    if any(not value for value in values):
        raise errors.UserError(f"{key}={arguments[0].partition('=')[2]!r} has an empty value; write {key}=v1,v2,...")
    if len(values) < 2:
        raise errors.UserError(f"compare needs at least two values for {key}, separated by commas: {key}=v1,v2.")
    if len(set(values)) != len(values):
        raise errors.UserError(f"{key}: the values {','.join(values)} repeat one; give each value once.")
    for fixed_key, fixed_value in overrides.items():
        if "," in fixed_value:
            raise errors.UserError(
                f"Only the first key ({key}) is compared; {fixed_key}={fixed_value!r} has commas. "
                "Compare one key at a time."
            )
    return key, values, overrides


def check_arguments(config_class, arguments) -> None:
    """parse_arguments, then each value with the fixed overrides through the Config (no data read)."""
    key, values, fixed = parse_arguments(config_class, arguments)
    for value in values:
        if not (key == "batch_size" and value == FULL_BATCH):
            config_lib.make_config(config_class, {**fixed, key: value})


def resolve_configs(recipe, key: str, values, fixed: dict) -> list:
    """One (label, Config) per value, all validated before anything trains.

    `batch_size=full` becomes the size of the training split.

    Raises:
        ValueError: a value or a fixed override the Config rejects, or two values
            that mean the same thing (1e-3 and 0.001).
    """
    config_class = recipe.Config
    if key not in config_lib.field_types(config_class):
        raise errors.UserError(f"Unknown key {key!r}. Valid keys: {config_lib.describe_keys(config_class)}.")
    base = config_lib.make_config(config_class, fixed)
    resolved = []
    for label in values:
        value = label
        if key == "batch_size" and label == FULL_BATCH:
            value = int(recipe.module.load_data(base).info.num_examples["train"])
        resolved.append((label, config_lib.make_config(config_class, {**fixed, key: value})))
    seen = {}
    for label, config in resolved:
        value = getattr(config, key)
        if value in seen:
            raise errors.UserError(f"{key}={seen[value]} and {key}={label} are the same value; give each value once.")
        seen[value] = label
    return resolved


def default_workdir(name: str, key: str, fixed: dict) -> pathlib.Path:
    """runs/compare/NAME/KEY, with the fixed overrides appended when there are any."""
    folder = key
    if fixed:
        folder += "--" + "-".join(f"{k}={v}" for k, v in sorted(fixed.items()))
    return rundir.default_workdir("compare", name, _safe(folder))


def _safe(text: str) -> str:
    """A file name: keeps letters, digits and . _ = + -, replaces the rest."""
    return re.sub(r"[^A-Za-z0-9._=+-]", "_", text)


# ----------------------------------------------------------------- running


def compare(recipe, key: str, values, fixed=None, workdir=None, verbose: bool = False, log=logging.info) -> dict:
    """Trains `recipe` once per value of `key` and compares the runs.

    Args:
        recipe: a `zoo.engine.registry.Recipe` or its name.
        key: the Config key to vary.
        values: the values as strings (parsed by the Config), e.g. ["sgd", "adam"];
            "full" for batch_size means the whole training split.
        fixed: other overrides, the same for every run ({key: "value"}).
        workdir: where the runs, comparison.png and comparison.json go;
            `default_workdir(...)` if None.
        verbose: show the trainer's progress bar and per-epoch lines.
        log: where one-line progress messages go (default absl.logging.info; None: nowhere).

    Returns:
        A dict (a `Comparison`, whose repr is one line) with "rows" (one per value,
        in order), "table" (markdown text), "png" and "json" (paths) and "workdir".
    """
    if isinstance(recipe, str):
        recipe = registry.get_recipe(recipe)
    fixed = dict(fixed or {})
    log = log or (lambda message: None)
    resolved = resolve_configs(recipe, key, values, fixed)
    workdir = pathlib.Path(workdir) if workdir else default_workdir(recipe.name, key, fixed)
    with files.owned(workdir):  # One comparison per directory at a time.
        return _compare(recipe, key, resolved, fixed, workdir, verbose, log)


def _compare(recipe, key, resolved, fixed, workdir, verbose, log) -> dict:
    rows, histories = [], []
    for index, (label, config) in enumerate(resolved, start=1):
        run_path = workdir / _safe(f"{key}={label}")
        prefix = f"[{index}/{len(resolved)}] {key}={label}"
        record = record_lib.finished(run_path / RUN_RECORD, config)
        if record is not None:
            log(f"{prefix}: finished before, reusing {run_path}")
        else:
            log(f"{prefix}: training into {run_path}")
            record = record_lib.train_and_record(recipe, config, run_path, run_path / RUN_RECORD, verbose=verbose)
        history = rundir.RunDir(run_path).read_metrics()
        row = summarize(recipe, label, getattr(config, key), history, record, run_path)
        log(f"{prefix}: {_describe(row, recipe.headline)}")
        rows.append(row)
        histories.append(history)

    png = workdir / "comparison.png"
    plot_comparison(recipe, key, rows, histories, png, fixed)
    table = format_table(recipe, key, rows)
    result = {
        "recipe": recipe.name,
        "key": key,
        "fixed": fixed,
        "headline": recipe.headline,
        "rows": rows,
        "configs": {row["label"]: config_lib.to_dict(config) for row, (_, config) in zip(rows, resolved)},
        "png": str(png),
    }
    json_path = workdir / "comparison.json"
    files.write_atomically(json_path, json.dumps(result, indent=2) + "\n")
    return Comparison({**result, "table": table, "json": str(json_path), "workdir": str(workdir)})


def summarize(recipe, label: str, value, history: list, record: dict, run_path) -> dict:
    """One table row from a run's metrics.jsonl records and its run record."""
    headline = recipe.headline
    validation = [r for r in history if r["split"] == "validation"]
    finite = [r for r in validation if _finite(r.get("loss"))]
    best = min(finite, key=lambda r: r["loss"]) if finite else {}
    last = validation[-1] if validation else {}
    train_last = next((r for r in reversed(history) if r["split"] == "train"), {})
    return {
        "label": label,
        "value": value,
        "status": record.get("status", "ok"),
        "final_val_loss": last.get("loss"),
        f"final_val_{headline}": last.get(headline),
        "best_val_loss": best.get("loss"),
        f"best_val_{headline}": best.get(headline),
        "best_epoch": best.get("epoch"),
        "epochs": last.get("epoch"),
        "final_train_loss": train_last.get("loss"),
        "steps": record.get("steps"),
        "wall_time": record.get("wall_time_s"),
        "message": record.get("message", ""),
        "workdir": str(run_path),
    }


def _finite(value) -> bool:
    return isinstance(value, (int, float)) and math.isfinite(value)


def _describe(row: dict, headline: str) -> str:
    if row["status"] == "diverged":
        return f"diverged at step {row['steps']} after {row['wall_time']} s"
    text = f"{row['steps']} steps in {row['wall_time']} s, best val_loss {_number(row['best_val_loss'])}"
    if headline != "loss":
        text += f", val_{headline} {_number(row[f'best_val_{headline}'])} (epoch {row['best_epoch']})"
    return text


# ------------------------------------------------------------------ output


def format_table(recipe, key: str, rows: list) -> str:
    """The comparison as a markdown table (it reads fine in a terminal too)."""
    headline = recipe.headline
    columns = [key]
    if headline != "loss":
        columns += [f"final val {headline}", f"val {headline} @best"]
    columns += ["final val loss", "best val loss", "best epoch", "steps", "wall s", "status"]
    lines = []
    for row in rows:
        label = row["label"]
        if row["label"] == FULL_BATCH:
            label = f"{row['label']} ({row['value']})"
        cells = [label]
        if headline != "loss":
            cells += [_number(row[f"final_val_{headline}"]), _number(row[f"best_val_{headline}"])]
        cells += [
            _number(row["final_val_loss"]),
            _number(row["best_val_loss"]),
            _text(row["best_epoch"]),
            _text(row["steps"]),
            "-" if row["wall_time"] is None else f"{row['wall_time']:.1f}",
            row["status"] if row["status"] == "ok" else f"diverged at step {row['steps']}",
        ]
        lines.append(cells)
    widths = [max(len(str(c)) for c in column) for column in zip(columns, *lines)]

    def render(cells):
        return "| " + " | ".join(str(c).ljust(w) for c, w in zip(cells, widths)) + " |"

    rule = "|" + "|".join("-" * (w + 2) for w in widths) + "|"
    return "\n".join([render(columns), rule, *(render(cells) for cells in lines)])


def _number(value) -> str:
    if value is None:
        return "-"
    if not _finite(value):
        return str(value)
    if value != 0 and not 1e-3 <= abs(value) < 1e4:
        return f"{value:.3g}"
    return f"{value:.4f}"


def _text(value) -> str:
    return "-" if value is None else str(value)


def plot_comparison(recipe, key: str, rows: list, histories: list, path, fixed=None) -> None:
    """Validation loss, validation headline and the generalization gap per epoch."""
    import matplotlib
    import matplotlib.figure
    import matplotlib.ticker

    headline = recipe.headline
    panels = [("validation loss", "loss")]
    if headline != "loss":
        panels.append((f"validation {headline}", headline))
    panels.append(("gap: validation - train loss", "gap"))
    figure = matplotlib.figure.Figure(figsize=(4.6 * len(panels), 3.6))
    axes = figure.subplots(1, len(panels), squeeze=False)
    colors = matplotlib.rcParams["axes.prop_cycle"].by_key()["color"]
    for index, (row, history) in enumerate(zip(rows, histories)):
        color = colors[index % len(colors)]
        label = f"{key}={row['label']}" + (" (diverged)" if row["status"] == "diverged" else "")
        validation = {r["epoch"]: r for r in history if r["split"] == "validation"}
        train = {r["epoch"]: r for r in history if r["split"] == "train"}
        for axis, (_, name) in zip(axes[0], panels):
            if name == "gap":
                points = [
                    (epoch, validation[epoch]["loss"] - train[epoch]["loss"])
                    for epoch in sorted(validation)
                    if epoch in train and _finite(validation[epoch]["loss"]) and _finite(train[epoch]["loss"])
                ]
            else:
                points = [(e, validation[e].get(name)) for e in sorted(validation) if _finite(validation[e].get(name))]
            if not points and name == "loss" and row["status"] == "diverged":
                axis.plot([], [], "x", color=color, label=label)  # Diverged before its first evaluation.
            if points:
                epochs, values = zip(*points)
                axis.plot(epochs, values, color=color, marker="o" if len(points) < 30 else None,
                          markersize=3, label=label)
                if row["status"] == "diverged":
                    axis.plot(epochs[-1], values[-1], "x", color=color, markersize=9)
    for axis, (title, name) in zip(axes[0], panels):
        axis.set_title(title)
        axis.set_xlabel("epoch")
        axis.grid(alpha=0.3)
        if name == "loss":
            axis.set_yscale("log")
            # Plain numbers (0.038), not 3.80389x10^-2, on the ticks of a narrow log range.
            for ticks in (axis.yaxis.set_major_formatter, axis.yaxis.set_minor_formatter):
                ticks(matplotlib.ticker.FormatStrFormatter("%.3g"))
        if name == "gap":
            # Symmetric log: an exploding first epoch does not flatten the small gaps.
            axis.set_yscale("symlog", linthresh=0.1)
            axis.axhline(0.0, color="gray", linewidth=0.8)
    axes[0][0].legend(fontsize=8)
    title = f"{recipe.name}: {key}"
    if fixed:
        title += " (" + " ".join(f"{k}={v}" for k, v in fixed.items()) + ")"
    figure.suptitle(title, fontsize=11)
    figure.tight_layout()
    figure.savefig(path, dpi=80)


# -------------------------------------------------------------------- CLI
