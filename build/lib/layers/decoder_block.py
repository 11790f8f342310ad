"""A pre-norm decoder block: causal self-attention, cross-attention over the source, feed-forward."""

import keras

from layers import cross_attention
from layers import transformer_block


@keras.saving.register_keras_serializable(package="zoo")
class DecoderBlock(transformer_block.TransformerBlock):
    """One block of a transformer decoder, pre-norm, as in an encoder-decoder translator.

    Three sub-blocks, each wrapped in a residual connection:

        x = x + dropout(self_attention(layer_norm(x)))           # causal
        x = x + dropout(cross_attention(layer_norm(x), source))  # encoder outputs
        x = x + dropout(feed_forward(layer_norm(x)))

    The causal self-attention lets each target token see the tokens before
    it; the cross-attention lets it look at every real token of the source
    (the encoder's outputs) and never at the source's padding. It is a
    `TransformerBlock` with the cross-attention sub-block added between its
    two: the self-attention and feed-forward sub-blocks are that class's
    own code.

    Args:
        num_heads: Positive integer, the number of heads of both attentions.
        ff_dim: Positive integer, the hidden size of the feed-forward network.
        key_dim: Positive integer, each head's size. Default: `None`,
            meaning `d_model // num_heads`.
        dropout: Float in `[0, 1)`, on attention probabilities and on each
            sub-block's output. Default: `0.0`.
        activation: Activation of the feed-forward hidden layer.
            Default: `"gelu"`.
        layer_norm_epsilon: Positive float, for the three layer
            normalizations. Default: `1e-5`.
        **kwargs: Base layer keyword arguments, such as `name` and `dtype`.

    Call arguments:
        inputs: Tensor `(batch, target_time, d_model)`, the target tokens.
        encoder_outputs: Tensor `(batch, source_time, encoder_dim)`, the
            encoder's outputs. Not given with `cache`, which holds their
            projected keys and values.
        padding_mask: Optional boolean `(batch, target_time)`, `True` for
            real target tokens. Default: the Keras mask of `inputs`.
        encoder_padding_mask: Optional boolean `(batch, source_time)`,
            `True` for real source tokens: padding is never attended to.
            Default: the Keras mask of `encoder_outputs`.
        use_causal_mask: Boolean, whether target token `t` sees only target
            tokens `<= t`. Default: `True` (a decoder).
        training: Boolean, whether dropout is active. Default: `None`.
        cache: Optional pair from `init_cache`: the self-attention's
            `(key_cache, value_cache)` and the cross-attention's projected
            source `(keys, values)`. `inputs` are then the new target tokens
            only, at positions `cache_index` onward.
        cache_index: Python int or scalar integer tensor. Required with
            `cache`.
        mask, encoder_outputs_mask: The Keras masks of `inputs` and
            `encoder_outputs`, filled in by Keras.

    Returns:
        Without `cache`: a tensor of the shape of `inputs`. With `cache`:
        `(outputs, cache)`, the cache updated.

    Example:

    ```python
    block = DecoderBlock(num_heads=4, ff_dim=256)
    outputs = block(target_vectors, encoder_outputs,
                    encoder_padding_mask=source_ids != 0)

    # Greedy decoding: the source is projected once, target keys/values cached.
    cache = block.init_cache(batch_size, max_length, encoder_outputs)
    outputs, cache = block(first_vectors, cache=cache, cache_index=0,
                           encoder_padding_mask=source_ids != 0)
    ```
    """

    def build(self, inputs_shape, encoder_outputs_shape=None):
        input_shape = inputs_shape
        if encoder_outputs_shape is None:
            raise ValueError(
                "DecoderBlock: building needs the shape of `encoder_outputs`; "
                "call the block once as block(inputs, encoder_outputs) or "
                "build(inputs_shape, encoder_outputs_shape)."
            )
        super().build(input_shape)
        sublayer_arguments = {"dtype": self.dtype_policy}
        self.cross_attention_norm = keras.layers.LayerNormalization(
            epsilon=self.layer_norm_epsilon,
            name="cross_attention_norm",
            **sublayer_arguments,
        )
        self.cross_attention = cross_attention.CrossAttention(
            num_heads=self.num_heads,
            key_dim=self.attention.key_dim,
            dropout=self.dropout,
            output_dim=input_shape[-1],
            name="cross_attention",
            **sublayer_arguments,
        )
        self.cross_attention_dropout = keras.layers.Dropout(
            self.dropout, name="cross_attention_dropout", **sublayer_arguments
        )
        self.cross_attention_norm.build(input_shape)
        self.cross_attention.build(input_shape, encoder_outputs_shape)
        self.cross_attention_dropout.build(input_shape)

    def init_cache(self, batch_size, max_length, encoder_outputs, dtype=None):
        """The decoding cache: an empty self-attention cache and the projected source.

        Args:
            batch_size: Python int, the batch size of the generation.
            max_length: Python int, the most target positions decoded.
            encoder_outputs: Tensor `(batch_size, source_time, encoder_dim)`.
            dtype: The self-attention cache's dtype. Default: the compute dtype.

        Returns:
            `((key_cache, value_cache), (source_keys, source_values))`.
        """
        self_cache = super().init_cache(batch_size, max_length, dtype=dtype)
        return self_cache, self.cross_attention.precompute(encoder_outputs)

    def call(
        self,
        inputs,
        encoder_outputs=None,
        padding_mask=None,
        encoder_padding_mask=None,
        use_causal_mask=True,
        training=None,
        cache=None,
        cache_index=None,
        mask=None,
        encoder_outputs_mask=None,
    ):
        if (cache is None) == (encoder_outputs is None):
            raise ValueError(
                "DecoderBlock: pass either `encoder_outputs` or a `cache` from "
                "`init_cache` (which holds the projected encoder outputs), "
                "not both and not neither."
            )
        if padding_mask is None and cache is None:
            padding_mask = mask
        if encoder_padding_mask is None:
            encoder_padding_mask = encoder_outputs_mask
        self_cache, memory = (None, None) if cache is None else cache

        outputs, self_cache = self._self_attention_sublayer(
            inputs, padding_mask, use_causal_mask, training, self_cache, cache_index
        )
        normalized = self.cross_attention_norm(outputs)
        attended = self.cross_attention(
            normalized,
            encoder_outputs,
            query_mask=padding_mask,
            value_mask=encoder_padding_mask,
            training=training,
            memory=memory,
        )
        outputs = outputs + self.cross_attention_dropout(attended, training=training)
        outputs = self._feed_forward_sublayer(outputs, training)
        if cache is not None:
            return outputs, (self_cache, memory)
        return outputs
