"""Production-sized models without downloads (make bench-large): speed, memory, size and export time.

    python benchmarks/large_models.py [--models bart-large-mnli,xlm-roberta-base] [--texts 8] [--quick]

For each shape below, a checkpoint with exactly that architecture and size is built with random
weights (tests/random_checkpoints.py; a tokenizer trained on AG News text: the embedding matrix
keeps the published vocabulary size, so size and memory are the real model's), exported once by
zsc (per-row int8, dynamic int8 and fp32 graphs in one directory, timed), and each contender runs
in a fresh process of its own, one after another: transformers' pipeline on torch, optimum's
ORTModel + pipeline on zsc's fp32 and int8 graphs, and zsc fp32 / int8 (per-row, the default) /
int8-dynamic. Each reports its load time, pairs/s on --texts AG News texts x 4 labels, the p50 of
one text x 3 labels, and its peak RSS. Random weights say nothing about accuracy: only speed,
memory and size are measured. Writes results/<date>-<host>-large.{json,md,png}.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import contenders as C
import measure as M
import results_io as R
import workloads as W

CACHE = Path(__file__).parent / ".cache" / "large"
TESTS = Path(__file__).resolve().parents[1] / "tests"  # random_checkpoints.py, the offline checkpoint builder
LABEL_ORDER = ["contradiction", "neutral", "entailment"]
# The published configs (architecture sizes only); every other setting is transformers' default.
SHAPES: dict[str, tuple[str, dict[str, Any]]] = {
    "bart-large-mnli": ("bart", {"vocab_size": 50265, "d_model": 1024, "encoder_layers": 12, "decoder_layers": 12,
                                 "encoder_attention_heads": 16, "decoder_attention_heads": 16, "encoder_ffn_dim": 4096,
                                 "decoder_ffn_dim": 4096, "max_position_embeddings": 1024}),
    "deberta-v3-base": ("deberta-v2", {"vocab_size": 128100, "hidden_size": 768, "num_hidden_layers": 12, "num_attention_heads": 12,
                                       "intermediate_size": 3072, "max_position_embeddings": 512, "relative_attention": True,
                                       "position_buckets": 256, "norm_rel_ebd": "layer_norm", "share_att_key": True,
                                       "pos_att_type": ["p2c", "c2p"], "position_biased_input": False, "type_vocab_size": 0,
                                       "layer_norm_eps": 1e-7}),
    "ModernBERT-base": ("modernbert", {"vocab_size": 50368, "hidden_size": 768, "num_hidden_layers": 22, "num_attention_heads": 12,
                                       "intermediate_size": 1152, "max_position_embeddings": 8192, "local_attention": 128,
                                       "global_attn_every_n_layers": 3}),
    "xlm-roberta-base": ("xlm-roberta", {"vocab_size": 250002, "hidden_size": 768, "num_hidden_layers": 12, "num_attention_heads": 12,
                                         "intermediate_size": 3072, "max_position_embeddings": 514, "type_vocab_size": 1}),
}
# Exported with O2 unless said here. The 2026-12-01 run exported DeBERTa-v3-base with "none": O2's
# fusion pass then sat 12 minutes in onnxruntime's symbolic shape inference. zsc now fuses
# deberta-v2 without it (export/optimize.py), so every shape takes O2.
EXPORT_OPTIMIZE: dict[str, str] = {}
# --quick: the same code path on shapes small enough to check the script in seconds.
QUICK = {"bart": {"d_model": 64, "encoder_layers": 1, "decoder_layers": 1, "encoder_attention_heads": 2, "decoder_attention_heads": 2,
                  "encoder_ffn_dim": 128, "decoder_ffn_dim": 128},
         "deberta-v2": {"hidden_size": 64, "num_hidden_layers": 1, "num_attention_heads": 2, "intermediate_size": 128},
         "modernbert": {"hidden_size": 64, "num_hidden_layers": 3, "num_attention_heads": 2, "intermediate_size": 128},
         "xlm-roberta": {"hidden_size": 64, "num_hidden_layers": 1, "num_attention_heads": 2, "intermediate_size": 128}}
CONTENDERS = ("transformers torch", "optimum ORT fp32", "optimum ORT int8", "zsc fp32", "zsc int8 (default)", "zsc int8-dynamic")
PRECISION = {"optimum ORT fp32": "fp32", "optimum ORT int8": "int8", "zsc fp32": "fp32", "zsc int8 (default)": "int8",
             "zsc int8-dynamic": "int8-dynamic"}


def corpus() -> list[str]:
    return W.ag_news(1500)[0]


def build_checkpoint(name: str, directory: Path, quick: bool) -> int:
    """A random-weight checkpoint of ``name``'s shape, with a trained tokenizer of the family's kind,
    saved in ``directory``; returns its parameter count."""
    import torch
    import transformers

    sys.path.insert(0, str(TESTS))  # test support, not shipped in the wheel
    import random_checkpoints as RC

    family, shape = SHAPES[name]
    shape = shape | (QUICK[family] if quick else {})
    torch.manual_seed(0)
    labels = RC.label_maps(LABEL_ORDER)
    if family == "bart":
        tok = RC.byte_level_bpe(corpus(), 8000)
        config = transformers.BartConfig(**shape, num_labels=3, pad_token_id=1, bos_token_id=0, eos_token_id=2,
                                         decoder_start_token_id=2, forced_eos_token_id=2, **labels)
        model, specials, inputs = transformers.BartForSequenceClassification(config), RC.ROBERTA_SPECIALS, ["input_ids", "attention_mask"]
    elif family == "deberta-v2":
        tok = RC.unigram_metaspace(corpus(), 8000)
        config = transformers.DebertaV2Config(**shape, num_labels=3, pad_token_id=0, **labels)
        model, specials, inputs = transformers.DebertaV2ForSequenceClassification(config), RC.BERT_SPECIALS, ["input_ids", "attention_mask"]
    elif family == "modernbert":
        tok = RC.byte_level_bpe(corpus(), 8000, RC.BERT_LAYOUT)
        ids = {"pad_token_id": tok.token_to_id("[PAD]"), "cls_token_id": tok.token_to_id("[CLS]"), "sep_token_id": tok.token_to_id("[SEP]"),
               "bos_token_id": tok.token_to_id("[CLS]"), "eos_token_id": tok.token_to_id("[SEP]")}
        config = transformers.ModernBertConfig(**shape, num_labels=3, reference_compile=False, attn_implementation="eager", **ids, **labels)
        model, specials, inputs = transformers.ModernBertForSequenceClassification(config), RC.BERT_SPECIALS, ["input_ids", "attention_mask"]
    else:
        tok = RC.unigram_metaspace(corpus(), 8000, RC.ROBERTA_LAYOUT)
        config = transformers.XLMRobertaConfig(**shape, num_labels=3, pad_token_id=1, bos_token_id=0, eos_token_id=2, **labels)
        model, specials, inputs = transformers.XLMRobertaForSequenceClassification(config), RC.ROBERTA_SPECIALS, ["input_ids", "attention_mask"]
    RC.save_checkpoint(model.eval(), tok, specials, directory, inputs, 512)
    return sum(p.numel() for p in model.parameters())


def exported(name: str, quick: bool) -> dict[str, Any]:
    """The checkpoint and zsc's export of it (cached), with the export's seconds and each graph's size."""
    from zsc.engine.model_dir import load_model_directory
    from zsc.export import export_model

    base = CACHE / (name + ("-quick" if quick else ""))
    checkpoint, out, record = base / "hf", base / "zsc", base / "export.json"
    optimize = EXPORT_OPTIMIZE.get(name, "O2")
    manifest_file = out / "zsc.json"
    if (not record.exists() or json.loads(record.read_text()).get("optimize") != optimize  # an export made otherwise is redone
            or not manifest_file.exists() or C.fuses_skip_layer_norm(json.loads(manifest_file.read_text()))):
        started = time.perf_counter()
        params = build_checkpoint(name, checkpoint, quick)
        built = time.perf_counter() - started
        started = time.perf_counter()
        export_model(str(checkpoint), out, quantize="int8,int8-dynamic,none", optimize=optimize, force=True, progress=True)
        seconds = time.perf_counter() - started
        manifest = load_model_directory(out, verify=False).manifest
        sizes = {g.precision: sum((out / f).stat().st_size for f in graph_files(out, g.file)) / 1e6 for g in manifest.graphs()}
        record.write_text(json.dumps({"export_s": seconds, "build_s": built, "size_mb": sizes, "parameters": params,
                                      "checkpoint_mb": sum(f.stat().st_size for f in checkpoint.glob("*.safetensors")) / 1e6,
                                      "preset": manifest.quantization_preset, "optimize": optimize, "parity": manifest.parity}))
    return {"checkpoint": checkpoint, "zsc": out} | json.loads(record.read_text())


