"""A 2-D convolution written as what it is: one Dense layer applied at every position."""

import math

import keras
from keras import ops

from layers import _checks

ACTIVATIONS = {
    "linear": lambda x: x,
    "relu": ops.relu,
    "tanh": ops.tanh,
    "sigmoid": ops.sigmoid,
}
PADDINGS = ("valid", "same")


@keras.saving.register_keras_serializable(package="zoo")
class Conv2D(keras.layers.Layer):
    """2-D convolution: the same small Dense layer applied to every patch of an image.

    A convolution slides a `kernel_size` window over the image. At each
    position it takes the `kh x kw x channels` pixels under the window (a
    patch), multiplies them by one shared weight matrix and adds a bias:
    exactly a Dense layer, applied at every position with the same weights.
    That sharing is what lets a convolution learn a feature (an edge, a
    stroke) once and find it anywhere in the image. This layer computes it that
    way, with no convolution op:

        patches = every (kh, kw, channels) window, flattened   # (batch, out_h, out_w, kh*kw*channels)
        output  = activation(patches @ kernel + bias)          # (batch, out_h, out_w, filters)

    The windows are gathered in one step. A table lists, for every output
    position and every place (i, j) in its window, which input pixel sits
    there: row `out_row * s + i`, column `out_column * s + j`, flattened to one
    index `row * width + column`. `ops.take` reads the pixels at those indices
    (all channels at once), which lays out every patch side by side. The copy
    is kh*kw times the input, but it is one gather, and its gradient is one
    scatter-add back onto the input; one matmul then does the rest. (One
    matmul per kernel offset, summed, avoids the copy but runs kh*kw matmuls
    that each sum over only `channels` inputs, and its input gradient pads the
    whole image kh*kw times: timed against this layer (2026-12-03) with the
    training step of benchmarks/conv.py, it was about twice as slow at every
    shape there when the input also gets gradients.) With
    `padding="same"` the input is first zero-padded as TensorFlow does (the
    odd pixel at the bottom and right), so that `out = ceil(in / strides)`;
    with "valid", `out = floor((in - k) / strides) + 1`. Channels come last
    (`channels_last`).

    Its weights are `kernel` with shape `(kh, kw, in_channels, filters)`, the
    layout of `keras.layers.Conv2D`, and `bias` with shape `(filters,)`.

    Args:
        filters: Positive integer, the number of output channels (features).
        kernel_size: Positive integer or pair of them, the window's height and width.
        strides: Positive integer or pair, the step between windows. Default: 1.
        padding: `"valid"` (no padding) or `"same"`. Default: `"valid"`.
        activation: `"linear"` (or `None`), `"relu"`, `"tanh"` or `"sigmoid"`.
        use_bias: Boolean, whether to add a bias per filter. Default: `True`.
        kernel_initializer: Initializer for the kernel. Default: `"glorot_uniform"`.
        bias_initializer: Initializer for the bias. Default: `"zeros"`.
        **kwargs: Base layer keyword arguments, such as `name` and `dtype`.

    Call arguments:
        inputs: A tensor of shape `(batch, height, width, channels)` with known
            height, width and channels.

    Returns:
        A tensor of shape `(batch, out_height, out_width, filters)`.
    """

    def __init__(
        self,
        filters,
        kernel_size,
        strides=1,
        padding="valid",
        activation=None,
        use_bias=True,
        kernel_initializer="glorot_uniform",
        bias_initializer="zeros",
        **kwargs,
    ):
        super().__init__(**kwargs)
        _checks.check_positive_integers("Conv2D", [("filters", filters, False)])
        self.filters = int(filters)
        self.kernel_size = _pair("kernel_size", kernel_size)
        self.strides = _pair("strides", strides)
        self.padding = _checks.check_choice("Conv2D", "padding", padding, PADDINGS)
        self.activation = _checks.check_choice(
            "Conv2D", "activation", "linear" if activation is None else activation, ACTIVATIONS
        )
        self.use_bias = bool(use_bias)
        self.kernel_initializer = keras.initializers.get(kernel_initializer)
        self.bias_initializer = keras.initializers.get(bias_initializer)
        self.input_spec = keras.InputSpec(ndim=4)

    def build(self, input_shape):
        height, width, channels = input_shape[1:]
        if None in (height, width, channels):
            raise ValueError(
                f"Conv2D: the height, width and channels of the input must be known; "
                f"received input shape {input_shape}."
            )
        self.kernel = self.add_weight(
            name="kernel",
            shape=(*self.kernel_size, channels, self.filters),
            initializer=self.kernel_initializer,
        )
        if self.use_bias:
            self.bias = self.add_weight(name="bias", shape=(self.filters,), initializer=self.bias_initializer)
        else:
            self.bias = None
        self.input_spec = keras.InputSpec(ndim=4, axes={-1: channels})

    def call(self, inputs):
        patches = self._patches(inputs)  # (batch, out_h, out_w, kh * kw * channels)
        kernel_height, kernel_width, channels, filters = self.kernel.shape
        weights = ops.reshape(
            ops.cast(self.kernel, self.compute_dtype), (kernel_height * kernel_width * channels, filters)
        )  # (kh * kw * channels, filters), rows in the patches' (i, j, channel) order
        outputs = ops.matmul(patches, weights)  # (batch, out_h, out_w, filters)
        if self.bias is not None:
            outputs = outputs + ops.cast(self.bias, self.compute_dtype)
        return ACTIVATIONS[self.activation](outputs)

    def _patches(self, inputs):
        """Every window of the (padded) input, flattened on the last axis."""
        (kernel_height, kernel_width), (stride_rows, stride_columns) = self.kernel_size, self.strides
        height, width, channels = inputs.shape[1], inputs.shape[2], inputs.shape[3]
        out_height, out_width = self._output_size(height, width)
        if self.padding == "same":
            pad_rows = max((out_height - 1) * stride_rows + kernel_height - height, 0)
            pad_columns = max((out_width - 1) * stride_columns + kernel_width - width, 0)
            inputs = ops.pad(
                inputs,
                [[0, 0], [pad_rows // 2, pad_rows - pad_rows // 2], [pad_columns // 2, pad_columns - pad_columns // 2], [0, 0]],
            )  # (batch, height + pad_rows, width + pad_columns, channels)
            height, width = height + pad_rows, width + pad_columns
        # The input pixel at place (i, j) of the window at (out_row, out_column).
        rows = ops.arange(out_height)[:, None, None, None] * stride_rows + ops.arange(kernel_height)[None, None, :, None]
        columns = ops.arange(out_width)[None, :, None, None] * stride_columns + ops.arange(kernel_width)[None, None, None, :]
        pixel_index = ops.reshape(rows * width + columns, (-1,))  # (out_h * out_w * kh * kw,), in (out_h, out_w, i, j) order
        pixels = ops.reshape(inputs, (-1, height * width, channels))  # (batch, height * width, channels)
        patches = ops.take(pixels, pixel_index, axis=1)  # (batch, out_h * out_w * kh * kw, channels)
        return ops.reshape(
            patches, (-1, out_height, out_width, kernel_height * kernel_width * channels)
        )  # (batch, out_h, out_w, kh * kw * channels), in the kernel's (i, j, channel) order

    def _output_size(self, height, width):
        sizes = []
        for size, kernel, stride in zip((height, width), self.kernel_size, self.strides):
            if self.padding == "same":
                sizes.append(math.ceil(size / stride))
            else:
                sizes.append((size - kernel) // stride + 1)
        if min(sizes) < 1:
            raise ValueError(
                f"Conv2D: a {self.kernel_size} kernel does not fit a {height}x{width} input with "
                f"padding='valid'; use padding='same' or a smaller kernel_size."
            )
        return tuple(sizes)

    def compute_output_shape(self, input_shape):
        out_height, out_width = self._output_size(input_shape[1], input_shape[2])
        return (input_shape[0], out_height, out_width, self.filters)

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "filters": self.filters,
                "kernel_size": self.kernel_size,
                "strides": self.strides,
                "padding": self.padding,
                "activation": self.activation,
                "use_bias": self.use_bias,
                "kernel_initializer": keras.initializers.serialize(self.kernel_initializer),
                "bias_initializer": keras.initializers.serialize(self.bias_initializer),
            }
        )
        return config


def _pair(name: str, value) -> tuple:
    """(value, value) for an int, or the pair itself; both positive integers."""
    if isinstance(value, int) and not isinstance(value, bool):
        pair = (value, value)
    elif isinstance(value, (tuple, list)) and len(value) == 2:
        pair = tuple(value)
    else:
        raise ValueError(f"Conv2D: `{name}` must be an int or a pair of ints; received {name}={value!r}.")
    _checks.check_positive_integers("Conv2D", [(f"{name}[{index}]", item, False) for index, item in enumerate(pair)])
    return tuple(int(item) for item in pair)
