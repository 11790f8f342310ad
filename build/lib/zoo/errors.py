"""A user's mistake, told apart from a bug.

A mistake in what the user asked for (a config value, a command-line argument,
a file, a workdir) is raised as one of these types where it is detected; the
command line shows it as one line on stderr with exit code 2. Anything else is
a bug, ours or in a recipe, and keeps its traceback.

The packages below `zoo` import nothing of ours, so they have their own types
for the same purpose: `datasets.DataError` (data a user pointed at cannot be
used) and `recipes._common.InputError` (bad input to a recipe's inference
hook). `is_user_mistake` recognises all of them.
"""

import sys


class UserError(ValueError):
    """A user's mistake: what was wrong, what was expected, and what to do."""


class MissingFileError(UserError, FileNotFoundError):
    """A file or run the user named does not exist."""


# (module, class name) of the user-error types of the packages below zoo.
_OTHER_KINDS = (("datasets", "DataError"), ("recipes._common", "InputError"))


def is_user_mistake(error: BaseException) -> bool:
    """True for a user's mistake, False for a bug."""
    kinds = [UserError]
    for module_name, class_name in _OTHER_KINDS:
        module = sys.modules.get(module_name)  # Not imported: no error of its kind can exist.
        if module is not None:
            kinds.append(getattr(module, class_name))
    return isinstance(error, tuple(kinds))
