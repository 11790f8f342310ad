"""What each convolution layer of a CNN learned: its filters, its feature maps, and its favourite test images.

    found = features(loaded, "docs/digit_5.csv")   # a results.Features of arrays
    draw(found, folder)                         # the figures, as `zoo features` writes them

`features` computes, for every layers.Conv2D of the model, its kernel and the
feature maps it computes for one input (a PNG or the model's numbers, read as
`predict` reads them), and for `units` channels of the last conv layer (those
most active over the test split) the `top` test images that activate each one
most. `draw` writes `features_<layer>.png` (filters beside their maps, with the
input and colour scales) and `top_images_<last layer>.png`.
"""

import numpy as np

from zoo import errors
from zoo.inference import results


def conv_layers(model) -> list:
    """The model's layers.Conv2D layers, in order."""
    import layers

    return [layer for layer in model.layers if isinstance(layer, layers.Conv2D)]


def check_counts(units: int, top: int) -> None:
    for flag, value in (("--units", units), ("--top", top)):
        if not 1 <= value <= 64:
            raise errors.UserError(f"{flag} {value} is not valid; expected an int in [1, 64]; pass e.g. {flag} 8.")


def features(loaded, image, *, units: int = 8, top: int = 6) -> results.Features:
    """The filters, feature maps and top test images of `loaded`'s convolutions, for one input `image`."""
    import keras

    from zoo.inference import predict

    check_counts(units, top)
    convolutions = conv_layers(loaded.model)
    if not convolutions:
        raise errors.UserError(f"recipe {loaded.recipe.name!r} has no layers.Conv2D to show; try digits_cnn.")
    example = predict.examples(loaded.info, image)[:1]  # (1, ...) one example
    inputs = loaded.model.inputs[0] if len(loaded.model.inputs) == 1 else loaded.model.inputs
    probe = keras.Model(inputs, [layer.output for layer in convolutions])
    maps = probe(example, training=False)
    maps = [np.asarray(m)[0] for m in (maps if isinstance(maps, (list, tuple)) else [maps])]  # each (h, w, channels)
    shape = tuple(loaded.info.extras.get("image_shape") or example.shape[1:3])
    images = np.concatenate([batch for batch, _ in loaded.splits.test.batch(256).as_numpy_iterator()])  # (test, ...)
    last = convolutions[-1]
    activations = np.asarray(keras.Model(inputs, last.output).predict(images, batch_size=256, verbose=0))
    strongest = activations.max(axis=(1, 2))  # (test, channels): each image's peak response per channel
    channels = np.argsort(-strongest.mean(axis=0))[: min(units, strongest.shape[1])]
    top_inputs = {int(channel): tuple(int(i) for i in np.argsort(-strongest[:, channel])[:top]) for channel in channels}
    return results.Features(
        input=np.asarray(example).reshape(shape),
        layers=tuple(layer.name for layer in convolutions),
        filters={layer.name: np.asarray(layer.kernel) for layer in convolutions},
        maps=dict(zip((layer.name for layer in convolutions), maps)),
        top_inputs=top_inputs,
        test_images=images.reshape((len(images), *shape)),
    )


def figure_names(found: results.Features) -> list:
    """The files `draw` writes for `found`."""
    return [f"features_{name}.png" for name in found.layers] + [f"top_images_{found.layers[-1]}.png"]


def draw(found: results.Features, folder) -> list:
    """Writes the figures of `found` into `folder`; returns their file names."""
    import pathlib

    folder = pathlib.Path(folder)
    names = figure_names(found)
    for name, file_name in zip(found.layers, names):
        _filters_and_maps(name, found.filters[name], found.maps[name], found.input, folder / file_name)
    _top_images(found, folder / names[-1])
    return names


def _grid(count: int, columns: int = 8):
    import matplotlib.figure

    rows = -(-count // columns)
    figure = matplotlib.figure.Figure(figsize=(columns * 1.2, rows * 1.2 + 0.6))
    axes = figure.subplots(rows, columns, squeeze=False)
    for axis in axes.ravel():
        axis.axis("off")
    return figure, axes.ravel()


def _label(axis, text: str, left: bool = False) -> None:
    """A small title above `axis`. Placed as plain text: `set_title` re-measures the axes
    for every title when the figure is saved, which made a figure of 130 panels take seconds."""
    axis.text(0.0 if left else 0.5, 1.03, text, transform=axis.transAxes, fontsize=6,
              ha="left" if left else "center", va="bottom")


def _filters_and_maps(name, kernel, feature_maps, image, path) -> None:
    """The input, then each filter (red +, blue -) beside its feature map (one shared colour scale)."""
    filters = kernel.mean(axis=2)  # (kh, kw, filters): one picture per filter
    count = kernel.shape[-1]
    figure, axes = _grid(2 * count + 2)
    axes[0].imshow(image, cmap="gray_r")
    _label(axes[0], "input")
    low, high = float(feature_maps.min()), float(feature_maps.max())
    for index in range(count):
        extent = float(np.abs(filters[:, :, index]).max()) or 1.0
        axes[2 * index + 2].imshow(filters[:, :, index], cmap="RdBu_r", vmin=-extent, vmax=extent)
        _label(axes[2 * index + 2], f"filter {index}")
        shown = axes[2 * index + 3].imshow(feature_maps[:, :, index], cmap="viridis", vmin=low, vmax=high)
        _label(axes[2 * index + 3], f"map {index}")
    figure.colorbar(shown, ax=list(axes), shrink=0.6, label="activation")
    averaged = " (averaged over input channels)" if kernel.shape[2] > 1 else ""
    figure.suptitle(f"{name}: {count} filters{averaged} (red +, blue -) and their feature maps for the input", fontsize=9)
    figure.savefig(path, dpi=110)


def _top_images(found, path) -> None:
    top = max(len(indices) for indices in found.top_inputs.values())
    figure, axes = _grid(len(found.top_inputs) * top, columns=top)
    for row, (channel, indices) in enumerate(found.top_inputs.items()):
        for column, index in enumerate(indices):
            axis = axes[row * top + column]
            axis.imshow(found.test_images[index], cmap="gray_r")
            if column == 0:
                _label(axis, f"channel {channel}", left=True)
    figure.suptitle(f"{found.layers[-1]}: the test images each channel responds to most", fontsize=9)
    figure.savefig(path, dpi=110)
