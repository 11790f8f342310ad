"""A model for serving: a SavedModel folder or a TFLite file (`zoo export`, `zoo.export`).

    python -m zoo export digits_mlp --pretrained --format savedmodel   # exports/digits_mlp/savedmodel/
    python -m zoo export digits_mlp --pretrained --format tflite       # exports/digits_mlp/model.tflite
    python -m zoo export digits_mlp --workdir runs/digits_mlp --format tflite --out /tmp/x

savedmodel: keras `model.export(path, format="tf_saved_model")`, which writes a
SavedModel whose `serve` endpoint (and `serving_default` signature) maps the
model's input to its raw outputs (logits for the classifiers). Reload it with
`tf.saved_model.load(path).serve(x)`.

tflite: the same SavedModel, converted with `tf.lite.TFLiteConverter`. Models
made of plain ops (the MLPs) convert to TFLite builtins with a free batch axis.
A recurrent model's loop (keras.layers.RNN's TensorList ops) lowers to
builtins only when every shape in it is static, so it is exported with batch
size 1 and the dataset's sequence length (info.input_shape); call it once per
sequence. Only if that fails too is the converter allowed `SELECT_TF_OPS`, and
the command says so: such a file needs the Flex delegate, which this TF build's
`tf.lite.Interpreter` does not link.

Export never replaces anything: a file, folder or symbolic link (dangling or
not) already at OUT/savedmodel or OUT/model.tflite is refused in one line,
before TensorFlow loads. The export is written aside and renamed into place
(zoo/outputs.py).
"""

import pathlib
import tempfile

from zoo import errors
from zoo import outputs

FORMATS = ("savedmodel", "tflite")
TARGETS = {"savedmodel": "savedmodel", "tflite": "model.tflite"}  # What each format writes into --out.


def export(loaded, out, *, format: str = "savedmodel"):
    """Writes `loaded`'s model into the folder `out` as OUT/savedmodel or OUT/model.tflite.

    Returns (the path written, how it was converted). Nothing already there is
    ever replaced (zoo/outputs.py).
    """
    if format not in FORMATS:
        raise errors.UserError(f"--format {format!r} is not one of {', '.join(FORMATS)}.")
    target = TARGETS[format]
    outputs.check(out, [target], None, "export")
    with outputs.Outputs(out, None, "export") as outs:  # No record: export never replaces anything.
        outs.claim([target])
        if format == "savedmodel":
            export_savedmodel(loaded.model, outs.scratch / target, loaded.info)
            how = "keras model.export"
        else:
            _, how = export_tflite(loaded.model, outs.scratch / target, loaded.info)
        return outs.place(target), how


def input_signature(model, info, batch_size=None):
    """One TensorSpec per model input: batch axis `batch_size` (None: free), the dataset's example shape."""
    import tensorflow as tf

    specs = []
    for tensor in model.inputs:
        shape = list(tensor.shape)
        example_shape = list(info.input_shape) if info is not None else shape[1:]
        if len(example_shape) == len(shape) - 1:
            shape = [batch_size, *[s if s is not None else e for s, e in zip(shape[1:], example_shape)]]
        specs.append(tf.TensorSpec(shape, tensor.dtype, name=tensor.name.split(":")[0]))
    return specs


def export_savedmodel(model, path, info=None, batch_size=None) -> pathlib.Path:
    """Writes `model` as a SavedModel at `path`, which must not exist yet (nothing is ever replaced)."""
    path = pathlib.Path(path)
    if path.exists():
        raise errors.UserError(
            f"{path} already exists; export never replaces a folder. Move it aside or pass another --out."
        )
    path.parent.mkdir(parents=True, exist_ok=True)
    signature = input_signature(model, info, batch_size)
    model.export(str(path), format="tf_saved_model", input_signature=signature, verbose=False)
    return path


def export_tflite(model, path, info=None):
    """Writes a .tflite file; returns (path, how it was converted).

    Tries, in order: TFLite builtins with a free batch axis (the MLPs); builtins
    with batch size 1 (a recurrent loop's TensorList ops lower to builtins only
    when every shape in the loop is static); builtins plus SELECT_TF_OPS (needs
    the Flex delegate at run time).
    """
    import tensorflow as tf

    path = pathlib.Path(path)
    if path.exists():
        raise errors.UserError(f"{path} already exists; export never replaces a file. Move it aside or pass another --out.")
    path.parent.mkdir(parents=True, exist_ok=True)
    attempts = [("builtins", None, False), ("builtins, batch size 1", 1, False), ("SELECT_TF_OPS, batch size 1", 1, True)]
    if _has_recurrent_layer(model):
        attempts = attempts[1:]  # A free batch axis never lowers for an RNN loop: skip that try.
    failures = []
    with tempfile.TemporaryDirectory(prefix="zoo-export-") as temporary:
        for how, batch_size, select_ops in attempts:
            saved = export_savedmodel(model, pathlib.Path(temporary) / f"savedmodel_{len(failures)}", info, batch_size)
            converter = tf.lite.TFLiteConverter.from_saved_model(str(saved))
            if select_ops:
                converter.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS, tf.lite.OpsSet.SELECT_TF_OPS]
                converter._experimental_lower_tensor_list_ops = False
            try:
                flatbuffer = converter.convert()
            except Exception as error:  # ConverterError and friends, for ops TFLite lacks.
                failures.append(f"{how}: {(str(error).strip().splitlines() or [type(error).__name__])[0][:200]}")
                continue
            path.write_bytes(flatbuffer)
            return path, how
    raise errors.UserError(f"TFLite cannot convert this model ({'; '.join(failures)}); export --format savedmodel instead.")


def _has_recurrent_layer(model) -> bool:
    import keras

    return any(isinstance(layer, keras.layers.RNN) for layer in model._flatten_layers())
