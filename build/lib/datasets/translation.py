"""English -> Spanish translation pairs, generated offline from real linguistic data.

No pip package ships a real parallel corpus, so this module makes one,
deterministically, from two that ship real language data:

- **Numbers written out**, with `num2words` (its English and Spanish rules):
  4321 -> "four thousand, three hundred and twenty-one" -> "cuatro mil
  trescientos veintiuno". Values have 1 to 9 digits (the number of digits
  uniform, then the value uniform among those), so sources run from one word
  ("seven") to over twenty tokens ("one hundred and twenty-three million,
  four hundred and fifty-six thousand, ...").
- **Dates in CLDR's full format**, with `babel`: "Tuesday, December 1,
  2026" -> "martes, 1 de diciembre de 2026". The word order differs (month
  before day in English, after it in Spanish), so the model must reorder,
  not copy. Dates are uniform over 1900-01-01 .. 2099-12-31.

The text is exactly what the libraries write (including num2words's own
Spanish quirks, such as "veintiuno mil" for 21000).

**Split by the underlying value.** Every number and every date occurs once.
Its split comes from the sha256 of the value ("number:4321",
"date:2026-12-01"): 80% train, 10% validation, 10% test. So no test
sentence's number or date was seen in training, and the split depends on
nothing but the value.

**Tokenizer: a small word vocabulary** (`tokenize`, `detokenize`). A token is
a word, one punctuation mark ("," or "-"), or ONE digit: years and day
numbers are spelled digit by digit ("2026" -> "2 0 2 6"), which keeps the
vocabulary small (about 120 words for both languages) and lets the model copy
digits it never saw together. `detokenize(tokenize(s)) == s` for every
sentence (checked when the corpus is built). One vocabulary serves both
languages: ids 0 = "<pad>", 1 = "<start>", 2 = "<end>", then the sorted
tokens.

`load()` returns `Splits` of ((source ids, decoder input ids), decoder
target ids), all int32 and padded with 0 at the end:

    source          (source_length,)      the English tokens
    decoder input   (target_length,)      <start> + the Spanish tokens
    decoder target  (target_length,)      the Spanish tokens + <end>

Training is teacher forcing: at every position the decoder reads the true
previous Spanish token and predicts the next one.
"""

import datetime
import functools
import hashlib
import importlib.metadata
import re

import numpy as np

import datasets
from datasets import _common

PADDING_TOKEN, START_TOKEN, END_TOKEN = "<pad>", "<start>", "<end>"
SPECIAL_TOKENS = (PADDING_TOKEN, START_TOKEN, END_TOKEN)
PADDING_ID, START_ID, END_ID = 0, 1, 2
NUM_NUMBERS = 12000  # Distinct numbers generated (before the split).
NUM_DATES = 6000  # Distinct dates generated.
MAX_DIGITS = 9  # Numbers up to 999,999,999.
FIRST_DATE, LAST_DATE = datetime.date(1900, 1, 1), datetime.date(2099, 12, 31)
FRACTIONS = (0.8, 0.1, 0.1)
SEED = 0
PACKAGES = ("num2words", "babel")

# A word (letters, accents included), one digit, or one punctuation mark.
_TOKEN = re.compile(r"[^\W\d_]+|\d|[^\w\s]")
_NO_SPACE_BEFORE = {",", "-"}


def tokenize(text: str) -> list:
    """Words, single digits and punctuation marks: "May 21, 2026" -> May 2 1 , 2 0 2 6."""
    return _TOKEN.findall(text)


def detokenize(tokens) -> str:
    """The inverse of `tokenize` for the corpus's sentences.

    A space goes between tokens, except before "," and "-", after "-", and
    between two digits.
    """
    text = ""
    previous = None
    for token in tokens:
        glued = previous is not None and (
            token in _NO_SPACE_BEFORE or previous == "-" or (token.isdigit() and previous.isdigit())
        )
        text += token if previous is None or glued else " " + token
        previous = token
    return text


def english_number(value: int) -> str:
    import num2words

    return num2words.num2words(value, lang="en")


