"""Shipped checkpoints that verify themselves: `zoo.load_pretrained(name)`.

    import zoo
    model = zoo.load_pretrained("digits_mlp")        # a built keras.Model
    loaded = zoo.hub.pretrained.load("digits_mlp")        # .model, .config, .info, .entry

`pretrained/manifest.json` lists them:

    {"models": {
       "digits_mlp": {
         "recipe": "digits_mlp",
         "files": {
           "weights": {"path": "pretrained/digits_mlp/model.weights.h5", "sha256": "...", "bytes": 123},
           "config":  {"path": "pretrained/digits_mlp/config.json", "sha256": "..."}},
         "card": "pretrained/digits_mlp/MODEL_CARD.md",
         "headline": "accuracy 0.975 ± 0.004",
         ...}}}

A file is given by `path` (relative to the repository root) or by `url`; a URL
is downloaded once into a cache (`ZOO_CACHE_DIR`, default ~/.cache/zoo) with
`keras.utils.get_file(file_hash=...)`, and a download whose hash differs is
deleted and refused.

What loading trusts, and what it does not: the model is BUILT from the recipe's
own code (recipes/NAME.py) with the hyperparameters of the shipped config.json,
which is read as plain JSON. The weights file's sha256 is checked against the
manifest BEFORE the file is read: its verified bytes are copied to a private
temporary file and only that copy is loaded, with `model.load_weights` (weights
only: no code, no layer config is taken from any file). A `.keras` archive is
treated the same way (`load_weights` reads only its weights), so nothing is
ever deserialized and Keras's `safe_mode` is never turned off. A missing,
truncated or tampered file is refused with one line naming the file, the
expected and actual hash prefixes, and what to do.
"""

import contextlib
import dataclasses
import os
import pathlib
import sys
import tempfile
import urllib.parse

from zoo import errors, files

ROOT = pathlib.Path(__file__).resolve().parents[2]  # The checkout (or site-packages): zoo/hub/ is two below it.
PRETRAINED_DIR = ROOT / "pretrained"
MANIFEST = PRETRAINED_DIR / "manifest.json"
WEIGHTS_SUFFIXES = (".weights.h5", ".keras")


@dataclasses.dataclass
class Pretrained:
    """A loaded checkpoint and what it was trained with."""

    name: str
    model: object  # keras.Model, built from the recipe's code.
    config: object  # The recipe's Config, from the shipped config.json.
    info: object  # datasets.DatasetInfo of the data it was trained on.
    splits: object  # datasets.Splits (for evaluation).
    recipe: object  # zoo.engine.registry.Recipe
    entry: dict  # The manifest entry.

    def __repr__(self) -> str:
        return (f"Pretrained({self.name}: {self.model.count_params():,} parameters, "
                f"{self.entry.get('headline', '')} on {self.info.name} {self.entry.get('split', 'test')})")


def read_manifest(path=None) -> dict:
    """The manifest as a dict ({"models": {}} if there is no manifest file).

    The manifest names recipes, and a recipe is code: every model key and every
    `recipe` field must be the name of one of the zoo's own recipes
    (`registry.list_recipes()`), never a path or a module name, so that no
    manifest can make the zoo import a file. This is checked here, before
    anything is imported.
    """
    from zoo.engine import registry

    path = pathlib.Path(path or MANIFEST)
    if not path.exists():
        return {"models": {}}
    restore = f"restore it with `git checkout -- {path}`"
    manifest = files.read_json(path, restore)
    if not isinstance(manifest.get("models", {}), dict):
        raise errors.UserError(f'{path} has no "models" object; {restore}.')
    manifest.setdefault("models", {})
    known = set(registry.list_recipes())
    for name, entry in manifest["models"].items():
        files_spec = entry.get("files") if isinstance(entry, dict) else None
        if not isinstance(files_spec, dict) or not all(isinstance(spec, dict) for spec in files_spec.values()):
            raise errors.UserError(
                f'{path}: the entry {name!r} is not an object with a "files" object; {restore} '
                f"or reship it with `python -m zoo ship {name}`."
            )
        for field, value in (("model name", name), ('"recipe" field', entry.get("recipe", name))):
            if not (isinstance(value, str) and value in known):
                raise errors.UserError(
                    f"{path}: the {field} {str(value)[:80]!r} of entry {str(name)[:80]!r} is not one of the zoo's "
                    f"recipes; a manifest names recipes only by their names (no paths); {restore}."
                )
    return manifest


