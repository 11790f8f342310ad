"""`python -m zoo features NAME`: what each convolution layer of a model learned.

    python -m zoo features digits_cnn --pretrained --input digit.png [--out DIR] [--units 8] [--top 6]

Writes, into DIR (default WORKDIR/features, or runs/NAME_pretrained/features):

- `features_<layer>.png` for every layers.Conv2D: its filters (the kernel of
  each output channel, averaged over the input channels past the first layer)
  and the feature maps it computes for the input;
- `top_images_<last layer>.png`: for `--units` channels of the last conv layer
  (those most active over the test split), the `--top` test images that
  activate each one most: what that learned feature responds to;
- `features.json`: what was written (a rerun replaces only those files).

The input is a PNG or the model's numbers, read as `predict` reads them.
"""

import pathlib

import numpy as np

from zoo import errors
from zoo import outputs
from zoo.engine import registry

RECORD = "features.json"


def add_command(subparsers) -> None:
    parser = subparsers.add_parser("features", help="filters, feature maps and top images of each conv layer")
    parser.add_argument("name")
    parser.add_argument("--input", help="a PNG, or the model's numbers as CSV (- or none: stdin)")
    parser.add_argument("--workdir", type=pathlib.Path, help="the run to read (default runs/NAME)")
    parser.add_argument("--pretrained", action="store_true", help="the shipped checkpoint instead of a run")
    parser.add_argument("--out", type=pathlib.Path, help="where the figures go")
    parser.add_argument("--units", type=int, default=8, help="channels of the last conv layer to show (default 8)")
    parser.add_argument("--top", type=int, default=6, help="test images per channel (default 6)")
    parser.set_defaults(run=run_features)


def conv_layers(model) -> list:
    """The model's layers.Conv2D layers, in order."""
    import layers

    return [layer for layer in model.layers if isinstance(layer, layers.Conv2D)]


def run_features(args) -> int:
    from zoo.inference import predict

    for flag, value in (("--units", args.units), ("--top", args.top)):
        if not 1 <= value <= 64:
            raise errors.UserError(f"{flag} {value} is not valid; expected an int in [1, 64]; pass e.g. {flag} 8.")
    name = registry.locate(args.name)[0]
    outputs.check(output_folder(args, name), [RECORD], RECORD, "features")  # Before TensorFlow loads.
    recipe = registry.get_recipe(args.name)
    workdir = args.workdir or pathlib.Path("runs") / recipe.name
    from zoo.engine import runs

    loaded = runs.load(recipe, workdir, pretrained=args.pretrained)
    convolutions = conv_layers(loaded.model)
    if not convolutions:
        raise errors.UserError(f"recipe {recipe.name!r} has no layers.Conv2D to show; try digits_cnn.")
    features = predict.parse_features(loaded.info, predict.read_input(args.input))[:1]  # (1, ...) one example
    out = output_folder(args, recipe.name)
    names = [f"features_{layer.name}.png" for layer in convolutions] + [f"top_images_{convolutions[-1].name}.png"]
    with outputs.Outputs(out, RECORD, "features") as outs:
        outs.claim([RECORD, *names])
        for name in draw(loaded, convolutions, features, outs.scratch, args.units, args.top):
            outs.place(name)
        written = outs.finish({"recipe": recipe.name})
    for name in written:
        print(f"{recipe.name}: wrote {out / name}")
    return 0


def output_folder(args, name: str) -> pathlib.Path:
    """--out, or WORKDIR/features, or runs/NAME_pretrained/features."""
    workdir = args.workdir or pathlib.Path("runs") / name
    return args.out or (pathlib.Path("runs") / f"{name}_pretrained" if args.pretrained else workdir) / "features"


def draw(loaded, convolutions, features, out: pathlib.Path, units: int, top: int) -> list:
    """Writes the figures; returns their file names."""
    import keras

    probe = keras.Model(loaded.model.inputs, [layer.output for layer in convolutions])
    maps = probe(features, training=False)
    maps = [np.asarray(m)[0] for m in (maps if isinstance(maps, (list, tuple)) else [maps])]  # each (h, w, channels)
    written = []
    for layer, feature_maps in zip(convolutions, maps):
        name = f"features_{layer.name}.png"
        _filters_and_maps(layer, feature_maps, out / name)
        written.append(name)
    name = f"top_images_{convolutions[-1].name}.png"
    last = convolutions[-1]
    _top_images(loaded, keras.Model(loaded.model.inputs, last.output), last.name, units, top, out / name)
    written.append(name)
    return written


def _grid(count: int, columns: int = 8):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    rows = -(-count // columns)
    figure, axes = plt.subplots(rows, columns, figsize=(columns * 1.2, rows * 1.2 + 0.6), squeeze=False)
    for axis in axes.ravel():
        axis.axis("off")
    return plt, figure, axes.ravel()


def _filters_and_maps(layer, feature_maps, path) -> None:
    kernel = np.asarray(layer.kernel)  # (kh, kw, in_channels, filters)
    filters = kernel.mean(axis=2)  # (kh, kw, filters): one picture per filter
    count = kernel.shape[-1]
    plt, figure, axes = _grid(2 * count)
    for index in range(count):
        extent = float(np.abs(filters[:, :, index]).max()) or 1.0
        axes[2 * index].imshow(filters[:, :, index], cmap="RdBu_r", vmin=-extent, vmax=extent)  # red +, blue -
        axes[2 * index].set_title(f"filter {index}", fontsize=6)
        axes[2 * index + 1].imshow(feature_maps[:, :, index], cmap="viridis")
        axes[2 * index + 1].set_title(f"map {index}", fontsize=6)
    averaged = " (averaged over input channels)" if kernel.shape[2] > 1 else ""
    figure.suptitle(f"{layer.name}: {count} filters{averaged} and their feature maps for the input", fontsize=9)
    figure.tight_layout()
    figure.savefig(path, dpi=110)
    plt.close(figure)


def _top_images(loaded, probe, layer_name: str, units: int, top: int, path) -> None:
    batches = list(loaded.splits.test.batch(256).as_numpy_iterator())
    images = np.concatenate([features for features, _ in batches])  # (test, ...)
    activations = np.asarray(probe.predict(images, batch_size=256, verbose=0))  # (test, h, w, channels)
    strongest = activations.max(axis=(1, 2))  # (test, channels): each image's peak response per channel
    channels = np.argsort(-strongest.mean(axis=0))[: min(units, strongest.shape[1])]
    shape = loaded.info.extras.get("image_shape") or images.shape[1:3]
    plt, figure, axes = _grid(len(channels) * top, columns=top)
    for row, channel in enumerate(channels):
        best = np.argsort(-strongest[:, channel])[:top]
        for column, index in enumerate(best):
            axis = axes[row * top + column]
            axis.imshow(images[index].reshape(shape), cmap="gray_r")
            if column == 0:
                axis.set_title(f"channel {channel}", fontsize=6, loc="left")
    figure.suptitle(f"{layer_name}: the test images each channel responds to most", fontsize=9)
    figure.tight_layout()
    figure.savefig(path, dpi=110)
    plt.close(figure)