def spanish_number(value: int) -> str:
    import num2words

    return num2words.num2words(value, lang="es")


def english_date(date: datetime.date) -> str:
    from babel import dates

    return dates.format_date(date, format="full", locale="en")


def spanish_date(date: datetime.date) -> str:
    from babel import dates

    return dates.format_date(date, format="full", locale="es")


def _split_of(key: str) -> str:
    """train/validation/test from the sha256 of the value alone."""
    bucket = int(hashlib.sha256(key.encode()).hexdigest(), 16) % 1000
    if bucket < FRACTIONS[0] * 1000:
        return "train"
    if bucket < (FRACTIONS[0] + FRACTIONS[1]) * 1000:
        return "validation"
    return "test"


def _library_versions() -> dict:
    return {name: importlib.metadata.version(name) for name in PACKAGES}


@functools.lru_cache(maxsize=1)
def corpus() -> dict:
    """{"train"|"validation"|"test": tuple of (kind, value, english, spanish)}, in generation order.

    kind is "number" or "date"; value is the int or the ISO date.
    """
    for name in PACKAGES:
        try:
            importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            raise datasets.DataFileNotFoundError(
                f"the {name} package is not installed, and the translation pairs are generated "
                f"with it; run `make venv` (it is pinned in requirements.txt)."
            ) from None
    random_state = np.random.RandomState(SEED)
    numbers = []
    seen = set()
    while len(numbers) < NUM_NUMBERS:
        digits = int(random_state.randint(1, MAX_DIGITS + 1))
        low = 0 if digits == 1 else 10 ** (digits - 1)
        value = int(random_state.randint(low, 10**digits))
        if value not in seen:
            seen.add(value)
            numbers.append(value)
    span = (LAST_DATE - FIRST_DATE).days + 1
    dates, seen = [], set()
    while len(dates) < NUM_DATES:
        date = FIRST_DATE + datetime.timedelta(days=int(random_state.randint(0, span)))
        if date not in seen:
            seen.add(date)
            dates.append(date)
    splits = {split: [] for split in _common.SPLIT_NAMES}
    for value in numbers:
        pair = ("number", value, english_number(value), spanish_number(value))
        splits[_split_of(f"number:{value}")].append(pair)
    for date in dates:
        pair = ("date", date.isoformat(), english_date(date), spanish_date(date))
        splits[_split_of(f"date:{date.isoformat()}")].append(pair)
    for pairs in splits.values():
        for _, _, english, spanish in pairs:
            for sentence in (english, spanish):
                if detokenize(tokenize(sentence)) != sentence:
                    raise AssertionError(f"tokenize/detokenize do not round-trip {sentence!r}")
    return {split: tuple(pairs) for split, pairs in splits.items()}


@functools.lru_cache(maxsize=1)
def vocabulary() -> tuple:
    """("<pad>", "<start>", "<end>", sorted tokens of every sentence in both languages)."""
    tokens = set()
    for pairs in corpus().values():
        for _, _, english, spanish in pairs:
            tokens.update(tokenize(english))
            tokens.update(tokenize(spanish))
    return SPECIAL_TOKENS + tuple(sorted(tokens))


def lengths() -> dict:
    """{"source": most English tokens, "target": most Spanish tokens + 1 (<start> or <end>)}."""
    pairs = [pair for split in corpus().values() for pair in split]
    return {
        "source": max(len(tokenize(english)) for _, _, english, _ in pairs),
        "target": max(len(tokenize(spanish)) for _, _, _, spanish in pairs) + 1,
    }


def encode_source(text: str, vocabulary_tokens, source_length: int) -> np.ndarray:
    """int32 (source_length,): the ids of `text`'s tokens, padded with 0.

    Raises:
        datasets.DataError: a token outside the vocabulary, or more tokens than source_length.
    """
    tokens = tokenize(text)
    lookup = {token: index for index, token in enumerate(vocabulary_tokens)}
    unknown = [token for token in dict.fromkeys(tokens) if token not in lookup or token in SPECIAL_TOKENS]
    if unknown:
        raise datasets.DataError(
            f"text has {len(unknown)} word(s) outside the vocabulary ({', '.join(map(repr, unknown[:10]))})"
        )
    if len(tokens) > source_length:
        raise datasets.DataError(f"text has {len(tokens)} tokens, more than the {source_length} the model reads")
    ids = np.zeros(source_length, dtype=np.int32)
    ids[: len(tokens)] = [lookup[token] for token in tokens]
    return ids


