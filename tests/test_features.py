"""`python -m zoo features`: one figure per conv layer (filters and feature maps), and the top test images per channel."""

import json

import numpy as np
import pytest

from zoo.commands import cli

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
FIGURES = ["features_conv_1.png", "features_conv_2.png", "features_conv_3.png", "top_images_conv_3.png"]


@pytest.fixture
def digit_csv(tmp_path):
    from datasets import digits

    features, _ = next(iter(digits.load().test.batch(1).as_numpy_iterator()))
    path = tmp_path / "digit.csv"
    path.write_text(",".join(f"{value:.6f}" for value in features[0]) + "\n")
    return path


def test_features_of_the_shipped_cnn_are_drawn_and_rerun_replaces_only_them(tmp_path, digit_csv, capsys):
    out = tmp_path / "figures"
    arguments = ["features", "digits_cnn", "--pretrained", "--input", str(digit_csv), "--out", str(out), "--units", "4", "--top", "3"]
    assert cli.main(arguments) == 0
    for name in FIGURES:
        assert (out / name).read_bytes()[:8] == PNG_SIGNATURE, name
    assert json.loads((out / "features.json").read_text())["files"] == FIGURES
    (out / "notes.txt").write_text("mine")
    assert cli.main(arguments) == 0  # Its own files are replaced, the user's kept.
    assert (out / "notes.txt").read_text() == "mine"


def test_features_refuses_a_folder_it_did_not_write_and_a_model_without_convolutions(tmp_path, digit_csv, capsys):
    out = tmp_path / "theirs"
    out.mkdir()
    (out / "features_conv_1.png").write_bytes(b"their picture")
    assert cli.main(["features", "digits_cnn", "--pretrained", "--input", str(digit_csv), "--out", str(out)]) == 2
    assert "which features did not write" in capsys.readouterr().err
    assert (out / "features_conv_1.png").read_bytes() == b"their picture"
    assert cli.main(["features", "digits_mlp", "--pretrained", "--input", str(digit_csv), "--out", str(tmp_path / "x")]) == 2
    assert "has no layers.Conv2D" in capsys.readouterr().err


def test_conv_layers_are_found_by_type():
    import keras

    import layers
    from zoo.inference import features

    inputs = keras.Input((6, 6, 1))
    hidden = layers.Conv2D(2, 3, name="edges")(inputs)
    model = keras.Model(inputs, layers.Dense(1)(keras.layers.Flatten()(hidden)))
    assert [layer.name for layer in features.conv_layers(model)] == ["edges"]
    assert np.asarray(model(np.zeros((1, 6, 6, 1), "float32"))).shape == (1, 1)


def test_digits_cnn_trains_on_mnist_mock_data(tmp_path):
    """dataset=mnist (tfds, 28x28x1) feeds the same model without the reshape."""
    import tensorflow_datasets as tfds

    import zoo

    recipe = zoo.get_recipe("digits_cnn")
    config = zoo.make_config(recipe, {"dataset": "mnist", "max_steps": 2, "epochs": 1, "batch_size": 8})
    with tfds.testing.mock_data(num_examples=24):
        result = zoo.train(recipe, config, tmp_path, verbose=False)
    assert result.steps == 2 and result.splits.info.input_shape == (28, 28, 1)
    assert tuple(result.model.output.shape) == (None, 10) and np.isfinite(result.best["loss"])