def entry_for(name: str, manifest_path=None) -> dict:
    """The manifest entry of `name`, or a ValueError listing what is shipped."""
    models = read_manifest(manifest_path)["models"]
    if name not in models:
        shipped = ", ".join(sorted(models)) or "none"
        raise errors.UserError(
            f"No pretrained checkpoint for {name!r} (shipped: {shipped}); train it with "
            f"`python -m zoo train {name}` and use --workdir instead of --pretrained."
        )
    return models[name]


def cache_dir() -> pathlib.Path:
    """Where downloaded checkpoint files are kept: $ZOO_CACHE_DIR or ~/.cache/zoo."""
    return pathlib.Path(os.environ.get("ZOO_CACHE_DIR") or pathlib.Path.home() / ".cache" / "zoo")


def _expected_hash(name: str, role: str, spec: dict) -> str:
    expected = str(spec.get("sha256", "")).lower()
    if len(expected) != 64 or any(c not in "0123456789abcdef" for c in expected):
        raise errors.UserError(
            f"Manifest entry {name!r} gives no valid sha256 for its {role} file; every shipped "
            "file needs one; regenerate the entry with `python -m zoo ship NAME`."
        )
    return expected


def fetch(name: str, role: str, spec: dict, root=None) -> pathlib.Path:
    """The local path of one manifest file (downloading a `url` once into the cache).

    Does not verify the local file's hash: `read_verified` does, on the bytes it reads.
    """
    if "path" in spec:
        path = pathlib.Path(spec["path"])
        path = path if path.is_absolute() else pathlib.Path(root or ROOT) / path
        if not path.is_file():
            raise errors.MissingFileError(
                f"Pretrained {role} file for {name!r} is missing: {path}; restore it with "
                f"`git checkout -- {path}` or retrain it with `python -m zoo ship {name}`."
            )
        return path
    if "url" not in spec:
        raise errors.UserError(f"Manifest entry {name!r}: the {role} file has neither a path nor a url.")
    url = str(spec["url"])
    expected = _expected_hash(name, role, spec)
    file_name = os.path.basename(urllib.parse.urlsplit(url).path) or f"{role}.bin"
    import keras

    target = cache_dir() / name / file_name
    # get_file silently falls back to /tmp/.keras when cache_dir does not exist yet.
    target.parent.mkdir(parents=True, exist_ok=True)
    try:
        # Its progress lines go to stderr, so `predict` output on stdout stays clean.
        with contextlib.redirect_stdout(sys.stderr):
            local = keras.utils.get_file(
                fname=file_name,
                origin=url,
                file_hash=expected,
                hash_algorithm="sha256",
                cache_dir=str(cache_dir()),
                cache_subdir=name,
            )
    except ValueError:
        # get_file leaves the corrupted download behind; never keep it.
        if target.exists():
            target.unlink()
        raise errors.UserError(
            f"Downloaded {role} file for {name!r} from {url} does not match the manifest "
            f"(expected sha256 {expected[:12]}...); deleted it. The server's copy is not the "
            "one the manifest names: fix the url or the sha256 in pretrained/manifest.json."
        ) from None
    except Exception as error:  # get_file wraps network failures in a bare Exception.
        reason = " ".join(str(error).split()) or type(error).__name__
        raise errors.MissingFileError(
            f"Cannot download the {role} file for {name!r} from {url} ({reason}); check the "
            f"connection and the url, or place the file at {target}."
        ) from None
    return pathlib.Path(local)


def previous_copy(path: pathlib.Path) -> pathlib.Path:
    """Where a `ship` keeps pretrained/NAME/FILE while it swaps in the new NAME/ (see zoo/hub/ship.py)."""
    return path.parent.with_name(f".{path.parent.name}.old") / path.name


def _kept_by_an_interrupted_ship(spec: dict, root, expected: str):
    """The file's bytes from pretrained/.NAME.old/ when a killed `ship` left the manifest's version there."""
    if "path" not in spec:
        return None
    path = pathlib.Path(spec["path"])
    kept = previous_copy(path if path.is_absolute() else pathlib.Path(root or ROOT) / path)
    if kept.is_file():
        data = kept.read_bytes()
        if files.sha256_bytes(data) == expected:
            return data
    return None


def read_verified(name: str, role: str, spec: dict, root=None) -> bytes:
    """The bytes of one manifest file, after checking them against its sha256.

    A `ship` killed while it swapped folders may have left the files the
    manifest names in pretrained/.NAME.old/; they are read from there then.
    """
    expected = _expected_hash(name, role, spec)
    try:
        path = fetch(name, role, spec, root)
    except errors.MissingFileError:
        kept = _kept_by_an_interrupted_ship(spec, root, expected)
        if kept is None:
            raise
        return kept
    data = path.read_bytes()
    actual = files.sha256_bytes(data)
    if actual != expected:
        kept = _kept_by_an_interrupted_ship(spec, root, expected)
        if kept is not None:
            return kept
        raise errors.UserError(
            f"Pretrained {role} file {path} for {name!r} fails its check: sha256 {actual[:12]}... "
            f"but the manifest expects {expected[:12]}... ({len(data)} bytes; truncated or "
            f"modified); restore it with `git checkout -- {path}` or rebuild it with "
            f"`python -m zoo ship {name}`."
        )
    return data


