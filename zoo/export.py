"""`python -m zoo export NAME --format savedmodel|tflite`: a model for serving.

    python -m zoo export digits_mlp --pretrained --format savedmodel   # exports/digits_mlp/savedmodel/
    python -m zoo export digits_mlp --pretrained --format tflite       # exports/digits_mlp/model.tflite
    python -m zoo export digits_mlp --workdir runs/digits_mlp --format tflite --out /tmp/x

savedmodel: keras `model.export(path, format="tf_saved_model")`, which writes a
SavedModel whose `serve` endpoint (and `serving_default` signature) maps the
model's input to its raw outputs (logits for the classifiers). Reload it with
`tf.saved_model.load(path).serve(x)`.

tflite: the same SavedModel, converted with `tf.lite.TFLiteConverter`. Models
made of plain ops (the MLPs) convert to TFLite builtins only. The recurrent
and attention recipes may need TensorFlow ops the TFLite builtins lack: the
converter is then allowed `SELECT_TF_OPS` (the file then needs the Flex
delegate, which the `tensorflow` pip package's `tf.lite.Interpreter` has), and
the command says so. Recurrent models are exported with a fixed sequence
length (info.input_shape) so the converter sees a static loop.
"""

import pathlib
import shutil
import tempfile

FORMATS = ("savedmodel", "tflite")


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
    model, info, _, _ = _load(args.name, args.pretrained, args.workdir)
    out = args.out or pathlib.Path("exports") / args.name
    if args.format == "savedmodel":
        path = export_savedmodel(model, out / "savedmodel", info)
        print(f"{args.name}: SavedModel in {path} (endpoint `serve`, signature `serving_default`)")
    else:
        path, select_ops = export_tflite(model, out / "model.tflite", info)
        note = " (uses SELECT_TF_OPS: run it with the Flex delegate, e.g. tf.lite.Interpreter)" if select_ops else ""
        print(f"{args.name}: TFLite model in {path}{note}")
    return 0


def _load(name, use_pretrained, workdir):
    from zoo import predict, registry

    return predict.load_any(registry.get_recipe(name), use_pretrained, workdir)


def input_signature(model, info):
    """One TensorSpec per model input with a free batch axis and the dataset's example shape."""
    import tensorflow as tf

    specs = []
    for tensor in model.inputs:
        shape = list(tensor.shape)
        example_shape = list(info.input_shape) if info is not None else shape[1:]
        if len(example_shape) == len(shape) - 1:
            shape = [None, *[s if s is not None else e for s, e in zip(shape[1:], example_shape)]]
        specs.append(tf.TensorSpec(shape, tensor.dtype, name=tensor.name.split(":")[0]))
    return specs


def export_savedmodel(model, path, info=None) -> pathlib.Path:
    """Writes `model` as a SavedModel at `path` (replacing an earlier export there)."""
    path = pathlib.Path(path)
    if path.exists():
        if not (path / "saved_model.pb").exists():
            raise ValueError(f"{path} exists and is not a SavedModel; pass another --out.")
        shutil.rmtree(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    signature = input_signature(model, info)
    model.export(str(path), format="tf_saved_model", input_signature=signature, verbose=False)
    return path


def export_tflite(model, path, info=None):
    """Writes a .tflite file; returns (path, whether SELECT_TF_OPS was needed)."""
    import tensorflow as tf

    path = pathlib.Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="zoo-export-") as temporary:
        saved = export_savedmodel(model, pathlib.Path(temporary) / "savedmodel", info)
        select_ops = False
        try:
            converter = tf.lite.TFLiteConverter.from_saved_model(str(saved))
            flatbuffer = converter.convert()
        except Exception:  # The converter raises ConverterError (and others) for unsupported ops.
            converter = tf.lite.TFLiteConverter.from_saved_model(str(saved))
            converter.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS, tf.lite.OpsSet.SELECT_TF_OPS]
            converter._experimental_lower_tensor_list_ops = False
            flatbuffer = converter.convert()
            select_ops = True
    path.write_bytes(flatbuffer)
    return path, select_ops
