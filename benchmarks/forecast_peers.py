"""The forecasting recipes against the forecasts a statistician would try first, on the same test windows.

    .venv/bin/python benchmarks/forecast_peers.py                       # the shipped checkpoints, CO2
    .venv/bin/python benchmarks/forecast_peers.py --workdir runs/forecast_lstm
    .venv/bin/python benchmarks/forecast_peers.py --dataset sunspots --workdir forecast_lstm=runs/a forecast_hybrid=runs/b
    .venv/bin/python benchmarks/forecast_peers.py --search              # also re-run the order search
    .venv/bin/python benchmarks/forecast_peers.py --split validation    # the segment the recipe was tuned on

Every model forecasts the same H values from the same origins: the test
windows of datasets/series.py (each origin t in the test segment whose targets
t..t+H-1 all lie in it; 68 origins for CO2 with H = 12). MAE and RMSE are in
the series' units over all (origin, step ahead) pairs. MASE is the MAE divided by
the in-sample MAE of the one-season naive forecast on the training segment
(Hyndman and Koehler's mean absolute scaled error; below 1 beats seasonal naive's
one-step error there). Each recipe (forecast_lstm, forecast_hybrid) reads the
window its config asks for, ending at the same origin. The peers:

- persistence: every step ahead is the last observed value.
- seasonal naive: each step ahead repeats the value one season (12 months; 11
  years for sunspots) before it.
- SARIMAX: fitted ONCE, by maximum likelihood, on the training segment only.
  For every origin the fitted parameters are applied to the series up to the
  origin (`results.apply`: Kalman filtering of the new observations, no
  refitting) and forecast H steps ahead: a rolling-origin evaluation.

Orders (chosen on the training segment only). CO2 has a trend and a fixed
12-month cycle, so it is differenced once and seasonally once (d = 1, D = 1,
s = 12); the differenced series' autocorrelation has its spikes at lags 1 and
12, which is Box and Jenkins' "airline" model (0,1,1)(0,1,1)12, the textbook
model for this very series. `--search` fits the neighbours, (p,1,q)(P,1,Q)12
for p, q in 0..2 and P, Q in 0..1, and lists them by AIC; the table shows the
airline model (the "textbook" row) and the AIC-best one. Sunspots have no fixed season (the cycle
runs 9 to 14 years), so they get a non-seasonal ARMA(p,q) with a constant on
the undifferenced series, p in 0..9 and q in 0..2 by AIC; the textbook row
is Box and Jenkins' AR(9).

Writes docs/forecast/forecast.png (or --plot PATH): the test segment, the
recipe's forecasts and the best peer's (from every H-th origin, so the paths
tile the segment), and the MAE of every model by step ahead. Prints the
1-minute load average before and after, since the times depend on it.
"""

import argparse
import itertools
import os
import pathlib
import sys
import time
import warnings

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
ROOT = pathlib.Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402

from datasets import series  # noqa: E402

# The orders the table uses (see the docstring; `--search` recomputes the AIC ones):
# the textbook model of each series, and the lowest AIC on the training segment.
TEXTBOOK = {
    "co2": {"order": (0, 1, 1), "seasonal_order": (0, 1, 1, 12), "trend": "n"},  # Box-Jenkins airline
    "sunspots": {"order": (9, 0, 0), "seasonal_order": (0, 0, 0, 0), "trend": "c"},  # Box-Jenkins AR(9)
}
AIC_BEST = {
    "co2": {"order": (2, 1, 2), "seasonal_order": (0, 1, 1, 12), "trend": "n"},
    "sunspots": {"order": (6, 0, 2), "seasonal_order": (0, 0, 0, 0), "trend": "c"},
}


def persistence(values, origins, horizon):
    """(n, H): the last observed value, for every step ahead."""
    return np.stack([np.repeat(values[t - 1], horizon) for t in origins])


