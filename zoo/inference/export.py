"""`python -m zoo export NAME --format savedmodel|tflite`: a model for serving.

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


def add_command(subparsers) -> None:
    parser = subparsers.add_parser("export", help="write a SavedModel or a TFLite file of a model")
    parser.add_argument("name")
    source = parser.add_mutually_exclusive_group()
    source.add_argument("--pretrained", action="store_true", help="export the shipped checkpoint")
    source.add_argument("--workdir", type=pathlib.Path, help="export a run's best weights (default runs/NAME)")
    parser.add_argument("--format", required=True, choices=FORMATS)
    parser.add_argument("--out", type=pathlib.Path, help="output directory (default exports/NAME)")
    parser.set_defaults(run=run_export)


def run_export(args) -> int:
    from zoo.engine import registry

    name = registry.locate(args.name)[0]  # The recipe's name, also for a recipe file's path.
    out = args.out or pathlib.Path("exports") / name
    target = TARGETS[args.format]
    outputs.check(out, [target], None, "export")  # A file or link in the way: said before TensorFlow loads.
    model, info, _, _ = _load(args.name, args.pretrained, args.workdir)
    with outputs.Outputs(out, None, "export") as outs:  # No record: export never replaces anything.
        outs.claim([target])
        if args.format == "savedmodel":
            export_savedmodel(model, outs.scratch / target, info)
            path = outs.place(target)
            print(f"{name}: SavedModel in {path} (endpoint `serve`, signature `serving_default`)")
        else:
            _, how = export_tflite(model, outs.scratch / target, info)
            path = outs.place(target)
            note = "; it needs the Flex delegate at run time" if "SELECT_TF_OPS" in how else ""
            print(f"{name}: TFLite model in {path} (converted with {how}{note})")
    return 0


def _load(name, use_pretrained, workdir):
    from zoo.engine import registry, runs

    loaded = runs.load(registry.get_recipe(name), workdir, pretrained=use_pretrained)
    return loaded.model, loaded.info, loaded.config, loaded.recipe


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
