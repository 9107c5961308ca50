"""`zsc export`: registered into the zsc command line through the "zsc.commands" entry point,
so the engine's CLI never imports zsc.export. Thin: it parses, then calls export_model."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from zsc.engine.distribution import install_hint
from zsc.engine.jobs.files import MAX_ROW_BYTES, read_records

from .errors import ExamplesError, ExportError, OptionError
from .presets import OPTIMIZE_CHOICES
from .recipes import QUANTIZE_CHOICES, RECIPES

DEFAULT_VALIDATION_SIZE = 256


def register(subparsers: argparse._SubParsersAction) -> None:
    export = subparsers.add_parser("export", help=f"export a Hugging Face NLI checkpoint, or a sentence embedder (needs {install_hint('export')})")
    export.add_argument("source", help="local Hugging Face model directory or hub id")
    export.add_argument("output", help="model directory to write")  # a str: "" must stay empty, not become "."
    export.add_argument("--task", choices=["nli", "embedding"], default="nli",
                        help="nli: a premise/hypothesis classifier; embedding: a sentence encoder (pooled as its "
                             "sentence-transformers files say: mean, CLS or last token; normalised) for prefiltering, hybrid "
                             "and embedding scoring; --quantize "
                             f"{', '.join(name for name, r in RECIPES.items() if 'embedding' in r.tasks)} only (default: %(default)s)")
    export.add_argument("--quantize", default="int8", metavar="{" + ",".join(QUANTIZE_CHOICES) + "}[,...]",
                        help="; ".join(f"{name}: {recipe.help}" for name, recipe in RECIPES.items())
                        + ". int8 is calibrated on --validation-data. Several comma-separated write one graph each "
                          "(e.g. int8,fp16), the first as model.onnx; the runtime picks one per provider (default: %(default)s)")
    export.add_argument("--optimize", choices=OPTIMIZE_CHOICES, default="O2", help="onnxruntime fusions (default: %(default)s)")
    export.add_argument("--preset", default="auto",
                        help="int8 preset: auto (portable: avx2 on x86, arm64 on ARM), avx512_vnni, avx2 or arm64; avx2 "
                             "graphs run correctly on every x86 CPU, and per-row int8 ones come with a twin that CPUs with "
                             "VNNI run at their speed with the same scores; avx512_vnni graphs run on VNNI CPUs only "
                             "(default: %(default)s)")
    export.add_argument("--all-tokens", action="store_true",
                        help="keep the last layer running on every token (by default only the pooled first token, when that is exact)")
    export.add_argument("--opset", type=int, help="ONNX opset (default: optimum's choice)")
    export.add_argument("--validation-data", type=Path,
                        help="JSON lines with premise/hypothesis for the parity report and int8 calibration")
    export.add_argument("--validation-size", type=int, default=DEFAULT_VALIDATION_SIZE,
                        help="pairs to read from --validation-data (default: %(default)s)")
    prompts = export.add_mutually_exclusive_group()
    prompts.add_argument("--prompt-name", help="--task embedding: the checkpoint's prompt (config_sentence_transformers.json) put "
                                               "before every text and label, e.g. query (default: its default prompt, if any)")
    prompts.add_argument("--prompt", help="--task embedding: this prompt before every text and label, e.g. 'query: ' for e5")
    export.add_argument("--force", action="store_true", help="replace an existing output directory")
    export.add_argument("--allow-no-entailment", action="store_true", help="accept a model without an entailment label")
    export.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    if args.validation_size < 1:
        raise OptionError(f"--validation-size must be positive, got {args.validation_size}")
    try:
        from .api import export_model
        from .pipeline import require_export_stack

        require_export_stack()
    except ImportError as exc:
        raise ExportError(str(exc)) from exc
    pairs = read_validation_pairs(args.validation_data, args.validation_size) if args.validation_data else None
    if args.task != "embedding" and (args.prompt is not None or args.prompt_name is not None):
        raise OptionError("--prompt and --prompt-name are for --task embedding")
    if args.task == "embedding":
        from .embedder import export_embedder

        manifest = export_embedder(args.source, args.output, quantize=args.quantize, optimize=args.optimize, preset=args.preset,
                                   force=args.force, validation_texts=[p for p, _ in pairs] if pairs else None,
                                   prompt_name=args.prompt_name, prompt=args.prompt)
        print(json.dumps({"output": str(args.output), "task": "embedding", "precision": manifest.precision,
                          "pooling": manifest.pooling, "prompt": manifest.prompt, "parity": manifest.parity}, indent=2))
        return 0
    manifest = export_model(
        args.source, args.output, quantize=args.quantize, optimize=args.optimize, preset=args.preset,
        first_token_only=not args.all_tokens, force=args.force, allow_no_entailment=args.allow_no_entailment,
        validation_pairs=pairs, opset=args.opset,
    )
    print(json.dumps({"output": str(args.output), "precision": manifest.precision,
                      "quantization_preset": manifest.quantization_preset, "parity": manifest.parity}, indent=2))
    return 0


def read_validation_pairs(path: Path, size: int) -> list[tuple[str, str]]:
    """The first ``size`` premise/hypothesis pairs of a JSONL (or CSV) file, read as file jobs read
    rows: bounded rows, UTF-8 and JSON depth checked, every problem naming file:line."""
    if not path.is_file():
        raise FileNotFoundError(f"{path}: no such file")
    pairs: list[tuple[str, str]] = []
    with open(path, "rb") as handle:
        for line, record in read_records(path, handle, ("premise", "hypothesis")):
            if len(pairs) >= size:
                break
            if "premise" not in record or "hypothesis" not in record:
                raise ExamplesError(f"{path}:{line}: expected JSON with premise and hypothesis")
            pairs.append((str(record["premise"]), str(record["hypothesis"])))
    if not pairs:
        raise ExamplesError(f"{path} holds no premise/hypothesis pairs")
    return pairs


def register_tune(subparsers: argparse._SubParsersAction) -> None:
    from .tune import DEFAULT_BATCH_SIZE, DEFAULT_EPOCHS, DEFAULT_LEARNING_RATE, DEFAULT_NEGATIVES

    tune = subparsers.add_parser("tune", help=f"fine-tune an NLI checkpoint on a few labelled examples, then export it (needs {install_hint('export')})")
    tune.add_argument("source", help="local Hugging Face NLI checkpoint or hub id (as for zsc export)")
    tune.add_argument("output", help="model directory to write")
    tune.add_argument("--examples", required=True, type=Path, help="labelled examples: .jsonl or .csv, a few per label")
    tune.add_argument("--text-field", default="text", help="field/column with the text (default: %(default)s)")
    tune.add_argument("--label-field", default="label", help="field/column with the label (default: %(default)s)")
    tune.add_argument("--labels", help="the candidate labels, comma-separated (default: those in the examples); each needs an example")
    tune.add_argument("--template", default=None,
                      help="hypothesis template, the one you will classify with (default: the runtime's, 'This example is {}.')")
    tune.add_argument("--epochs", type=int, default=DEFAULT_EPOCHS, help="passes over the pairs (default: %(default)s)")
    tune.add_argument("--lr", type=float, default=DEFAULT_LEARNING_RATE, help="AdamW learning rate (default: %(default)s)")
    tune.add_argument("--batch-size", type=int, default=DEFAULT_BATCH_SIZE, help="pairs per training step (default: %(default)s)")
    tune.add_argument("--negatives", type=int, default=DEFAULT_NEGATIVES,
                      help="other labels per example, as contradiction pairs (default: %(default)s, or all when fewer)")
    tune.add_argument("--seed", type=int, default=0, help="the same seed and inputs give the same model (default: %(default)s)")
    tune.add_argument("--quantize", default="int8,fp16-w8", help="graphs to write, as for zsc export (default: %(default)s)")
    tune.add_argument("--max-row-bytes", type=int, default=MAX_ROW_BYTES,
                      help="longest row (line) of --examples read; a longer one stops with file:line (default: %(default)s)")
    tune.add_argument("--force", action="store_true", help="replace an earlier zsc model directory at OUTPUT")
    tune.set_defaults(handler=run_tune)


def run_tune(args: argparse.Namespace) -> int:
    from zsc.engine import DEFAULT_TEMPLATE

    try:
        from .tune import tune_model
    except ImportError as exc:
        raise ExportError(str(exc)) from exc
    labels = [label.strip() for label in args.labels.split(",") if label.strip()] if args.labels else None
    try:
        manifest = tune_model(args.source, args.output, args.examples, text_field=args.text_field, label_field=args.label_field,
                              labels=labels, template=args.template or DEFAULT_TEMPLATE, epochs=args.epochs, learning_rate=args.lr,
                              batch_size=args.batch_size, negatives=args.negatives, seed=args.seed, quantize=args.quantize,
                              force=args.force, max_row_bytes=args.max_row_bytes)
    except ImportError as exc:
        raise ExportError(str(exc)) from exc
    print(json.dumps({"output": args.output, "precision": manifest.precision, "tuning": manifest.tuning, "parity": manifest.parity},
                     indent=2, ensure_ascii=False))
    return 0
