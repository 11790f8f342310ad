"""Irish folk music with a vanilla RNN and gradient clipping: next-character prediction.

Lecture 2's first recurrent model: h_t = tanh(x_t W_xh + h_{t-1} W_hh + b),
the same weights at every step (layers.RNNCell, from scratch, inside
keras.layers.RNN). Backpropagation through time multiplies the gradient by
W_hh once per step, so it can explode; two clips guard against that: the cell
clips the gradient flowing back into h_{t-1} at every step (`step_clip`), and
the trainer clips the global norm of the final gradients (`grad_clip_norm`).
Embedding -> RNN -> dense over the vocabulary, softmax cross-entropy (nats;
`bits_per_char` in bits). Compare it with `music_lstm`, the same model with
gates. `dataset=tiny_shakespeare` (tfds, internet once) and `data_path=FILE`
(your own ABC/text file) work too.

    make train MODEL=music_rnn
    make generate MODEL=music_rnn ARGS="--num-tunes 10 --length 600 --temperature 0.8 --seed 0"

Reaches test 1.835 ± 0.008 bits/char over seeds 0, 1, 2 (pretrained/music_rnn/MODEL_CARD.md).
One run's measurements: docs/results_sequence.md.
"""

import dataclasses
import typing

import keras

import layers
from datasets import irish, tiny_shakespeare
from recipes import _common, _sequence


@dataclasses.dataclass(frozen=True)
class Config(_common.TrainConfig):
    epochs: int = 6
    batch_size: int = 64
    learning_rate: float = 3e-3
    lr_schedule: typing.Literal["constant", "cosine", "exponential"] = "cosine"
    grad_clip_norm: float = 1.0  # Clip the global gradient norm of each step (0: off).
    dataset: typing.Literal["irish", "tiny_shakespeare"] = "irish"
    data_path: str = ""  # Your own ABC/text file instead of the bundled tunes ("": irish.abc).
    sequence_length: int = 100  # Characters per training window (backprop through time).
    embedding_dim: int = 64  # Size of each character's learned vector.
    units: int = 256  # Size of the hidden state.
    step_clip: float = 1.0  # Clip the gradient into h_{t-1} to [-c, c] at every step (0: off).

    def __post_init__(self):
        super().__post_init__()
        for key in ("sequence_length", "embedding_dim", "units"):
            _common.require(self, key, getattr(self, key) >= 1, "must be >= 1")
        _common.check_widths(self, "embedding_dim", "units")
        _common.require(self, "step_clip", self.step_clip >= 0, "must be >= 0 (0: off)")


TASK = "language_model"
HEADLINE = "bits_per_char"
METRICS = {"bits_per_char": _common.bits_per_char, "accuracy": _common.accuracy}
loss = _common.sparse_crossentropy  # Per character, in nats.


def load_data(config):
    if config.dataset == "tiny_shakespeare":
        return tiny_shakespeare.load(sequence_length=config.sequence_length)
    return irish.load_language_model(path=config.data_path or None, sequence_length=config.sequence_length)


def build_model(config, info):
    # The cell clips the gradient flowing back into h_{t-1} at every step (BPTT clipping).
    cell = layers.RNNCell(config.units, gradient_clip=config.step_clip or None, name="rnn_cell")
    ids = keras.Input(shape=(None,), dtype="int32", name="ids")  # (batch, time) character ids
    vectors = keras.layers.Embedding(info.vocab_size, config.embedding_dim, name="embedding")(ids)  # (batch, time, embedding_dim)
    hidden = keras.layers.RNN(cell, return_sequences=True, name="recurrent")(vectors)  # (batch, time, units)
    logits = layers.Dense(info.vocab_size, name="logits")(hidden)  # (batch, time, vocab_size): the next character
    return keras.Model(ids, logits, name="music_rnn")


def generate(model, info, config, prompt: str, length: int, temperature: float, seed: int) -> str:
    """prompt + `length` sampled characters (see recipes/_sequence.py)."""
    return _sequence.generate(model, info.vocabulary, prompt, length, temperature, seed)
