"""Argument checks shared by the attention layers (private to layers/)."""

import numbers


def is_positive_integer(value) -> bool:
    """An int > 0 (bools excluded, though Python counts them as ints)."""
    return not isinstance(value, bool) and isinstance(value, numbers.Integral) and value > 0


def check_positive_integers(layer_name: str, arguments) -> None:
    """Raises a ValueError for the first `(name, value, may_be_none)` that is not
    a positive integer (or None, where that is allowed)."""
    for name, value, may_be_none in arguments:
        if value is None and may_be_none:
            continue
        if not is_positive_integer(value):
            raise ValueError(
                f"{layer_name}: `{name}` must be a positive integer"
                f"{' or None' if may_be_none else ''}; received {name}={value!r}."
            )


def check_dropout(layer_name: str, dropout) -> None:
    """Raises a ValueError unless `dropout` is a real number in [0, 1)."""
    if isinstance(dropout, bool) or not isinstance(dropout, numbers.Real) or not 0.0 <= dropout < 1.0:
        raise ValueError(
            f"{layer_name}: `dropout` must be a float in [0, 1); received dropout={dropout!r}."
        )
