# zsc developer tasks. `make install` builds .venv with pinned versions; `make test` runs the suite.
PYTHON ?= python3.11
VENV := .venv
PY := $(VENV)/bin/python
PIP := $(PY) -m pip
export TOKENIZERS_PARALLELISM ?= false

.PHONY: install test test-fast bench bench-accuracy bench-export bench-int8 bench-memory bench-server default-model wheel clean

$(PY):
	$(PYTHON) -m venv $(VENV)
	$(PIP) install --quiet --upgrade "pip>=24"

# torch first, from the pinned CPU build, so nothing later can pull a CUDA torch.
install: $(PY)
	$(PIP) install --quiet torch==2.13.0
	$(PIP) install --quiet -c constraints.txt -e ".[export,serve,bench,dev]"
	$(PY) -c "import torch; assert not torch.version.cuda, 'a CUDA torch was installed'; print('torch', torch.__version__)"
	@test -f engine/models/default/model.onnx || $(MAKE) default-model

test:
	$(PY) -m pytest -q

test-fast:
	$(PY) -m pytest -q -m "not slow"

# Export the shared MiniLM NLI model to int8 and embed it in the package.
default-model:
	$(PY) -m zsc.engine.cli export ../shared/models/minilm-l6-nli engine/models/default --quantize int8 --optimize O2 --force \
		--validation-data ../shared/data/nli/mnli_dev_mismatched.jsonl --validation-size 512

# Accuracy first: run.py folds that day's accuracy results into its report and plot.
bench: bench-accuracy
	$(PY) benchmarks/run.py

bench-accuracy:
	$(PY) benchmarks/accuracy.py

# Size, load time and NLI accuracy of fp32, O2-fused fp32 and int8 exports.
bench-export:
	$(PY) benchmarks/export_variants.py

# Where int8's top-1 disagreement with fp32 comes from: weights alone vs dynamic int8.
bench-int8:
	$(PY) benchmarks/int8_sensitivity.py

# Peak RSS of a fresh process per workload, zsc against the torch pipeline.
bench-memory:
	$(PY) benchmarks/memory.py

# HTTP load on loopback: 1/8/32 clients, dynamic batching on and off.
bench-server:
	$(PY) benchmarks/server_load.py

wheel:
	$(PY) -m build --wheel --outdir dist .

clean:
	rm -rf dist build *.egg-info .pytest_cache