def graph_files(directory: Path, graph: str) -> list[str]:
    """A graph's file and the external-data files it reads (the 8-bit weights it may share)."""
    import onnx

    model = onnx.load(str(directory / graph), load_external_data=False)
    external = {entry.value for tensor in model.graph.initializer for entry in tensor.external_data if entry.key == "location"}
    return [graph, *sorted(external)]


def measure_one(contender: str, checkpoint: str, zsc_dir: str, threads: int, texts: int, calls: int) -> dict[str, Any]:
    """Run in a fresh process: load one contender, time it, report its peak RSS."""
    started = time.perf_counter()
    classify = load(contender, Path(checkpoint), Path(zsc_dir), threads)
    load_s = time.perf_counter() - started
    batch, labels = W.ag_news(texts)
    classify(batch[:2], labels)  # warm-up
    seconds = M.timed(lambda: classify(batch, labels))
    classify([W.LATENCY_TEXT], W.LATENCY_LABELS)
    single = [M.timed(lambda: classify([W.LATENCY_TEXT], W.LATENCY_LABELS)) for _ in range(calls)]
    peak_kb = eval(M.PEAK_RSS_KB)
    return {"load_s": load_s, "pairs_per_s": len(batch) * len(labels) / seconds, "p50_ms": statistics.median(single) * 1000,
            "peak_rss_mb": peak_kb / 1024}


