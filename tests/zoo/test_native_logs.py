"""TensorFlow's C++ start-up lines stay out of a notebook; every other line it writes still shows.

A stand-in `tensorflow` package writes start-up lines and one real warning to file
descriptor 2 while it imports, so these tests run in a fraction of a second; the
notebooks' test (tests/test_notebooks.py) checks the real TensorFlow in a real kernel.
"""

import os
import subprocess
import sys

from zoo import native_logs

FAKE_TENSORFLOW = '''
import os
os.write(2, b"WARNING: All log messages before absl::InitializeLog() is called are written to STDERR\\n")
os.write(2, b"I0000 00:00:1.5 1 port.cc:153] oneDNN custom operations are on. You may see ...\\n")
os.write(2, b"a warning that matters\\n")


class config:
    @staticmethod
    def list_physical_devices(kind):
        os.write(2, b"E0000 00:00:1.7 1 cuda_platform.cc:52] failed call to cuInit: INTERNAL: CUDA error\\n")
        os.write(2, b"E0000 00:00:1.8 1 util.cc:131] oneDNN supports DT_BOOL only on platforms with AVX-512. "
                    b"Falling back to the default Eigen-based implementation if present.\\n")
        os.write(2, b"a later error")  # No newline: forwarded all the same.
        return []
'''


def run_in(tmp_path, code, env=None):
    (tmp_path / "tensorflow").mkdir(exist_ok=True)
    (tmp_path / "tensorflow" / "__init__.py").write_text(FAKE_TENSORFLOW)
    root = native_logs.__file__.rsplit("/zoo/", 1)[0]
    environment = {"PYTHONPATH": f"{tmp_path}:{root}", "PATH": "/usr/bin:/bin", **(env or {})}
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=environment, timeout=60, cwd=tmp_path)


IN_A_KERNEL = "import sys, types; sys.modules['ipykernel'] = types.ModuleType('ipykernel'); "


def test_import_zoo_in_a_notebook_drops_the_start_up_lines_and_keeps_the_rest(tmp_path):
    completed = run_in(tmp_path, IN_A_KERNEL + "import zoo, sys, os; print('tensorflow' in sys.modules, os.environ['TF_CPP_MIN_LOG_LEVEL'])")
    assert completed.returncode == 0, completed.stderr
    assert completed.stdout.split() == ["True", "2"]
    assert completed.stderr == "a warning that matters\na later error"


def test_outside_a_notebook_or_with_zoo_native_logs_nothing_changes(tmp_path):
    plain = run_in(tmp_path, "import zoo, sys; print('tensorflow' in sys.modules)")
    assert plain.stdout.split() == ["False"] and plain.stderr == ""  # `import zoo` stays light.
    shown = run_in(tmp_path, IN_A_KERNEL + "import zoo", env={"ZOO_NATIVE_LOGS": "1"})
    assert shown.returncode == 0 and shown.stderr == ""  # Not loaded by zoo: nothing hidden, nothing written yet.
    loaded = run_in(tmp_path, IN_A_KERNEL + "import zoo, tensorflow", env={"ZOO_NATIVE_LOGS": "1"})
    assert "oneDNN custom operations" in loaded.stderr and "a warning that matters" in loaded.stderr


def test_forward_drops_the_noise_and_keeps_every_other_line_and_a_last_partial_one():
    read_fd, write_fd = os.pipe()
    out_read, out_write = os.pipe()
    os.write(write_fd, b"I0000 port.cc:153] oneDNN custom operations are on. You may...\nkept 1\nE0000 node_def_util.cc:682] "
                       b"NodeDef mentions attribute use_unbounded_threadpool which is not in the op definition: Op<...>\nkept 2")
    os.close(write_fd)
    native_logs.forward(read_fd, out_write)
    os.close(out_write)
    assert os.read(out_read, 4096) == b"kept 1\nkept 2"
    os.close(read_fd)
    os.close(out_read)


def test_the_patterns_match_the_lines_they_were_collected_from():
    assert native_logs.is_start_up_noise(b"I0000 00:00:1796264545.707094   23673 cudart_stub.cc:31] Could not find cuda drivers on your machine, GPU will not be used.")
    assert not native_logs.is_start_up_noise(b"E0000 cuda_platform.cc:52] out of memory")
    assert not native_logs.is_start_up_noise(b"Traceback (most recent call last):")
