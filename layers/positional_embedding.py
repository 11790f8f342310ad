"""Token embedding plus position embedding: the input layer of a transformer."""

import numbers

import keras
from keras import ops

from layers import _checks

POSITIONS = ("learned", "sinusoidal")

# The base of the sinusoid wavelengths in "Attention Is All You Need".
_SINUSOID_BASE = 10000.0




def _fresh_copy(initializer):
    """A new instance of `initializer` with its own seed.

    An unseeded Keras initializer draws its seed once, when it is made, so
    one instance used for two tables would give them the same values.
    """
    return initializer.__class__.from_config(initializer.get_config())


@keras.saving.register_keras_serializable(package="zoo")
class PositionalEmbedding(keras.layers.Layer):
    """Embeds token ids and adds an embedding of each token's position.

    Attention by itself does not know the order of its inputs: it treats a
    sequence as a set. This layer gives each token a vector that depends on
    what the token is *and* where it sits, so the layers above can tell
    "dog bites man" from "man bites dog":

        outputs[b, t] = token_embeddings[token_ids[b, t]]
                        + position_embedding(start_position + t)

    The token part is a lookup table of shape `(vocab_size, output_dim)`, the
    same as `keras.layers.Embedding` (its weight can be copied across). The
    position part is either

    - `"learned"`: a second table, `position_embeddings`, of shape
      `(max_length, output_dim)`, trained like any other weight; or
    - `"sinusoidal"`: the fixed, untrained encoding of Vaswani et al. (2017),
      `PE[p, 2i] = sin(p / 10000^(2i / output_dim))` and
      `PE[p, 2i + 1] = cos(p / 10000^(2i / output_dim))`, computed on the fly.
      It has no weights.

    Sequences may be at most `max_length` tokens long (counting from
    `start_position`). When the length is known when the layer is called
    (eagerly, or a `tf.function` traced with static shapes), a longer sequence
    raises a `ValueError` that names both lengths. When the length is only
    known at run time (an input shape of `(batch, None)` inside a graph), no
    Python check can run: a `"learned"` table then fails inside
    `ops.slice` with TensorFlow's own `InvalidArgumentError`, while
    `"sinusoidal"` simply computes the extra positions.

    Args:
        vocab_size: Positive integer, the number of distinct token ids; ids
            must lie in `[0, vocab_size)`.
        max_length: Positive integer, the longest sequence (in positions) the
            layer accepts.
        output_dim: Positive integer, the size of each embedding vector. Must
            be even for `position="sinusoidal"` (sines and cosines come in
            pairs).
        position: `"learned"` or `"sinusoidal"`, as described above.
            Default: `"learned"`.
        mask_zero: Boolean. If `True`, token id 0 is padding: the layer
            returns a Keras mask `token_ids != 0`, which downstream layers
            (such as `SelfAttention` or `TransformerBlock`) receive as their
            `mask`. Default: `False`.
        embeddings_initializer: Initializer of both tables.
            Default: `"uniform"` (as `keras.layers.Embedding`).
        **kwargs: Base layer keyword arguments, such as `name` and `dtype`.

    Call arguments:
        inputs: Integer tensor of token ids, shape `(batch, time)`.
        start_position: Python int or scalar integer tensor, the position of
            the first token in `inputs`. Use it in cached generation, where
            one new token at position `t` is embedded as
            `layer(new_token, start_position=t)`. Default: `0`.

    Returns:
        Tensor of shape `(batch, time, output_dim)`, in the layer's compute
        dtype.

    Example:

    ```python
    embedding = PositionalEmbedding(vocab_size=100, max_length=64,
                                    output_dim=32, mask_zero=True)
    vectors = embedding(np.array([[5, 7, 9, 0]]))  # (1, 4, 32)
    ```
    """

    def __init__(
        self,
        vocab_size,
        max_length,
        output_dim,
        position="learned",
        mask_zero=False,
        embeddings_initializer="uniform",
        **kwargs,
    ):
        super().__init__(**kwargs)
        _checks.check_positive_integers(
            "PositionalEmbedding",
            (
                ("vocab_size", vocab_size, False),
                ("max_length", max_length, False),
                ("output_dim", output_dim, False),
            ),
        )
        if position not in POSITIONS:
            raise ValueError(
                f"PositionalEmbedding: unknown position={position!r}. "
                f"Expected one of {list(POSITIONS)}."
            )
        if position == "sinusoidal" and output_dim % 2 != 0:
            raise ValueError(
                f"PositionalEmbedding: position='sinusoidal' needs an even "
                f"output_dim (sines and cosines come in pairs); received "
                f"output_dim={output_dim}. Use {output_dim + 1} or "
                f"{output_dim - 1}, or position='learned'."
            )
        if not isinstance(mask_zero, bool):
            raise ValueError(
                f"PositionalEmbedding: `mask_zero` must be True or False; "
                f"received mask_zero={mask_zero!r}."
            )
        self.vocab_size = int(vocab_size)
        self.max_length = int(max_length)
        self.output_dim = int(output_dim)
        self.position = position
        self.mask_zero = mask_zero
        self.embeddings_initializer = keras.initializers.get(
            embeddings_initializer
        )
        self.supports_masking = mask_zero

    def build(self, input_shape=None):
        self.token_embeddings = self.add_weight(
            name="token_embeddings",
            shape=(self.vocab_size, self.output_dim),
            initializer=_fresh_copy(self.embeddings_initializer),
        )
        if self.position == "learned":
            self.position_embeddings = self.add_weight(
                name="position_embeddings",
                shape=(self.max_length, self.output_dim),
                initializer=_fresh_copy(self.embeddings_initializer),
            )
        else:
            self.position_embeddings = None

    def call(self, inputs, start_position=0):
        length = inputs.shape[-1]
        self._check_length(length, start_position)
        if length is None:
            length = ops.shape(inputs)[-1]
        if isinstance(start_position, numbers.Integral):
            start_position = int(start_position)
        else:
            start_position = ops.cast(start_position, "int32")

        token_ids = ops.cast(inputs, "int32")
        # (batch, time) -> (batch, time, output_dim)
        token_vectors = ops.take(self.token_embeddings, token_ids, axis=0)
        # (time, output_dim), the same for every sequence of the batch.
        position_vectors = self._position_vectors(start_position, length)
        outputs = token_vectors + ops.cast(
            position_vectors, token_vectors.dtype
        )
        return ops.cast(outputs, self.compute_dtype)

    def _check_length(self, length, start_position):
        """Raises a ValueError when a statically known length is too long."""
        if length is None:
            return
        if isinstance(start_position, numbers.Integral):
            if start_position < 0:
                raise ValueError(
                    f"PositionalEmbedding: start_position must be >= 0; "
                    f"received start_position={start_position}."
                )
            end = start_position + length
            if end > self.max_length:
                raise ValueError(
                    f"PositionalEmbedding: the sequence is too long. It has "
                    f"length {length} starting at position {start_position} "
                    f"(so it ends at {end}), but max_length is "
                    f"{self.max_length}. Truncate or window the sequence to "
                    f"at most {self.max_length} tokens, or build the layer "
                    f"with a larger max_length."
                )
        elif length > self.max_length:
            raise ValueError(
                f"PositionalEmbedding: the sequence is too long: length "
                f"{length} > max_length {self.max_length}. Truncate or "
                f"window the sequence, or build the layer with a larger "
                f"max_length."
            )

    def _position_vectors(self, start_position, length):
        """The `(length, output_dim)` position embeddings from `start_position`."""
        if self.position == "learned":
            # The table as a tensor: JAX's slice refuses a Keras Variable itself.
            table = ops.convert_to_tensor(self.position_embeddings)
            if isinstance(start_position, int):
                return ops.slice(table, (start_position, 0), (length, self.output_dim))
            # A tensor start (cached generation): gather the rows, the same values as the
            # slice, because XLA compiles a slice once per start value but a gather once.
            return ops.take(table, ops.arange(length) + start_position, axis=0)
        # Sinusoids are computed in float32 whatever the compute dtype:
        # bfloat16 cannot even represent positions above 256 exactly.
        positions = ops.cast(
            ops.arange(length) + start_position, "float32"
        )  # (time,)
        even_dims = ops.cast(ops.arange(0, self.output_dim, 2), "float32")
        inverse_wavelengths = ops.power(
            _SINUSOID_BASE, -even_dims / self.output_dim
        )  # (output_dim / 2,)
        angles = ops.expand_dims(positions, 1) * ops.expand_dims(
            inverse_wavelengths, 0
        )  # (time, output_dim / 2)
        pairs = ops.stack(
            [ops.sin(angles), ops.cos(angles)], axis=-1
        )  # (time, output_dim / 2, 2)
        # Interleave: dims 2i get the sine, dims 2i + 1 the cosine.
        return ops.reshape(pairs, (length, self.output_dim))  # (time, output_dim)

    def compute_mask(self, inputs, mask=None):
        if not self.mask_zero:
            return None
        return ops.not_equal(inputs, 0)

    def compute_output_shape(self, input_shape):
        return tuple(input_shape) + (self.output_dim,)

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "vocab_size": self.vocab_size,
                "max_length": self.max_length,
                "output_dim": self.output_dim,
                "position": self.position,
                "mask_zero": self.mask_zero,
                "embeddings_initializer": keras.initializers.serialize(
                    self.embeddings_initializer
                ),
            }
        )
        return config
