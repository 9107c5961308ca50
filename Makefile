# zsc developer tasks. `make install` builds .venv with pinned versions; `make test` runs the suite.
PYTHON ?= python3.11
VENV := .venv
PY := $(VENV)/bin/python
PIP := $(PY) -m pip
export TOKENIZERS_PARALLELISM ?= false

.PHONY: install run lint browser test screenshot test-fast bench bench-accuracy bench-export bench-int8 bench-memory bench-server bench-soak bench-scale bench-hybrid bench-auto bench-long bench-tune bench-multilabel bench-large bench-avx2 bench-budget bench-layer-norm default-model wheel clean

STAMP := $(VENV)/.installed
# The embedded default: the shared MiniLM NLI model in per-row int8, plus an fp16 graph for CUDA
# over the same 8-bit weights (one weights.bin, so the wheel grows by ~1 MB, not 45). The avx2
# preset (uint8 weights) runs correctly on every CPU, VNNI or not.
EXPORT_DEFAULT_MODEL = $(PY) -m zsc.engine.cli export ../shared/models/minilm-l6-nli engine/models/default \
	--quantize int8,fp16-w8 --preset avx2 --optimize O2 --force \
	--validation-data ../shared/data/nli/mnli_dev_mismatched.jsonl --validation-size 512
# Its embedder, for prefiltering and hybrid scoring: all-MiniLM-L6-v2 (the NLI model's base), per-row int8 (+ fp16 for CUDA).
EXPORT_DEFAULT_EMBEDDER = $(PY) -m zsc.engine.cli export ../shared/models/all-minilm-l6-v2 engine/models/embedder \
	--task embedding --quantize int8,fp16-w8 --preset avx2 --optimize O2 --force
EXAMPLE := Hi, I recently bought a device from your company but it is not working as advertised and I would like to get reimbursed!

# Every target that runs Python depends on the install stamp, so `make run` and `make test` each
# work on a fresh clone, in either order; the stamp is rebuilt when the pins change.
# torch first, from the pinned CPU build, so nothing later can pull a CUDA torch.
$(STAMP): pyproject.toml constraints.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PIP) install --quiet --upgrade "pip>=24"
	$(PIP) install --quiet torch==2.13.0
	$(PIP) uninstall --quiet -y zsc 2>/dev/null || true  # this project's distribution before it was renamed zsc-onnx
	$(PIP) install --quiet -c constraints.txt -e ".[cpu,export,serve,bench,dev,ray,spark]"
	$(PY) -c "import torch; assert not torch.version.cuda, 'a CUDA torch was installed'; print('torch', torch.__version__)"
	@test -f engine/models/default/model.onnx || $(EXPORT_DEFAULT_MODEL)
	@test -f engine/models/embedder/model.onnx || $(EXPORT_DEFAULT_EMBEDDER)
	touch $(STAMP)

install: $(STAMP)

# The main job: the embedded model classifies the example text.
run: $(STAMP)
	$(PY) -m zsc.engine.cli classify "$(EXAMPLE)" --labels refund,legal,faq

# Lint and types first (seconds), then the suite.
lint: $(STAMP)
	$(PY) -m ruff check .
	$(PY) -m mypy

# The playground test drives Debian's chromium through chromium-driver (no browser download at
# run time); installed here on a fresh machine, as root. Without apt (or root) the test skips, saying why.
browser:
	@command -v chromium >/dev/null && command -v chromedriver >/dev/null || \
		(apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium chromium-driver >/dev/null) || \
		echo "zsc: could not install chromium and chromium-driver; tests/test_playground.py will skip"

test: $(STAMP) lint browser
	$(PY) -m pytest -q

# The README's picture of the playground, taken by its browser test.
screenshot: $(STAMP) browser
	ZSC_SCREENSHOT=docs/playground.png $(PY) -m pytest -q tests/test_playground.py -k draws

test-fast: $(STAMP)
	$(PY) -m pytest -q -m "not slow"

# Production-sized shapes (bart-large-mnli, deberta-v3-base, ModernBERT-base, xlm-roberta-base) with
# random weights, built offline: every contender's speed, memory, size and zsc's export time (13 minutes on a 2-core Xeon VM on 2026-12-06, about an hour on the 2-core AMD VM of 2026-12-01).
bench-large: $(STAMP)
	$(PY) benchmarks/large_models.py

