"""Copying a recipe is the whole change: a copy, with zero edits, passes the tests the registry generates.

The README promises that `cp recipes/digits_mlp.py recipes/my_digits.py` gives a
new recipe. This test makes such copies of a dense, a recurrent and a
transformer recipe in a copy of the tree (never in the real recipes/), then
runs there the tests that are generated from the registry: the contract, the
golden losses (a copy has none recorded yet, so its case is a skip that says how
to record them) and the smoke test (train a few steps, resume, reload, and
generate for the sequence recipes).

A copy is there to be edited: a copy of translate_transformer with a layer added
before its output layer, or a layer renamed, still translates (cached decoding)
exactly as greedy decoding with its own whole model does.
"""

import pathlib
import shutil
import subprocess
import sys

import numpy as np
import pytest

import zoo
from datasets import translation

ROOT = pathlib.Path(__file__).resolve().parent.parent
COPIES = {"my_digits": "digits_mlp", "my_tunes": "music_lstm", "my_transformer": "music_transformer"}
GENERATED_TESTS = [
    "tests/zoo/test_registry.py::test_every_recipe_honours_the_contract",
    "tests/test_recipes.py::test_short_run_reaches_the_golden_losses",
    "tests/test_recipes.py::test_recipe_trains_and_its_checkpoint_reloads_identically",
]


@pytest.mark.slow
def test_copied_recipes_pass_the_generated_tests_with_zero_edits(tmp_path):
    tree = tmp_path / "checkout"
    for folder in ("zoo", "recipes", "layers", "datasets", "pretrained", "tests"):
        shutil.copytree(ROOT / folder, tree / folder, ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(ROOT / "pyproject.toml", tree)
    for copy, original in COPIES.items():
        shutil.copy(tree / "recipes" / f"{original}.py", tree / "recipes" / f"{copy}.py")

    selection = " or ".join([*COPIES, "contract"])
    completed = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-rs", "-p", "no:cacheprovider", *GENERATED_TESTS, "-k", selection],
        cwd=tree, capture_output=True, text=True, timeout=600,
    )
    report = completed.stdout[-4000:]
    assert completed.returncode == 0, report
    assert "4 passed, 3 skipped" in report, report  # The contract and 3 smoke tests; 3 golden skips.
    for copy in COPIES:
        assert f"not recorded yet: recipe {copy!r} has no golden losses" in report, report
        assert f"python -m tests.record_golden {copy}" in report, report
    assert not [copy for copy in COPIES if (ROOT / "recipes" / f"{copy}.py").exists()]


def full_model_greedy(model, info, english_sentences) -> list:
    """Greedy decoding with no cache: the whole model reruns on the growing target prefix at every step."""
    length = info.extras["source_length"]
    source_ids = np.stack([translation.encode_source(english, info.vocabulary, length) for english in english_sentences])
    prefix = np.full((len(source_ids), 1), translation.START_ID, np.int32)  # (batch, 1): <start>
    for _ in range(info.extras["target_length"]):
        logits = np.asarray(model([source_ids, prefix], training=False))[:, -1]  # (batch, vocab): the last position's
        prefix = np.concatenate([prefix, logits.argmax(-1)[:, None].astype(np.int32)], axis=1)
    return [translation.decode_target(row, info.vocabulary) for row in prefix[:, 1:]]


EDITS = {
    # A layer added between the decoder and its output layer.
    "my_translator": (
        '    logits = layers.Dense(info.vocab_size, name="logits")(hidden)',
        (
            '    hidden = layers.Dense(config.model_dim, activation="relu", name="extra_dense")(hidden)\n'
            '    logits = layers.Dense(info.vocab_size, name="logits")(hidden)'
        ),
    ),
    # A layer renamed.
    "my_renamed_translator": ('name="decoder_norm"', 'name="final_norm"'),
}


# The full model's first step attends over one token, which keras warns about.
@pytest.mark.filterwarnings("ignore:You are using a softmax over axis")
@pytest.mark.parametrize("copy", sorted(EDITS))
def test_a_copied_translator_with_an_edited_model_decodes_as_its_model_does(copy, tmp_path):
    """Copy translate_transformer, edit only its build_model (add or rename a layer): `translate`, the cached
    decoder, still gives what greedy decoding with the whole edited model gives, sentence for sentence."""
    text = (ROOT / "recipes" / "translate_transformer.py").read_text()
    old, new = EDITS[copy]
    assert text.count(old) == 1, f"the edit for {copy} no longer applies to translate_transformer.py"
    path = tmp_path / f"{copy}.py"
    path.write_text(text.replace(old, new))

    recipe = zoo.get_recipe(str(path))
    config = zoo.make_config(recipe, {})
    info = recipe.module.load_data(config).info
    model = recipe.module.build_model(config, info)  # Random weights: their choices are diverse enough to differ.
    english = [pair[2] for pair in info.extras["pairs"]["test"][::50][:16]]
    cached = [recipe.module.translate(model, info, config, sentence, 1) for sentence in english]
    assert cached == full_model_greedy(model, info, english)


def full_model_sample(model, vocabulary, prompt: str, length: int, temperature: float, seed: int) -> str:
    """Sampling by rerunning the whole model on everything so far: the same seeded draws as the recipes'
    samplers (recipes/_sequence.py, recipes/_transformer.py), without their state or cache."""
    import tensorflow as tf

    ids = [vocabulary.index(character) for character in prompt]
    for position in range(length):
        logits = model(np.asarray([ids], np.int32), training=False)[:, -1, :]  # (1, vocab)
        token = tf.random.stateless_categorical(logits / temperature, 1, seed=tf.stack([seed, position]), dtype=tf.int32)
        ids.append(int(token[0, 0]))
    return prompt + "".join(vocabulary[i] for i in ids[len(prompt):])


@pytest.mark.parametrize("name, overrides", [
    ("music_lstm", {"units": 16, "embedding_dim": 8}),
    ("music_transformer", {"model_dim": 16, "num_heads": 2, "num_blocks": 1, "ff_dim": 16}),
])
def test_a_copied_language_model_with_a_layer_before_its_head_samples_through_it(name, overrides, tmp_path):
    """Copy a music recipe and add a layer between its last recurrent or attention layer and its head:
    `generate`, the stepping sampler, still draws what the whole edited model would (it used to take
    the head as the model's last layer and skip the new one)."""
    text = (ROOT / "recipes" / f"{name}.py").read_text()
    old = '    logits = layers.Dense(info.vocab_size, name="logits")(hidden)'
    assert text.count(old) == 1, f"the edit no longer applies to {name}.py"
    path = tmp_path / f"my_{name}.py"
    path.write_text(text.replace(old, '    hidden = layers.Dense(16, activation="tanh", name="extra_dense")(hidden)\n' + old))

    recipe = zoo.get_recipe(str(path))
    config = zoo.make_config(recipe, overrides)
    info = recipe.module.load_data(config).info
    model = recipe.module.build_model(config, info)
    vocabulary = list(info.vocabulary)
    # Random weights give small logits: a low temperature makes every draw depend on them.
    stepped = recipe.module.generate(model, info, config, "X:", 24, 0.05, 7)
    assert stepped == full_model_sample(model, vocabulary, "X:", 24, 0.05, 7)
