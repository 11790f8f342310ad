"""A pre-norm transformer block: self-attention, then a feed-forward network."""

import numbers

import keras
from keras import ops

from layers import _checks
from layers import dense
from layers import self_attention




@keras.saving.register_keras_serializable(package="zoo")
class TransformerBlock(keras.layers.Layer):
    """One transformer block, in the pre-norm arrangement of GPT-2.

    Two sub-blocks, each wrapped in a residual connection, so the block
    refines its input rather than replacing it:

        x = x + dropout(attention(layer_norm(x)))
        x = x + dropout(feed_forward(layer_norm(x)))

    where `feed_forward(x) = Dense(d_model)(activation(Dense(ff_dim)(x)))` is
    applied to each position separately. Normalizing *before* each sub-block
    (rather than after the sum, as in the original transformer) keeps the
    residual path an identity, which makes deep stacks train without a
    learning-rate warm-up. The output has the same shape as the input, so
    blocks stack.

    `d_model` is the size of the input's last axis; the sub-layers are made
    in `build`, once it is known.

    Args:
        num_heads: Positive integer, the number of attention heads.
        ff_dim: Positive integer, the hidden size of the feed-forward network
            (commonly `4 * d_model`).
        key_dim: Positive integer, the size of each head's queries, keys and
            values. Default: `None`, meaning `d_model // num_heads` (then
            `d_model` must be divisible by `num_heads`).
        dropout: Float in `[0, 1)`. The rate of the dropout on the attention
            probabilities and on the output of each sub-block.
            Default: `0.0`.
        activation: Activation of the feed-forward hidden layer, any name
            `keras.activations.get` knows. Default: `"gelu"`.
        layer_norm_epsilon: Positive float added to the variance in both
            layer normalizations. Default: `1e-5`.
        **kwargs: Base layer keyword arguments, such as `name` and `dtype`.

    Call arguments:
        inputs: Tensor of shape `(batch, time, d_model)`.
        padding_mask: Optional boolean (or 0/1) tensor of shape
            `(batch, time)`, `True` for real tokens. When `None`, the Keras
            mask of `inputs` is used (e.g. from
            `PositionalEmbedding(mask_zero=True)`). Not allowed with `cache`.
        use_causal_mask: Boolean. If `True`, token `t` attends only to tokens
            `<= t`. Default: `False`.
        training: Boolean, whether dropout is active. Default: `None`.
        cache: Optional `(key_cache, value_cache)` pair from `init_cache`,
            for token-by-token generation; see `SelfAttention`. `inputs` are
            then the new tokens only, at positions `cache_index` onward.
        cache_index: Python int or scalar integer tensor, the position of the
            first token of `inputs`. Required with `cache`.
        mask: The Keras mask of `inputs`, filled in by Keras.

    Returns:
        Without `cache`: a tensor of the shape of `inputs`. With `cache`:
        `(outputs, cache)`, where `cache` is the updated pair.

    Example:

    ```python
    block = TransformerBlock(num_heads=4, ff_dim=256)
    outputs = block(np.zeros((2, 10, 64)), use_causal_mask=True)  # (2, 10, 64)

    # Generation: one cache per block, fixed shapes.
    cache = block.init_cache(batch_size=2, max_length=10)
    outputs, cache = block(first_vectors, cache=cache, cache_index=0)
    ```
    """

    def __init__(
        self,
        num_heads,
        ff_dim,
        key_dim=None,
        dropout=0.0,
        activation="gelu",
        layer_norm_epsilon=1e-5,
        **kwargs,
    ):
        super().__init__(**kwargs)
        _checks.check_positive_integers(
            "TransformerBlock",
            (("num_heads", num_heads, False), ("ff_dim", ff_dim, False), ("key_dim", key_dim, True)),
        )
        _checks.check_dropout("TransformerBlock", dropout)
        try:
            self._activation_function = keras.activations.get(activation)
        except ValueError as error:
            raise ValueError(
                f"TransformerBlock: unknown activation={activation!r}. Use a "
                f"name keras.activations knows, such as 'gelu' or 'relu'."
            ) from error
        if (
            isinstance(layer_norm_epsilon, bool)
            or not isinstance(layer_norm_epsilon, numbers.Real)
            or layer_norm_epsilon <= 0
        ):
            raise ValueError(
                f"TransformerBlock: `layer_norm_epsilon` must be a positive "
                f"float; received layer_norm_epsilon={layer_norm_epsilon!r}."
            )
        self.num_heads = int(num_heads)
        self.ff_dim = int(ff_dim)
        self.key_dim = None if key_dim is None else int(key_dim)
        self.dropout = float(dropout)
        # The name (or config) of the activation, so get_config can save it.
        self.activation = keras.activations.serialize(self._activation_function)
        self.layer_norm_epsilon = float(layer_norm_epsilon)
        self.supports_masking = True

    def build(self, input_shape):
        model_dim = input_shape[-1]
        if model_dim is None:
            raise ValueError(
                f"TransformerBlock: the last axis of the input (d_model) must "
                f"be known; received input shape {input_shape}."
            )
        key_dim = self.key_dim
        if key_dim is None:
            if model_dim % self.num_heads != 0:
                raise ValueError(
                    f"TransformerBlock: d_model={model_dim} is not divisible "
                    f"by num_heads={self.num_heads}, so key_dim cannot "
                    f"default to d_model // num_heads. Pass key_dim "
                    f"explicitly or change num_heads."
                )
            key_dim = model_dim // self.num_heads
        sublayer_arguments = {"dtype": self.dtype_policy}

        self.attention_norm = keras.layers.LayerNormalization(
            epsilon=self.layer_norm_epsilon,
            name="attention_norm",
            **sublayer_arguments,
        )
        self.attention = self_attention.SelfAttention(
            num_heads=self.num_heads,
            key_dim=key_dim,
            dropout=self.dropout,
            name="attention",
            **sublayer_arguments,
        )
        self.attention_dropout = keras.layers.Dropout(
            self.dropout, name="attention_dropout", **sublayer_arguments
        )
        self.feed_forward_norm = keras.layers.LayerNormalization(
            epsilon=self.layer_norm_epsilon,
            name="feed_forward_norm",
            **sublayer_arguments,
        )
        self.feed_forward_hidden = dense.Dense(
            self.ff_dim, name="feed_forward_hidden", **sublayer_arguments
        )
        self.feed_forward_output = dense.Dense(
            model_dim, name="feed_forward_output", **sublayer_arguments
        )
        self.feed_forward_dropout = keras.layers.Dropout(
            self.dropout, name="feed_forward_dropout", **sublayer_arguments
        )

        self.attention_norm.build(input_shape)
        self.attention.build(input_shape)
        self.attention_dropout.build(input_shape)
        self.feed_forward_norm.build(input_shape)
        self.feed_forward_hidden.build(input_shape)
        self.feed_forward_output.build(tuple(input_shape[:-1]) + (self.ff_dim,))
        self.feed_forward_dropout.build(input_shape)

    def init_cache(self, batch_size, max_length, dtype=None):
        """Returns an empty `(key_cache, value_cache)` pair for this block.

        See `SelfAttention.init_cache`. The block must be built (called once,
        or `build((None, None, d_model))`).
        """
        if not self.built:
            raise ValueError(
                "TransformerBlock: init_cache needs a built block (d_model "
                "sets the attention's sizes). Call the block once or "
                "`block.build((None, None, d_model))` first."
            )
        return self.attention.init_cache(batch_size, max_length, dtype=dtype)

    def call(
        self,
        inputs,
        padding_mask=None,
        use_causal_mask=False,
        training=None,
        cache=None,
        cache_index=None,
        mask=None,
    ):
        if padding_mask is None and cache is None:
            padding_mask = mask
        outputs, cache = self._self_attention_sublayer(
            inputs, padding_mask, use_causal_mask, training, cache, cache_index
        )
        outputs = self._feed_forward_sublayer(outputs, training)
        if cache is not None:
            return outputs, cache
        return outputs

    def _self_attention_sublayer(
        self, inputs, padding_mask, use_causal_mask, training, cache, cache_index
    ):
        """x + dropout(attention(layer_norm(x))); returns (outputs, cache or None)."""
        normalized = self.attention_norm(inputs)
        attended = self.attention(
            normalized,
            padding_mask=padding_mask,
            use_causal_mask=use_causal_mask,
            training=training,
            cache=cache,
            cache_index=cache_index,
        )
        if cache is not None:
            attended, cache = attended
        return inputs + self.attention_dropout(attended, training=training), cache

    def _feed_forward_sublayer(self, inputs, training):
        """x + dropout(feed_forward(layer_norm(x)))."""
        normalized = self.feed_forward_norm(inputs)
        hidden = self._activation_function(self.feed_forward_hidden(normalized))
        transformed = self.feed_forward_output(hidden)
        return inputs + self.feed_forward_dropout(transformed, training=training)

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "num_heads": self.num_heads,
                "ff_dim": self.ff_dim,
                "key_dim": self.key_dim,
                "dropout": self.dropout,
                "activation": self.activation,
                "layer_norm_epsilon": self.layer_norm_epsilon,
            }
        )
        return config
