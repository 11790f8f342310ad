"""Shakespeare with a causal transformer: a character LM on tiny_shakespeare (tfds).

The model of `music_transformer` (PositionalEmbedding -> causal
layers.TransformerBlock x num_blocks -> LayerNorm -> Dense over the characters),
trained on about a million characters of Shakespeare's plays instead of the
Irish tunes: the same next-character task on prose and verse, with a longer
window and a larger model because there is more data. Sampling uses the
key/value cache (recipes/_transformer.py), and
`python -m zoo attention shakespeare_transformer --text "ROMEO:"` draws what
each head attends to.

tiny_shakespeare comes from tensorflow-datasets, which downloads it once: this
recipe needs internet the first time (offline and not prepared, it stops within
seconds and says what to do; `music_transformer dataset=tiny_shakespeare` is the
same model with the smaller defaults).

    make train MODEL=shakespeare_transformer
    make generate MODEL=shakespeare_transformer ARGS="--prompt ROMEO: --length 500 --temperature 0.8"

Measured: not measured; the machines this zoo is developed on cannot reach the
tfds download, so this recipe is only trained on tfds mock data in
tests/test_transformer_recipes.py (its loss is finite and it generates).
"""

import dataclasses
import typing

import keras

import layers

from datasets import tiny_shakespeare
from recipes import _common, _transformer


@dataclasses.dataclass(frozen=True)
class Config(_common.TrainConfig):
    epochs: int = 3
    batch_size: int = 64
    learning_rate: float = 1e-3
    lr_schedule: typing.Literal["constant", "cosine", "exponential"] = "cosine"
    grad_clip_norm: float = 1.0  # Clip the global gradient norm (0: off).
    dataset: typing.Literal["tiny_shakespeare"] = "tiny_shakespeare"
    sequence_length: int = 128  # Characters per window; also the most the model can attend over.
    model_dim: int = 192  # Size of every token's vector through the blocks (d_model).
    num_heads: int = 6  # Attention heads per block; each has model_dim // num_heads dimensions.
    num_blocks: int = 4  # TransformerBlocks stacked.
    ff_dim: int = 768  # Hidden size of each block's feed-forward network.
    dropout: float = 0.1  # Dropout on attention probabilities and block outputs (0: off).

    def __post_init__(self):
        super().__post_init__()
        for key in ("model_dim", "num_heads", "num_blocks", "ff_dim"):
            _common.require(self, key, getattr(self, key) >= 1, "must be >= 1")
        _common.check_widths(self, "model_dim", "ff_dim")
        # Sampling past the window keeps its last half, so a window needs 2 positions.
        _common.require(self, "sequence_length", self.sequence_length >= 2, "must be >= 2")
        _common.require(self, "model_dim", self.model_dim % self.num_heads == 0, "must be divisible by num_heads")
        _common.require(self, "dropout", 0.0 <= self.dropout < 1.0, "must be in [0, 1)")


TASK = "language_model"
HEADLINE = "bits_per_char"
METRICS = {"bits_per_char": _common.bits_per_char, "accuracy": _common.accuracy}
loss = _common.sparse_crossentropy  # Per character, in nats.


def load_data(config):
    return tiny_shakespeare.load(sequence_length=config.sequence_length)


def build_model(config, info):
    """GPT in miniature: token + position embeddings, causal pre-norm blocks, a final norm, the vocabulary."""
    ids = keras.Input(shape=(None,), dtype="int32", name="ids")  # (batch, time <= sequence_length)
    embedding = layers.PositionalEmbedding(info.vocab_size, config.sequence_length, config.model_dim, name="embedding")
    hidden = embedding(ids)  # (batch, time, model_dim)
    for index in range(config.num_blocks):
        block = layers.TransformerBlock(config.num_heads, config.ff_dim, dropout=config.dropout, name=f"block_{index + 1}")
        hidden = block(hidden, use_causal_mask=True)  # (batch, time, model_dim): no position sees a later one
    hidden = keras.layers.LayerNormalization(epsilon=1e-5, name="final_norm")(hidden)
    logits = layers.Dense(info.vocab_size, name="logits")(hidden)  # (batch, time, vocab_size): the next character
    return keras.Model(ids, logits, name="shakespeare_transformer")


def generate(model, info, config, prompt: str, length: int, temperature: float, seed: int) -> str:
    """prompt + `length` sampled characters, with a key/value cache (recipes/_transformer.py)."""
    return _transformer.generate(model, info.vocabulary, prompt, length, temperature, seed)


def attention_maps(model, info, config, text: str, block: int = 1):
    """(characters, attention weights (heads, T, T)) of block `block` for `text`."""
    return _transformer.char_attention_maps(model, info.vocabulary, text, block, causal=True)