def load(contender: str, checkpoint: Path, zsc_dir: Path, threads: int) -> Any:
    """A function texts, labels -> results, for one contender."""
    if contender == "transformers torch":
        import torch
        from transformers import pipeline

        torch.set_num_threads(threads)
        pipe = pipeline("zero-shot-classification", model=str(checkpoint), device=-1)
        return lambda texts, labels: pipe(texts, candidate_labels=labels, batch_size=8)
    precision = PRECISION[contender]
    if contender.startswith("optimum"):
        import onnxruntime as ort
        from optimum.onnxruntime import ORTModelForSequenceClassification
        from transformers import AutoTokenizer, pipeline

        from zsc.engine.model_dir import load_model_directory

        graph = next(g.file for g in load_model_directory(zsc_dir, verify=False).manifest.graphs() if g.precision == precision)
        options = ort.SessionOptions()
        options.intra_op_num_threads, options.inter_op_num_threads = threads, 1
        model = ORTModelForSequenceClassification.from_pretrained(zsc_dir, file_name=graph, session_options=options,
                                                                  provider="CPUExecutionProvider")
        pipe = pipeline("zero-shot-classification", model=model, tokenizer=AutoTokenizer.from_pretrained(checkpoint), device=-1)
        return lambda texts, labels: pipe(texts, candidate_labels=labels, batch_size=32)
    from zsc.engine import ZeroShotClassifier

    classifier = ZeroShotClassifier.from_pretrained(zsc_dir, provider="cpu", precision=precision, threads=threads)
    return lambda texts, labels: classifier(texts, labels)


def run_contender(contender: str, model: dict[str, Any], threads: int, texts: int, calls: int) -> dict[str, Any]:
    with tempfile.NamedTemporaryFile("r", suffix=".json") as answer:
        arguments = [contender, str(model["checkpoint"]), str(model["zsc"]), str(threads), str(texts), str(calls), answer.name]
        done = subprocess.run([sys.executable, __file__, "--measure-one", json.dumps(arguments)], capture_output=True, text=True,
                              timeout=3600)
        if done.returncode != 0:
            return {"error": done.stderr.strip().splitlines()[-1] if done.stderr.strip() else f"exit {done.returncode}"}
        return json.loads(Path(answer.name).read_text())


