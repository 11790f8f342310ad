"""Shared tensorflow-datasets plumbing: fail fast offline, read splits to numpy.

tfds, asked for a dataset that is not prepared, downloads it, and without
internet it retries for minutes before failing. `prepared_builder` checks
first: if the dataset is not prepared under data_dir, it sends one HEAD
request to the dataset's download URL with a short timeout (in a daemon
thread, so a hanging DNS lookup cannot hold it either) and, when nothing
answers, raises FileNotFoundError within seconds saying what to do.

Under `tfds.testing.mock_data`, `DatasetBuilder.download_and_prepare` is
replaced by a no-op and the data comes from a fake generator, so there is
nothing to download: when download_and_prepare is not tfds's own
implementation the probe is skipped (see `_downloads_for_real`).
"""

import collections
import threading
import urllib.error
import urllib.request

import numpy as np
import tensorflow_datasets as tfds

import datasets

PROBE_TIMEOUT_S = 4.0


def _downloads_for_real(builder) -> bool:
    """False when download_and_prepare has been replaced (tfds.testing.mock_data does)."""
    method = getattr(type(builder), "download_and_prepare", None)
    return getattr(method, "__module__", "").startswith("tensorflow_datasets.core")


def probe(url: str, timeout_s: float = PROBE_TIMEOUT_S):
    """None when the host of `url` answers within timeout_s, else why not (one line).

    Any HTTP answer counts, even an error status: the point is reachability.
    Proxy settings from the environment are honoured (urllib reads them).
    """
    outcome = {}

    def attempt():
        try:
            request = urllib.request.Request(url, method="HEAD")
            with urllib.request.urlopen(request, timeout=timeout_s):
                pass
            outcome["reachable"] = True
        except urllib.error.HTTPError:
            outcome["reachable"] = True
        except Exception as error:  # noqa: BLE001 - any failure means unreachable
            outcome["error"] = f"{type(error).__name__}: {error}"

    thread = threading.Thread(target=attempt, name=f"tfds-probe {url}", daemon=True)
    thread.start()
    thread.join(timeout_s + 1.0)
    if outcome.get("reachable"):
        return None
    reason = outcome.get("error", f"no answer within {timeout_s:.0f} s")
    return " ".join(reason.split())


def prepared_builder(name: str, data_dir, download_url: str):
    """A tfds builder whose data is ready to read, downloading only when reachable."""
    builder = tfds.builder(name, data_dir=data_dir)
    if builder.is_prepared():
        return builder
    if _downloads_for_real(builder):
        reason = probe(download_url)
        if reason is not None:
            raise datasets.DataFileNotFoundError(
                f"tfds dataset {name!r} is not prepared in {builder.data_dir} and its download "
                f"URL {download_url} cannot be reached ({reason}); expected a prepared copy or "
                f"internet access; on a machine with internet run `tfds build {name} --data_dir DIR`, "
                "copy DIR here and pass data_dir=DIR (or set TFDS_DATA_DIR=DIR)."
            )
    builder.download_and_prepare()
    return builder


def read_split(builder, split: str) -> dict:
    """A whole tfds split as {feature: numpy array}, in the order tfds stores it."""
    dataset = builder.as_dataset(split=split, shuffle_files=False)
    chunks = collections.defaultdict(list)
    for batch in tfds.as_numpy(dataset.batch(8192)):
        for key, value in batch.items():
            chunks[key].append(value)
    if not chunks:
        raise datasets.DataError(
            f"tfds split {builder.name}:{split} in {builder.data_dir} is empty; expected examples; "
            f"rebuild it with `tfds build {builder.name}`."
        )
    return {key: np.concatenate(values) for key, values in chunks.items()}


def as_text(values) -> list:
    """tfds text features (bytes) as str."""
    return [v.decode("utf-8") if isinstance(v, bytes) else str(v) for v in values]