def load(name: str, manifest_path=None, root=None) -> Pretrained:
    """Builds recipe `name`'s model from its code and the shipped config, and loads
    the verified shipped weights into it.

    Raises:
        ValueError: no checkpoint for `name`, a file fails its sha256 check, or
            the weights do not fit the model the config describes.
        FileNotFoundError: a shipped file is missing (or cannot be downloaded).
    """
    from zoo.engine import config as config_lib
    from zoo.engine import registry, runs

    entry = entry_for(name, manifest_path)
    shipped = entry.get("files", {})
    if "weights" not in shipped or "config" not in shipped:
        raise errors.UserError(
            f"Manifest entry {name!r} lacks a weights or config file; regenerate it with "
            f"`python -m zoo ship {name}`."
        )
    # read_manifest checked that this names one of the zoo's recipes, not a file.
    recipe = registry.get_recipe(entry.get("recipe", name))
    config_bytes = read_verified(name, "config", shipped["config"], root)
    saved = files.parse_json(config_bytes, f"the shipped config of {name!r}", f"rebuild it with `python -m zoo ship {name}`")
    try:
        config = config_lib.from_dict(recipe.Config, saved["config"])
    except (KeyError, TypeError) as error:
        raise errors.UserError(f"Pretrained config for {name!r} is not a run config.json ({error}).") from None
    weights_spec = shipped["weights"]
    suffix = next(
        (s for s in WEIGHTS_SUFFIXES if str(weights_spec.get("path", weights_spec.get("url", ""))).endswith(s)),
        None,
    )
    if suffix is None:
        raise errors.UserError(
            f"Manifest entry {name!r}: the weights file must end in .weights.h5 or .keras "
            "(weights are loaded into a model built from the recipe's code)."
        )
    weights = read_verified(name, "weights", weights_spec, root)
    with tempfile.TemporaryDirectory(prefix="zoo-pretrained-") as private:
        # Load exactly the bytes that were verified, not the file again.
        copy = pathlib.Path(private) / f"model{suffix}"
        copy.write_bytes(weights)
        try:
            model, splits = runs.load_model(recipe, config, copy)
        except errors.UserError as error:  # load_weights: the file does not fit (not the data's own errors)
            first = (str(error).strip().splitlines() or [type(error).__name__])[0]
            raise errors.UserError(
                f"Pretrained weights for {name!r} do not fit the model that recipes/{recipe.name}.py "
                f"builds from the shipped config ({first}); the recipe changed since they were "
                f"shipped: rebuild them with `python -m zoo ship {name}`."
            ) from None
    return Pretrained(
        name=name, model=model, config=config, info=splits.info, splits=splits, recipe=recipe, entry=entry
    )


def read_card(name: str, manifest_path=None, root=None) -> dict:
    """The card.json of a shipped checkpoint, after checking its sha256 against the manifest."""
    entry = entry_for(name, manifest_path)
    spec = entry["files"].get("card")
    if spec is None:
        raise errors.UserError(f"Manifest entry {name!r} lists no card file; rebuild it with `python -m zoo ship {name}`.")
    data = read_verified(name, "card", spec, root)
    return files.parse_json(data, fetch(name, "card", spec, root), f"rebuild it with `python -m zoo ship {name}`")


def load_pretrained(name: str):
    """The shipped checkpoint of recipe `name` as a built keras.Model.

    See `load` for what is verified; `load(name)` also returns the config and
    the dataset info the model was trained with.
    """
    return load(name).model


def copy_verified(source, destination) -> str:
    """Copies a file and returns the sha256 of the bytes written."""
    data = pathlib.Path(source).read_bytes()
    destination = pathlib.Path(destination)
    destination.parent.mkdir(parents=True, exist_ok=True)
    temporary = destination.with_name(f".{destination.name}.tmp")
    temporary.write_bytes(data)
    os.replace(temporary, destination)
    return files.sha256_bytes(data)


def relative(path) -> str:
    """`path` relative to the repository root when it lies under it."""
    path = pathlib.Path(path).resolve()
    try:
        return str(path.relative_to(ROOT))
    except ValueError:
        return str(path)


__all__ = [
    "Pretrained", "cache_dir", "entry_for", "load",
    "load_pretrained", "read_manifest", "read_verified",
]
