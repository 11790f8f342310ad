"""Logic gates: the four-row truth table of and, or, xor, nand or nor.

The smallest dataset there is, for a single perceptron (and, or, nand, nor are
linearly separable) and for the first hidden layer (xor is not).

    splits = datasets.gates.load(gate="xor")
    # train: the table repeated `repeats` times (4 * repeats rows), so the
    #        trainer can make batches and shuffle them;
    # validation, test: the 4 rows of the table, once each.

Features: float32 (2,), the two inputs in {0, 1}. Target: int32 0/1.
"""

import numpy as np

import datasets
from datasets import _common

INPUTS = np.array([[0, 0], [0, 1], [1, 0], [1, 1]], dtype=np.float32)  # (4, 2)

TRUTH_TABLES = {
    "and": (0, 0, 0, 1),
    "or": (0, 1, 1, 1),
    "xor": (0, 1, 1, 0),
    "nand": (1, 1, 1, 0),
    "nor": (1, 0, 0, 0),
}

GATES = tuple(TRUTH_TABLES)


def load(gate: str = "and", repeats: int = 64):
    """Load a logic gate's truth table.

    Args:
        gate: one of "and", "or", "xor", "nand", "nor".
        repeats: how many times the 4-row table is repeated in train.

    Returns:
        `datasets.Splits`; info.extras holds "gate", "linearly_separable",
        "truth_table" (the 4 rows as ((x1, x2), target) pairs) and "repeats".
    """
    if gate not in TRUTH_TABLES:
        raise datasets.DataError(
            f"gate={gate!r} is not a known gate; expected one of {', '.join(GATES)}; "
            "pass one of those."
        )
    if isinstance(repeats, bool) or not isinstance(repeats, int) or repeats < 1:
        raise datasets.DataError(
            f"repeats={repeats!r} is not valid; expected an int >= 1 (train gets 4 * repeats "
            "rows); pass e.g. repeats=64."
        )
    targets = np.array(TRUTH_TABLES[gate], dtype=np.int32)  # (4,)
    train = (np.tile(INPUTS, (repeats, 1)), np.tile(targets, repeats))  # (4 * repeats, 2), (4 * repeats,)
    arrays = {"train": train, "validation": (INPUTS, targets), "test": (INPUTS, targets)}
    return _common.array_splits(
        f"gates_{gate}",
        arrays,
        fingerprint_parts=(INPUTS, targets, {"gate": gate, "repeats": repeats}),
        num_classes=2,
        class_names=("0", "1"),
        extras={
            "gate": gate,
            "linearly_separable": gate != "xor",
            "truth_table": tuple(
                (tuple(float(v) for v in row), int(t)) for row, t in zip(INPUTS, targets)
            ),
            "repeats": repeats,
        },
    )
