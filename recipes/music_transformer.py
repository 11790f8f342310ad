"""Irish folk music with a causal transformer: next-character prediction by attention.

Lecture 2's answer to recurrence. The same task, split and vocabulary as
`music_lstm` (100 characters of ABC notation in, the next character at every
position out), but no state is carried from step to step: every character
looks directly at every earlier one through masked self-attention.
layers.PositionalEmbedding (token + learned position: attention alone sees a
set, not a sequence) -> `num_blocks` causal layers.TransformerBlock (pre-norm
multi-head attention + feed-forward, residuals) -> LayerNorm -> Dense over the
vocabulary; softmax cross-entropy in nats (`bits_per_char` in bits).

Generation uses the same command and writes the same files as the RNN LMs
(.abc/.mid/.wav and the valid-song rate). It feeds one character per step and
keeps every block's keys and values in a fixed-size cache, so the past is never
recomputed; past `sequence_length` characters the cache restarts from the last
half window (recipes/_transformer.py explains why and how).
`python -m zoo attention music_transformer --pretrained --text "X:1\nK:D\nABcd"` draws each head's
attention weights. `dataset=tiny_shakespeare` (tfds, internet once) and
`data_path=FILE` (your own ABC/text file) train the same model on other text.

    make train MODEL=music_transformer
    make generate MODEL=music_transformer ARGS="--num-tunes 10 --length 600 --temperature 0.8 --seed 0"
    make attention MODEL=music_transformer ARGS='--text "X:1\nK:D\n|:dAFA dAFA|"'

Reaches test 1.625 ± 0.023 bits/char over seeds 0, 1, 2 (2 CPU cores, 205-288 s
per seed; pretrained/music_transformer/MODEL_CARD.md). Sampling speed and the
comparison with music_rnn and music_lstm: docs/results_attention.md.
"""

import dataclasses
import typing

import keras

import layers

from datasets import irish, tiny_shakespeare
from recipes import _common, _transformer


@dataclasses.dataclass(frozen=True)
class Config(_common.TrainConfig):
    epochs: int = 6
    batch_size: int = 64
    learning_rate: float = 3e-3  # Peak of the cosine schedule (1e-3: 1.980 bits/char, see above).
    lr_schedule: typing.Literal["constant", "cosine", "exponential"] = "cosine"
    grad_clip_norm: float = 1.0  # Clip the global gradient norm (0: off).
    dataset: typing.Literal["irish", "tiny_shakespeare"] = "irish"
    data_path: str = ""  # Your own ABC/text file instead of the bundled tunes ("": irish.abc).
    sequence_length: int = 100  # Characters per window; also the most the model can attend over.
    model_dim: int = 128  # Size of every token's vector through the blocks (d_model).
    num_heads: int = 4  # Attention heads per block; each has model_dim // num_heads dimensions.
    num_blocks: int = 2  # TransformerBlocks stacked.
    ff_dim: int = 512  # Hidden size of each block's feed-forward network.
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
    if config.dataset == "tiny_shakespeare":
        return tiny_shakespeare.load(sequence_length=config.sequence_length)
    return irish.load_language_model(path=config.data_path or None, sequence_length=config.sequence_length)


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
    return keras.Model(ids, logits, name="music_transformer")


def generate(model, info, config, prompt: str, length: int, temperature: float, seed: int) -> str:
    """prompt + `length` sampled characters, with a key/value cache (recipes/_transformer.py)."""
    return _transformer.generate(model, info.vocabulary, prompt, length, temperature, seed)


def attention_maps(model, info, config, text: str, block: int = 1):
    """(characters, attention weights (heads, T, T)) of block `block` for `text`."""
    return _transformer.char_attention_maps(model, info.vocabulary, text, block, causal=True)
