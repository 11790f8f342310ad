"""From-scratch Keras 3 layers, written with `keras.ops` only.

Each layer here has a keras twin it is tested against with the same weights:

    Dense               keras.layers.Dense
    Conv2D              keras.layers.Conv2D (patches @ kernel: a Dense at every position)
    RNNCell             keras.layers.SimpleRNNCell (plus per-step gradient clipping)
    LSTMCell            keras.layers.LSTMCell
    PositionalEmbedding keras.layers.Embedding + a position table
    SelfAttention       keras.layers.MultiHeadAttention (query = key = value)
    CrossAttention      keras.layers.MultiHeadAttention (query; key = value, or its own key)
    TransformerBlock    pre-norm attention + feed-forward block
    DecoderBlock        pre-norm causal self-attention + cross-attention + feed-forward block

This package imports keras and nothing else of the zoo's.
"""

from layers.conv2d import Conv2D  # noqa: F401
from layers.cross_attention import CrossAttention  # noqa: F401
from layers.decoder_block import DecoderBlock  # noqa: F401
from layers.dense import Dense  # noqa: F401
from layers.lstm_cell import LSTMCell  # noqa: F401
from layers.rnn_cell import RNNCell  # noqa: F401
from layers.positional_embedding import PositionalEmbedding  # noqa: F401
from layers.self_attention import SelfAttention  # noqa: F401
from layers.transformer_block import TransformerBlock  # noqa: F401

__all__ = ["Dense", "Conv2D", "RNNCell", "LSTMCell", "PositionalEmbedding", "SelfAttention", "CrossAttention", "TransformerBlock", "DecoderBlock"]
