"""Many-to-one LSTM: read a whole sequence, output one prediction for it.

Lecture 2's sequence classification. An embedding with `mask_zero=True` turns
token ids into vectors and marks the padding (id 0); keras.layers.RNN runs
layers.LSTMCell (from scratch) over the real tokens only, and its final
hidden state, a summary of the whole sequence, feeds one dense layer.

Two datasets, and the output follows the number of classes:

- `irish_tune_types` (default, offline): the type of an Irish tune (reel,
  jig, hornpipe, polka, slide, set dance, other) from its notes alone; the
  headers that give it away (title, meter, id...) are stripped. Seven
  classes: softmax over the types, softmax cross-entropy.
- `imdb_reviews` (tfds, needs internet once): positive or negative movie
  review. Two classes: one logit, sigmoid, binary cross-entropy.

    make train MODEL=sentiment_lstm
    make train MODEL=sentiment_lstm ARGS="dataset=imdb_reviews"

Reaches test accuracy 0.800 ± 0.022 over seeds 0, 1, 2 (always answering "reel": 0.475;
pretrained/sentiment_lstm/MODEL_CARD.md). One run's measurements: docs/results_sequence.md.
"""

import dataclasses
import typing

import keras

import layers
from datasets import imdb_reviews, irish
from recipes import _common


@dataclasses.dataclass(frozen=True)
class Config(_common.TrainConfig):
    epochs: int = 30
    batch_size: int = 32
    learning_rate: float = 3e-3
    grad_clip_norm: float = 1.0  # Clip the global gradient norm (0: off).
    patience: int = 8  # Early stopping on the validation loss.
    dataset: typing.Literal["irish_tune_types", "imdb_reviews"] = "irish_tune_types"
    max_length: int = 384  # Tokens kept per sequence (characters of a tune, words of a review).
    vocab_size: int = 20000  # imdb_reviews only: words in the vocabulary.
    embedding_dim: int = 32  # Size of each token's learned vector.
    units: int = 64  # Size of the LSTM's hidden and cell states.
    dropout: float = 0.2  # Dropout on the final hidden state (0: off).

    def __post_init__(self):
        super().__post_init__()
        for key in ("max_length", "embedding_dim", "units"):
            _common.require(self, key, getattr(self, key) >= 1, "must be >= 1")
        _common.check_widths(self, "embedding_dim", "units")
        _common.require(self, "vocab_size", self.vocab_size >= 3, "must be >= 3")
        _common.require(self, "dropout", 0.0 <= self.dropout < 1.0, "must be in [0, 1)")


TASK = "classification"
HEADLINE = "accuracy"


# Two classes get one logit (sigmoid); more get one logit per class (softmax).
# The loss and the accuracy read which from the width of the model's output.
loss = _common.width_crossentropy
METRICS = {"accuracy": _common.width_accuracy}


def load_data(config):
    if config.dataset == "imdb_reviews":
        return imdb_reviews.load(max_length=config.max_length, vocab_size=config.vocab_size, seed=config.seed)
    return irish.load_tune_types(max_length=config.max_length)


def build_model(config, info):
    ids = keras.Input(shape=(None,), dtype="int32", name="ids")
    # mask_zero: id 0 is padding, so the LSTM skips it and its last state is the
    # state after the last real token.
    vectors = keras.layers.Embedding(info.vocab_size, config.embedding_dim, mask_zero=True, name="embedding")(ids)  # (batch, time, embedding_dim)
    summary = keras.layers.RNN(layers.LSTMCell(config.units, name="lstm_cell"), name="recurrent")(vectors)  # (batch, units)
    if config.dropout:
        summary = keras.layers.Dropout(config.dropout, name="dropout")(summary)
    outputs = 1 if info.num_classes == 2 else info.num_classes
    logits = layers.Dense(outputs, name="logits")(summary)  # (batch, outputs)
    return keras.Model(ids, logits, name="sentiment_lstm")