def markdown(results: dict[str, Any]) -> str:
    lines = [f"# Production-sized models, random weights ({results['date']}, {results['machine']['cpu_flags']}, "
             f"{results['machine']['threads']} threads)", "",
             "Random weights: speed, memory and size only; no accuracy. Pairs/s on "
             f"{results['texts']} AG News texts x 4 labels; p50 of one text x 3 labels ({results['calls']} calls).", ""]
    for name, model in results["models"].items():
        lines += [f"## {name} ({model['parameters'] / 1e6:.0f}M parameters; zsc export {model['export_s']:.0f} s for three graphs, "
                  f"--optimize {model.get('optimize', 'O2')}, preset {model['preset']})", "",
                  "| contender | pairs/s | x torch | p50 ms | peak RSS MB | load s | size on disk MB |", "|---|---|---|---|---|---|---|"]
        torch_rate = model["contenders"].get("transformers torch", {}).get("pairs_per_s")
        for contender, row in model["contenders"].items():
            if "error" in row:
                lines.append(f"| {contender} | failed: {row['error'][:80]} | | | | | |")
                continue
            size = model["checkpoint_mb"] if contender == "transformers torch" else model["size_mb"].get(PRECISION[contender], 0)
            ratio = f"{row['pairs_per_s'] / torch_rate:.2f}" if torch_rate else "-"
            lines.append(f"| {contender} | {row['pairs_per_s']:.2f} | {ratio} | {row['p50_ms']:.0f} | {row['peak_rss_mb']:.0f} | "
                         f"{row['load_s']:.1f} | {size:.0f} |")
        lines.append("")
    return "\n".join(lines)


def plot(results: dict[str, Any], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    models = list(results["models"])
    fig, ax = plt.subplots(figsize=(9, 4))
    width = 0.8 / len(CONTENDERS)
    for i, contender in enumerate(CONTENDERS):
        values = [results["models"][m]["contenders"].get(contender, {}).get("pairs_per_s", 0) for m in models]
        ax.bar([x + i * width for x in range(len(models))], values, width, label=contender)
    ax.set_xticks([x + width * (len(CONTENDERS) - 1) / 2 for x in range(len(models))], models)
    ax.set_ylabel("pairs/s (higher is better)")
    ax.set_title(f"Random-weight production shapes, {results['machine']['threads']} threads ({results['machine']['cpu_flags']})")
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=120)


def main() -> None:
    if len(sys.argv) == 3 and sys.argv[1] == "--measure-one":
        *arguments, answer = json.loads(sys.argv[2])
        contender, checkpoint, zsc_dir, threads, texts, calls = arguments
        Path(answer).write_text(json.dumps(measure_one(contender, checkpoint, zsc_dir, int(threads), int(texts), int(calls))))
        return
    parser = R.parser(__doc__)
    parser.add_argument("--models", default=",".join(SHAPES), help="comma-separated, of: " + ", ".join(SHAPES))
    parser.add_argument("--texts", type=int, default=8, help="AG News texts (x 4 labels) for pairs/s")
    parser.add_argument("--calls", type=int, default=5, help="single-text calls for the p50")
    parser.add_argument("--merge", action="store_true",
                        help="keep the other models' entries of today's results file (rerun some models, report all)")
    args = parser.parse_args()
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    from tqdm.auto import tqdm

    from zsc.engine.cpu import flags_summary

    names = [n.strip() for n in args.models.split(",")]
    unknown = [n for n in names if n not in SHAPES]
    if unknown:
        parser.error(f"unknown models {unknown}; choose from {list(SHAPES)}")
    texts, calls = (2, 2) if args.quick else (args.texts, args.calls)
    results: dict[str, Any] = {"date": time.strftime("%Y-%m-%d"), "texts": texts, "calls": calls,
                               "machine": {"cpu_flags": flags_summary(), "threads": args.threads}, "models": {}}
    base = R.results_base(args.out, "large", args.quick)
    if args.merge and base.with_suffix(".json").exists():
        earlier = json.loads(base.with_suffix(".json").read_text())
        if earlier["machine"] != results["machine"]:
            parser.error(f"--merge: {base}.json was measured on {earlier['machine']}, this run is on {results['machine']}")
        results["models"] = {n: m for n, m in earlier["models"].items() if n not in names}
    with tqdm(total=len(names) * (1 + len(CONTENDERS)), desc="bench-large", unit="step") as bar:
        for name in names:
            bar.set_postfix_str(f"{name}: export")
            model = exported(name, args.quick)
            bar.update()
            entry = {k: v for k, v in model.items() if k not in ("checkpoint", "zsc")} | {"contenders": {}}
            for contender in CONTENDERS:
                bar.set_postfix_str(f"{name}: {contender}")
                entry["contenders"][contender] = run_contender(contender, model, args.threads, texts, calls)
                bar.update()
            results["models"][name] = entry
            base.with_suffix(".json").write_text(json.dumps(results, indent=2))  # after each model: a long run keeps what it measured
    results["models"] = {n: results["models"][n] for n in SHAPES if n in results["models"]}  # in SHAPES order, merged or not
    R.write_results(base, results, markdown(results))
    plot(results, base.with_suffix(".png"))


if __name__ == "__main__":
    main()
