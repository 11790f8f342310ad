"""Argument checks shared by every layer in layers/ (private to the package).

Each raises a ValueError that names the layer, the argument, what it must be
and the value received, as keras's own layers do.
"""

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


def check_choice(layer_name: str, name: str, value, choices):
    """Returns `value`; raises a ValueError listing `choices` unless it is one of them."""
    if value not in choices:
        raise ValueError(f"{layer_name}: unknown {name} {value!r}. Expected one of {list(choices)}.")
    return value


def check_positive_or_none(layer_name: str, name: str, value):
    """Returns `value` as a float, or None; raises a ValueError unless it is None or a number > 0."""
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or value <= 0:
        raise ValueError(
            f"{layer_name}: `{name}` must be None (off) or a positive number; received {name}={value!r}."
        )
    return float(value)


def check_dropout(layer_name: str, dropout) -> None:
    """Raises a ValueError unless `dropout` is a real number in [0, 1)."""
    if isinstance(dropout, bool) or not isinstance(dropout, numbers.Real) or not 0.0 <= dropout < 1.0:
        raise ValueError(
            f"{layer_name}: `dropout` must be a float in [0, 1); received dropout={dropout!r}."
        )