# Re-export the embedded default model (EXPORT_DEFAULT_MODEL above).
default-model: $(STAMP)
	$(EXPORT_DEFAULT_MODEL)
	$(EXPORT_DEFAULT_EMBEDDER)

# Accuracy first: run.py folds that day's accuracy results into its report and plot.
bench: $(STAMP) bench-accuracy
	$(PY) benchmarks/run.py

# Accuracy of each precision against torch (accuracy.py), then of each mode per shared set beside
# the published BTZSC figures, with zsc tune at k = 8 (accuracy_modes.py, about 30 minutes), then
# multi-label micro-F1 at 0.5 and at the best threshold (multi_label.py, a minute).
bench-accuracy: $(STAMP)
	$(PY) benchmarks/accuracy.py
	$(PY) benchmarks/accuracy_modes.py
	$(PY) benchmarks/multi_label.py

# Size, load time and NLI accuracy of fp32, O2-fused fp32 and int8 exports.
bench-export: $(STAMP)
	$(PY) benchmarks/export_variants.py

# Where int8's top-1 disagreement with fp32 comes from: weights alone vs dynamic int8.
bench-int8: $(STAMP)
	$(PY) benchmarks/int8_sensitivity.py

# The int8 variants, where their time goes, and the speed half of make bench, with onnxruntime's AVX2
# kernels on a CPU with VNNI (an AVX2-only CPU's kernels, this CPU's clock; benchmarks/avx2_kernels.py).
bench-avx2: $(STAMP)
	$(PY) benchmarks/avx2_kernels.py int8_sensitivity.py --no-nbits
	$(PY) benchmarks/avx2_kernels.py op_profile.py
	$(PY) benchmarks/avx2_kernels.py layer_norm_fusion.py
	$(PY) benchmarks/avx2_kernels.py run.py

# The CPU's batch budget: pairs/s at each (rows, padded tokens) budget, the embedded model (about 7 minutes).
bench-budget: $(STAMP)
	$(PY) benchmarks/batch_budget.py

# A residual layer norm on the CPU: onnxruntime's fused SkipLayerNormalization against the ops zsc keeps (under a minute).
bench-layer-norm: $(STAMP)
	$(PY) benchmarks/layer_norm_fusion.py

# Peak RSS of a fresh process per workload, zsc against the torch pipeline.
bench-memory: $(STAMP)
	$(PY) benchmarks/memory.py

# HTTP load on loopback: 1/8/32 clients, dynamic batching on and off.
bench-server: $(STAMP)
	$(PY) benchmarks/server_load.py

# Reliability under hostile load: 10,000 requests from 32 clients, a third malformed (< 10 min).
bench-soak: $(STAMP)
	$(PY) benchmarks/soak.py

# The in-process file job against Ray Data (1 actor x 2 threads, 2 actors x 1 thread) and Spark (local[2]), start-up apart, 10,000 rows.
bench-scale: $(STAMP)
	$(PY) benchmarks/scale.py

# Hybrid scoring and the embedding prefilter against gold labels (shared sets, banking77, 1,000 labels).
bench-hybrid: $(STAMP)
	$(PY) benchmarks/hybrid.py

# How the call with no knobs treats a long label list (K chosen on half of banking77 and massive,
# reported on the other half, the default call timed against exact NLI) and a short one (the
# embedder's weight by the labels' spread, chosen on half of seven sets); a few minutes each.
bench-auto: $(STAMP)
	$(PY) benchmarks/auto_rules.py
	$(PY) benchmarks/few_label_rule.py

# Long texts: truncation against windows (max, mean) on imdb and built long documents.
bench-long: $(STAMP)
	$(PY) benchmarks/long_text.py

# zsc tune with 8 examples per label against the zero-shot default, on held-out rows of four shared sets.
bench-tune: $(STAMP)
	$(PY) benchmarks/tune.py

# Multi-label scores calibrated against each text's best label: chosen on tuning sets, reported held out.
bench-multilabel: $(STAMP)
	$(PY) benchmarks/multi_label.py

wheel: $(STAMP)
	$(PY) -m build --wheel --outdir dist .

clean:
	rm -rf dist build *.egg-info .pytest_cache