def decode_target(ids, vocabulary_tokens) -> str:
    """The Spanish text of target ids: up to the first <end> (or padding), detokenized."""
    tokens = []
    for index in np.asarray(ids).tolist():
        if index in (END_ID, PADDING_ID):
            break
        if index != START_ID:
            tokens.append(vocabulary_tokens[index])
    return detokenize(tokens)


def _encode_split(pairs, lookup, source_length, target_length):
    count = len(pairs)
    source = np.zeros((count, source_length), np.int32)  # (pairs, source_length)
    decoder_input = np.zeros((count, target_length), np.int32)  # (pairs, target_length)
    decoder_target = np.zeros((count, target_length), np.int32)  # (pairs, target_length)
    for row, (_, _, english, spanish) in enumerate(pairs):
        english_ids = [lookup[token] for token in tokenize(english)]
        spanish_ids = [lookup[token] for token in tokenize(spanish)]
        source[row, : len(english_ids)] = english_ids
        decoder_input[row, : len(spanish_ids) + 1] = [START_ID] + spanish_ids
        decoder_target[row, : len(spanish_ids) + 1] = spanish_ids + [END_ID]
    return source, decoder_input, decoder_target


def load() -> datasets.Splits:
    """The English -> Spanish pairs as `Splits` of ((source, decoder input), decoder target).

    info.vocabulary is the shared token vocabulary; info.extras holds
    "source_length", "target_length", "pairs" (split -> the (kind, value,
    english, spanish) tuples, in the split's order), "kinds_per_split",
    "library_versions" and "description".
    """
    import tensorflow as tf

    splits = corpus()
    vocabulary_tokens = vocabulary()
    lookup = {token: index for index, token in enumerate(vocabulary_tokens)}
    sizes = lengths()
    sets, texts = {}, []
    for split in _common.SPLIT_NAMES:
        source, decoder_input, decoder_target = _encode_split(splits[split], lookup, sizes["source"], sizes["target"])
        sets[split] = tf.data.Dataset.from_tensor_slices(((source, decoder_input), decoder_target))
        texts.append(np.array([f"{english}\t{spanish}" for _, _, english, spanish in splits[split]], dtype=object))
    params = {
        "num_numbers": NUM_NUMBERS, "num_dates": NUM_DATES, "max_digits": MAX_DIGITS,
        "dates": [FIRST_DATE.isoformat(), LAST_DATE.isoformat()], "fractions": FRACTIONS, "seed": SEED,
        "lengths": sizes, "libraries": _library_versions(),
    }
    info = datasets.DatasetInfo(
        name="translation_en_es",
        input_shape=(sizes["source"],),
        num_examples={split: len(splits[split]) for split in _common.SPLIT_NAMES},
        fingerprint=_common.fingerprint(params, list(vocabulary_tokens), *texts),
        vocabulary=vocabulary_tokens,
        extras={
            "source_length": sizes["source"],
            "target_length": sizes["target"],
            "pairs": splits,
            "kinds_per_split": {
                split: {kind: sum(1 for pair in splits[split] if pair[0] == kind) for kind in ("number", "date")}
                for split in _common.SPLIT_NAMES
            },
            "library_versions": _library_versions(),
            "description": (
                f"English -> Spanish: {NUM_NUMBERS} numbers written out (num2words, 1-{MAX_DIGITS} digits) "
                f"and {NUM_DATES} dates in CLDR's full format (babel, {FIRST_DATE.year}-{LAST_DATE.year}); "
                "split 80/10/10 by the sha256 of the value; word tokens with digits split."
            ),
        },
    )
    return datasets.Splits(info=info, **sets)
