"""notebooks/: each .ipynb is its .py source, and every notebook runs top to bottom in a fresh kernel.

The notebooks run with ZOO_NOTEBOOK_QUICK=1 (their small settings: fewer runs and
samples, the same cells), two kernels at a time (three notebooks, not six, because
each kernel's start and TensorFlow import cost about 9 s of CPU). Each must draw its figures
(image/png outputs), keep TensorFlow's C++ start-up lines and terminal redraws out
of its output, and reach its key numbers, which one extra cell reads from the
kernel after the notebook's last cell.
"""

import concurrent.futures
import importlib.util
import json

import pytest

from zoo import native_logs
from zoo.engine import registry

ROOT = registry.recipes_dir().parent
_spec = importlib.util.spec_from_file_location("notebooks_build", ROOT / "notebooks" / "build.py")
build = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(build)

pytestmark = pytest.mark.slow

# Per notebook: the figures it must draw at least (one per lecture idea or more), and the
# expression whose value the extra cell prints as JSON for check_numbers.
EXPECTED = {
    "01_perceptron_and_training": (8, '{"single": single.report["rows_correct"], "hidden": hidden.report["rows_correct"], '
                                      '"spiral": spiral_metrics["accuracy"], "final_losses": {str(k): v for k, v in final_losses.items()}, '
                                      '"best_accuracy": best_accuracy, "stopped": [r.history[-1]["epoch"] for r in runs.values()], '
                                      '"epochs": wide["epochs"]}'),
    "02_sequences_and_attention": (6, '{"unclipped": unclipped, "clipped": clipped, "lengths": lengths, '
                                      '"valid": sum(t.valid for t in music.tunes), "rates": rates, '
                                      '"row_sums": maps.weights.sum(axis=-1).tolist(), "text": translated.text, '
                                      '"exact": {name: list(by.values()) for name, by in exact.items()}}'),
    "03_forecasting_and_convolution": (5, '{"mae": mae, "accuracy": cnn_metrics["accuracy"], '
                                          '"shapes": {k: list(v.shape) for k, v in found.maps.items()}}'),
}


def check_numbers(name, numbers):
    if name == "01_perceptron_and_training":
        assert numbers["single"] <= 3 and numbers["hidden"] == 4 and numbers["spiral"] >= 0.95  # XOR needs a hidden layer.
        losses = numbers["final_losses"]
        assert losses["1.05"] > 25 > losses["0.02"] > losses["0.3"]  # Too large diverges, too small creeps.
        assert numbers["best_accuracy"]["adam"] > numbers["best_accuracy"]["sgd"]
        assert all(stopped < numbers["epochs"] for stopped in numbers["stopped"])  # Early stopping stopped both.
    elif name == "02_sequences_and_attention":
        lengths, unclipped, clipped = numbers["lengths"], numbers["unclipped"], numbers["clipped"]
        assert unclipped[lengths.index(100)] > 1e15 and unclipped == sorted(unclipped)
        assert max(clipped) < 2 and min(clipped) > 0.5  # The same size at every length.
        assert numbers["valid"] >= 1 and all(0 <= rate <= 1 for rates in numbers["rates"].values() for rate in rates)
        assert all(abs(total - 1) < 1e-4 for head in numbers["row_sums"] for total in head)
        assert numbers["text"] == "trescientos cuarenta y dos mil ciento siete"
        plain, attending = numbers["exact"]["translate_lstm"], numbers["exact"]["translate_lstm_attention"]
        assert min(attending) >= 0.9 and plain[-1] < attending[-1]  # The bottleneck shows on long sentences.
    else:
        mae = numbers["mae"]
        assert mae["SARIMAX airline"] < 1 and mae["forecast_lstm"] < 1
        assert max(mae["SARIMAX airline"], mae["forecast_lstm"], mae["forecast_hybrid"]) < mae["seasonal naive"] < mae["persistence"]
        assert numbers["accuracy"] >= 0.95
        assert numbers["shapes"] == {"conv_1": [8, 8, 32], "conv_2": [8, 8, 32], "conv_3": [4, 4, 64]}


def test_every_ipynb_is_made_from_its_py_source_and_holds_no_outputs():
    sources = build.sources()
    assert [source.stem for source in sources] == list(EXPECTED)
    assert [problem for problem in map(build.stale, sources) if problem] == []
    setups = {build.notebook_from_source(source).cells[1].source.split("import zoo")[0] for source in sources}
    assert len(setups) == 1, "every notebook starts with the same setup cell"


def test_a_stale_or_executed_ipynb_is_caught(tmp_path, monkeypatch):
    source = tmp_path / "01_x.py"
    source.write_text("# %% [markdown]\n# A title\n\n# %%\nprint(1)\n")
    monkeypatch.setattr(build, "HERE", tmp_path)
    assert build.stale(source) == "01_x.ipynb is missing"
    build.sync()
    assert build.stale(source) == ""
    source.write_text(source.read_text().replace("print(1)", "print(2)"))
    assert "differs from 01_x.py" in build.stale(source)


def run_one(name, runs):
    source = ROOT / "notebooks" / f"{name}.py"
    figures, expression = EXPECTED[name]
    notebook, seconds = build.execute(source, runs, quick=True, extra_code=f"import json; print(json.dumps({expression}))")
    outputs = [output for cell in notebook.cells for output in cell.get("outputs", [])]
    *streams, numbers_output = [output for output in outputs if output.output_type == "stream"]
    return name, outputs, streams, json.loads(numbers_output.text), seconds


def test_every_notebook_runs_top_to_bottom_with_its_figures_and_numbers(tmp_path):
    longest_first = ["02_sequences_and_attention", "01_perceptron_and_training", "03_forecasting_and_convolution"]
    with concurrent.futures.ThreadPoolExecutor(2) as pool:
        results = list(pool.map(lambda name: run_one(name, tmp_path), longest_first))
    for name, outputs, streams, numbers, seconds in results:
        images = sum("image/png" in output.get("data", {}) for output in outputs)
        assert images >= EXPECTED[name][0], f"{name} drew {images} figures"
        text = "".join(stream.text for stream in streams)
        noise = [line for line in text.splitlines() if native_logs.is_noise(line.encode())]
        assert noise == [], f"{name} shows TensorFlow's start-up lines or notes"
        assert "\r" not in text and "\x1b[" not in text, f"{name} shows a terminal progress bar"
        check_numbers(name, numbers)
    music = next(outputs for name, outputs, *_ in results if name == "02_sequences_and_attention")
    html = [output.data["text/html"] for output in music if "text/html" in output.get("data", {})]
    assert any("<audio" in page for page in html) and any("X:" in page and "<pre>" in page for page in html)
    training = next(outputs for name, outputs, *_ in results if name == "01_perceptron_and_training")
    assert any(output.get("data", {}).get("text/markdown", "").startswith("| optimizer") for output in training)
    print({name: round(seconds, 1) for name, _, _, _, seconds in results})


def test_a_failing_cell_fails_the_run(tmp_path):
    import nbclient

    source = tmp_path / "99_broken.py"
    source.write_text("# %%\nanswer = 42\n\n# %%\nanswer / 0\n")
    with pytest.raises(nbclient.exceptions.CellExecutionError, match="ZeroDivisionError"):
        build.execute(source, tmp_path)
