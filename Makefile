# The zoo's commands. `make train` and `make test` set up .venv/ on first use.
#
#   make train MODEL=digits_mlp ARGS="epochs=3 learning_rate=0.01"
#   make evaluate MODEL=digits_mlp
#   make list | make test | make bench | make tensorboard

PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
MODEL ?= digits_mlp
ARGS ?=
WORKDIR ?= runs/$(MODEL)
STAMP := $(VENV)/.installed

.PHONY: venv list train evaluate test bench tensorboard clean compare tune attention predict export ship generate golden gallery browser notebooks

# mitdeeplearning ships only an sdist whose setup.py needs pkg_resources, so it
# is built with the venv's own (pinned) setuptools; --no-deps because we only
# read its data/irish.abc and its own dependencies are heavy.
$(STAMP): requirements.txt
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements.txt
	$(PY) -m pip install --quiet "setuptools<81" wheel
	$(PY) -m pip install --quiet --no-deps --no-build-isolation mitdeeplearning==0.7.5
	touch $(STAMP)

venv: $(STAMP)

list: $(STAMP)
	$(PY) -m zoo list

train: $(STAMP)
	$(PY) -m zoo train $(MODEL) $(ARGS) --workdir $(WORKDIR)

evaluate: $(STAMP)
	$(PY) -m zoo evaluate $(MODEL) --workdir $(WORKDIR)

# Shipped checkpoints (pretrained/): predict one input, export for serving, reship.
# make predict MODEL=digits_mlp INPUT=digit.png     (INPUT=- reads stdin)
# make export MODEL=digits_mlp FORMAT=tflite        (writes exports/MODEL/)
# make ship MODEL=digits_mlp                        (3 seeds, best weights + model card)
INPUT ?= -
FORMAT ?= savedmodel
predict: $(STAMP)
	$(PY) -m zoo predict $(MODEL) --pretrained --input $(INPUT)

export: $(STAMP)
	$(PY) -m zoo export $(MODEL) --pretrained --format $(FORMAT) $(ARGS)

ship: $(STAMP)
	$(PY) -m zoo ship $(MODEL) $(ARGS)

# make compare MODEL=digits_mlp ARGS="optimizer=sgd,momentum,adam epochs=20"
compare: $(STAMP)
	$(PY) -m zoo compare $(MODEL) $(ARGS)

# make tune MODEL=digits_mlp SEARCH=bayesian TRIALS=20 ARGS="epochs=20"
SEARCH ?= random
TRIALS ?= 10
tune: $(STAMP)
	$(PY) -m zoo tune $(MODEL) --search $(SEARCH) --trials $(TRIALS) $(ARGS)

# make attention MODEL=music_transformer ARGS='--text "X:1\nK:D\n|:dAFA dAFA|" --block 1'
attention: $(STAMP)
	$(PY) -m zoo attention $(MODEL) --workdir $(WORKDIR) $(ARGS)

# make generate MODEL=music_lstm ARGS="--num-tunes 10 --length 600 --temperature 0.8 --seed 0"
# (writes WORKDIR/generated/: .abc, and .mid/.wav for the tunes that parse; add --pretrained for shipped weights)
generate: $(STAMP)
	$(PY) -m zoo generate $(MODEL) --workdir $(WORKDIR) $(ARGS)

test: $(STAMP) browser
	$(PY) -m pytest -q -n 2 --dist loadfile --no-loadscope-reorder

# The page (python -m zoo gallery -> site/index.html, every shipped model live in
# the browser) copies abcjs from npm (package.json); tests/test_gallery.py opens it
# in Debian's headless chromium, and tests/layers/ runs the JavaScript layers in node. Both are installed here when this machine lets us (root with
# apt-get, npm); otherwise those tests are skipped with the command to run.
ABCJS := node_modules/abcjs/dist/abcjs-basic-min.js
browser:
	@command -v chromium >/dev/null || { [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null \
		&& (apt-get install -y -q chromium >/dev/null 2>&1 || (apt-get update -q >/dev/null && apt-get install -y -q chromium >/dev/null)); } \
		|| echo "chromium not installed (sudo apt-get install chromium): the gallery's browser test will be skipped"
	@[ -f $(ABCJS) ] || npm install --silent 2>/dev/null \
		|| echo "abcjs not installed (npm install): the gallery and its tests will be skipped"

# make gallery                  (writes site/index.html: open it from disk)
# make gallery ARGS="--screenshots docs/"   (also the README's two pictures)
gallery: $(STAMP) browser
	$(PY) -m zoo gallery $(ARGS)

# The notebooks (notebooks/README.md): writes each NN_name.ipynb from its .py source, then runs
# every notebook in a fresh kernel and writes it with its outputs to runs/notebooks/ (a few minutes).
# make notebooks ARGS="01 --quick"   (one notebook, the tests' small settings)
notebooks: $(STAMP)
	$(PY) notebooks/build.py sync
	$(PY) notebooks/build.py run $(ARGS)

# Re-record tests/golden_losses.json (every recipe's short CPU run; see
# tests/record_golden.py). Only when a change is meant to change training.
# make golden ARGS="music_lstm" re-records one recipe.
golden: $(STAMP)
	$(PY) -m tests.record_golden $(ARGS)

bench: $(STAMP)
	$(PY) benchmarks/trainer_vs_fit.py
	$(PY) benchmarks/trainer_vs_jax.py
	$(PY) benchmarks/attention.py
	$(PY) benchmarks/music_models.py
	$(PY) benchmarks/tune_report.py
	$(PY) benchmarks/conv.py
	$(PY) benchmarks/lstm.py
	$(PY) benchmarks/cli_startup.py
	$(PY) benchmarks/translate_buckets.py
	$(PY) benchmarks/translate_speed.py

tensorboard: $(STAMP)
	$(PY) -m tensorboard.main --logdir runs

clean:
	rm -rf runs