def seasonal_naive(values, origins, horizon, period):
    """(n, H): step h ahead (t + h) repeats the latest observed value of its season, t + h - k * period."""
    steps = np.arange(horizon)
    lags = period * (steps // period + 1)  # the smallest multiple of the period that reaches back before t
    return np.stack([values[t + steps - lags] for t in origins])


def fit_sarimax(train, spec):
    from statsmodels.tsa.statespace.sarimax import SARIMAX

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # convergence chatter from the optimiser's start
        model = SARIMAX(train, order=spec["order"], seasonal_order=spec["seasonal_order"], trend=spec["trend"])
        return model.fit(disp=False, maxiter=200)


def rolling_sarimax(results, values, origins, horizon):
    """(n, H): the parameters fitted on train, applied to values[:t] (filtered, not refitted), H steps ahead."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return np.stack([np.asarray(results.apply(values[:t]).forecast(horizon)) for t in origins])


def order_search(name, train):
    """Rows (aic, spec) for the candidate orders, best first (training segment only)."""
    if name == "co2":
        grid = [
            {"order": (p, 1, q), "seasonal_order": (P, 1, Q, 12), "trend": "n"}
            for p, q, P, Q in itertools.product(range(3), range(3), range(2), range(2))
        ]
    else:
        grid = [{"order": (p, 0, q), "seasonal_order": (0, 0, 0, 0), "trend": "c"} for p in range(10) for q in range(3)]
    rows = []
    for spec in grid:
        try:
            rows.append((float(fit_sarimax(train, spec).aic), spec))
        except (ValueError, np.linalg.LinAlgError) as error:  # a non-invertible start, say
            print(f"  {describe(spec)}: failed ({error})")
    return sorted(rows, key=lambda row: row[0])


def describe(spec):
    (p, d, q), (P, D, Q, s) = spec["order"], spec["seasonal_order"]
    text = f"({p},{d},{q})" + (f"({P},{D},{Q}){s}" if s else "")
    return text + (" + constant" if spec["trend"] == "c" else "")


RECIPES = ("forecast_lstm", "forecast_hybrid")


def load_recipe_model(name, workdir):
    import zoo
    from zoo.hub import pretrained
    from zoo.engine import runs

    recipe = zoo.get_recipe(name)
    if workdir is None:
        loaded = pretrained.load(name)
        return loaded.model, loaded.config, f"shipped checkpoint (pretrained/{name})"
    run = runs.load_run(recipe, workdir)
    return run.model, run.config, f"run {workdir}"


def seasonal_scale(train, period):
    """MASE's denominator: the mean |y_t - y_(t - period)| over the training segment."""
    return float(np.mean(np.abs(train[period:] - train[:-period])))


def scores(forecast, targets, scale):
    errors = forecast - targets
    return {
        "mae": float(np.mean(np.abs(errors))),
        "mase": float(np.mean(np.abs(errors)) / scale),
        "rmse": float(np.sqrt(np.mean(errors**2))),
        "mae_by_step": np.mean(np.abs(errors), axis=0),
    }


def plot(path, dates, values, origins, horizon, targets_start, rows, recipe_name, best_name, unit):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, (series_axis, step_axis) = plt.subplots(1, 2, figsize=(13, 4.2), gridspec_kw={"width_ratios": [2.2, 1]})
    start = targets_start - 24
    series_axis.plot(np.arange(start, len(values)), values[start:], color="black", lw=1.2, label="observed")
    series_axis.axvline(targets_start, color="gray", ls=":", lw=1)
    tiles = range(0, len(origins), horizon)  # every H-th origin: the forecast paths tile the test segment
    for name, color, style in ((recipe_name, "tab:blue", "-"), (best_name, "tab:orange", "--")):
        for number, index in enumerate(tiles):
            t = origins[index]
            series_axis.plot(np.arange(t, t + horizon), rows[name]["forecast"][index], color=color, ls=style, lw=1.4,
                             label=name if number == 0 else None)
    ticks = np.arange(start, len(values), max(1, (len(values) - start) // 8))
    series_axis.set_xticks(ticks, [dates[i] for i in ticks], rotation=30, fontsize=8)
    series_axis.set_ylabel(unit)
    series_axis.set_title(f"test segment: {horizon}-step forecasts from every {horizon}th origin")
    series_axis.legend(fontsize=8)
    series_axis.grid(alpha=0.3)
    for name, row in rows.items():
        step_axis.plot(np.arange(1, horizon + 1), row["mae_by_step"], marker="o", ms=3, label=name)
    step_axis.set_yscale("log")  # persistence is far above the rest
    step_axis.set_xlabel("steps ahead")
    step_axis.set_ylabel(f"test MAE ({unit})")
    step_axis.set_title(f"MAE by step ahead ({len(origins)} origins)")
    step_axis.legend(fontsize=7)
    step_axis.grid(alpha=0.3)
    figure.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path, dpi=110)
    plt.close(figure)


def recipe_workdirs(entries):
    """{recipe name: run directory} from --workdir's NAME=DIR entries (a bare DIR is a forecast_lstm run)."""
    found = {}
    for entry in entries:
        name, _, folder = entry.rpartition("=") if "=" in entry else ("forecast_lstm", "", entry)
        if name not in RECIPES:
            raise SystemExit(f"error: --workdir {entry!r}: expected NAME=DIR with NAME one of {', '.join(RECIPES)}")
        found[name] = pathlib.Path(folder)
    return found


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dataset", choices=series.SERIES, default="co2", help="which series (default co2)")
    parser.add_argument("--workdir", nargs="+", default=[], metavar="NAME=DIR",
                        help="recipe runs to score instead of the shipped checkpoints (which are CO2 ones)")
    parser.add_argument("--search", action="store_true", help="re-run the AIC order search on the training segment")
    parser.add_argument("--split", choices=("test", "validation"), default="test", help="whose windows to score (default test)")
    parser.add_argument("--plot", type=pathlib.Path, help="default: docs/forecast/forecast.png (CO2) or forecast_sunspots.png")
    args = parser.parse_args()
    load_before = os.getloadavg()[0]
    started = time.perf_counter()

    name, horizon = args.dataset, 12
    workdirs = recipe_workdirs(args.workdir)
    models = {}
    for recipe_name in RECIPES:
        if recipe_name not in workdirs and name != "co2":
            print(f"{recipe_name}: skipped (its shipped checkpoint is a CO2 one; pass --workdir {recipe_name}=DIR)")
            continue
        model, config, source = load_recipe_model(recipe_name, workdirs.get(recipe_name))
        if (config.dataset, config.horizon) != (name, horizon):
            raise SystemExit(f"error: {source} forecasts {config.dataset} {config.horizon} ahead, not {name} {horizon} ahead")
        models[recipe_name] = (model, config.window, source)
    splits = series.load(name, window=max([24] + [window for _, window, _ in models.values()]), horizon=horizon)
    extras = splits.info.extras
    dates, values = series.series(name)
    first, count = extras["origins"][args.split]
    origins = first + np.arange(count)
    targets = np.stack([values[t : t + horizon] for t in origins])
    train = values[: extras["train_end"]]
    scale = seasonal_scale(train, extras["period"])
    print(f"{name}: {len(values)} points; train {dates[0]}..{dates[extras['train_end'] - 1]}, test targets "
          f"{dates[extras['validation_end']]}..{dates[-1]}; scoring {count} {args.split} origins, horizon {horizon}; "
          f"MASE scale {scale:.4f}; " + "; ".join(f"{key}: {source} (window {window})" for key, (_, window, source) in models.items()))

    if args.search:
        print(f"order search on the training segment ({len(train)} points), best AIC first:")
        for aic, spec in order_search(name, train)[:8]:
            print(f"  {describe(spec):28s} AIC {aic:9.2f}")

    rows = {}
    timings = {}

    def add(label, make):
        begun = time.perf_counter()
        forecast = make()
        timings[label] = time.perf_counter() - begun
        rows[label] = {"forecast": forecast, **scores(forecast, targets, scale)}

    add("persistence", lambda: persistence(values, origins, horizon))
    add(f"seasonal naive ({extras['period']})", lambda: seasonal_naive(values, origins, horizon, extras["period"]))
    for kind, spec in (("textbook", TEXTBOOK[name]), ("AIC-best", AIC_BEST[name])):
        label = f"SARIMAX {kind} {describe(spec)}"
        if kind == "AIC-best" and spec == TEXTBOOK[name]:
            continue
        fitted = {}
        add(label, lambda spec=spec: rolling_sarimax(fitted.setdefault("r", fit_sarimax(train, spec)), values, origins, horizon))
    peers = list(rows)
    import importlib

    for recipe_name, (model, window, _) in models.items():
        windows = np.stack([values[t - window : t] for t in origins]).astype(np.float32)
        module = importlib.import_module(f"recipes.{recipe_name}")
        add(recipe_name, lambda module=module, model=model, windows=windows: module.forecast_windows(model, windows))

    best = min(peers, key=lambda label: rows[label]["mae"])
    unit = extras["unit"]
    print()
    print(f"| model ({name}, H={horizon}, {count} {args.split} origins) | MAE ({unit}) | MASE | RMSE ({unit}) | "
          f"MAE 1 step | MAE {horizon} steps | seconds |")
    print("|---|---|---|---|---|---|---|")
    for label, row in rows.items():
        mark = " (best peer)" if label == best else ""
        print(f"| {label}{mark} | {row['mae']:.4f} | {row['mase']:.4f} | {row['rmse']:.4f} | {row['mae_by_step'][0]:.4f} | "
              f"{row['mae_by_step'][-1]:.4f} | {timings[label]:.1f} |")
    print()
    for recipe_name in models:
        verdict = "beats" if rows[recipe_name]["mae"] < rows[best]["mae"] else "does not beat"
        print(f"{recipe_name} {verdict} the best peer ({best}): {args.split} MAE {rows[recipe_name]['mae']:.4f} vs "
              f"{rows[best]['mae']:.4f} {unit} ({rows[recipe_name]['mae'] / rows[best]['mae'] - 1:+.1%})")
    if args.split != "test" or not models:
        print(f"load average (1 min): {load_before:.2f} before, {os.getloadavg()[0]:.2f} after (no plot)")
        return
    drawn = min(models, key=lambda label: rows[label]["mae"])
    path = args.plot or ROOT / "docs" / "forecast" / ("forecast.png" if name == "co2" else f"forecast_{name}.png")
    plot(path, dates, values, origins, horizon, extras["validation_end"], rows, drawn, best, unit)
    print(f"wrote {path.relative_to(ROOT) if path.is_relative_to(ROOT) else path}")
    print(f"load average (1 min): {load_before:.2f} before, {os.getloadavg()[0]:.2f} after; "
          f"{time.perf_counter() - started:.0f} s in all; {os.cpu_count()} CPU cores")


if __name__ == "__main__":
    main()
