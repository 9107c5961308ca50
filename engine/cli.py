"""The zsc command line: classify, export, serve. Thin: it parses, then calls the library."""

from __future__ import annotations

import argparse
import json
import logging
import sys
from pathlib import Path
from typing import Any

from . import __version__

EXIT_USAGE = 2


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="zsc", description="Local, ONNX-accelerated zero-shot text classification.")
    parser.add_argument("--version", action="version", version=f"zsc {__version__}")
    parser.add_argument("-v", "--verbose", action="store_true", help="log what zsc does")
    sub = parser.add_subparsers(dest="command", required=True)

    classify = sub.add_parser("classify", help="classify texts (arguments, or a file with --input)")
    classify.add_argument("texts", nargs="*", help="texts to classify")
    classify.add_argument("--labels", "-l", required=True, help="candidate labels, comma-separated")
    classify.add_argument("--multi-label", action="store_true", help="score each label independently")
    classify.add_argument("--template", default="This example is {}.", help="hypothesis template with {}")
    classify.add_argument("--model", "-m", help="exported model directory (default: the embedded model)")
    classify.add_argument("--json", action="store_true", help="print JSON instead of a table")
    classify.add_argument("--input", "-i", type=Path, help="a .jsonl, .csv or .txt file, streamed in chunks")
    classify.add_argument("--text-field", default="text", help="field/column holding the text (jsonl, csv)")
    classify.add_argument("--output", "-o", type=Path, help="where --input results go (JSON lines); default stdout")
    classify.add_argument("--chunk-size", type=int, default=256, help="texts per chunk when streaming a file")
    _add_runtime_options(classify)

    export = sub.add_parser("export", help="export a Hugging Face NLI checkpoint (needs zsc[export])")
    export.add_argument("source", help="local Hugging Face model directory or hub id")
    export.add_argument("output", type=Path, help="model directory to write")
    export.add_argument("--quantize", choices=["int8", "fp16", "none"], default="int8")
    export.add_argument("--optimize", choices=["O1", "O2", "none"], default="O2")
    export.add_argument("--preset", default="auto", help="int8 preset: auto, avx512_vnni, avx2 or arm64")
    export.add_argument("--all-tokens", action="store_true",
                        help="keep the last layer running on every token (by default only the pooled first token, when that is exact)")
    export.add_argument("--opset", type=int, help="ONNX opset (default: optimum's choice)")
    export.add_argument("--validation-data", type=Path, help="JSON lines with premise/hypothesis for the parity report")
    export.add_argument("--validation-size", type=int, default=256, help="pairs to read from --validation-data")
    export.add_argument("--force", action="store_true", help="replace an existing output directory")
    export.add_argument("--allow-no-entailment", action="store_true", help="accept a model without an entailment label")

    serve = sub.add_parser("serve", help="serve models over the Hugging Face Inference API (needs zsc[serve])")
    serve.add_argument("--model", "-m", action="append", default=[], help="model directory (repeatable)")
    serve.add_argument("--model-id", action="append", default=[], help="id for each --model, in order")
    serve.add_argument("--host", default=None, help="bind address (default 127.0.0.1)")
    serve.add_argument("--port", type=int, default=8080)
    serve.add_argument("--token-file", type=Path, help="file with one accepted bearer token per line")
    serve.add_argument("--max-labels", type=int, default=64, help="most candidate labels per request")
    serve.add_argument("--max-inputs", type=int, default=64, help="most texts per request")
    serve.add_argument("--max-input-chars", type=int, default=20_000, help="longest text, in characters")
    serve.add_argument("--max-body-bytes", type=int, default=1_000_000, help="largest request body")
    serve.add_argument("--max-batch-pairs", type=int, default=64, help="pairs merged into one onnxruntime batch")
    serve.add_argument("--max-wait-ms", type=float, default=0.0,
                       help="how long a batch waits for more requests (0: merge only what is already queued)")
    serve.add_argument("--no-batching", action="store_true", help="run each request on its own")
    serve.add_argument("--cache-entries", type=int, default=1024)
    _add_runtime_options(serve)
    return parser


def _add_runtime_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--provider", choices=["auto", "cpu", "cuda"], default="auto")
    parser.add_argument("--threads", type=int, help="onnxruntime intra-op threads (default: all cores)")
    parser.add_argument("--batch-size", type=int, default=16, help="pairs per onnxruntime batch")


def _load_classifier(args: argparse.Namespace) -> Any:
    from .classifier import ZeroShotClassifier

    options = {"provider": args.provider, "threads": args.threads, "batch_size": args.batch_size}
    if args.model:
        return ZeroShotClassifier.from_pretrained(args.model, **options)
    return ZeroShotClassifier.default(**options)


def _print_table(text: str, predictions: list[dict[str, Any]]) -> None:
    shown = text if len(text) <= 70 else text[:67] + "..."
    print(shown)
    width = max(len(p["label"]) for p in predictions)
    for p in predictions:
        bar = "█" * round(p["score"] * 30)
        print(f"  {p['label']:<{width}}  {p['score']:.4f}  {bar}")


def cmd_classify(args: argparse.Namespace) -> int:
    if args.input and args.texts:
        raise ValueError("give texts as arguments or --input FILE, not both")
    if not args.input and not args.texts:
        raise ValueError("nothing to classify: give texts as arguments or --input FILE")
    if args.chunk_size < 1:
        raise ValueError("--chunk-size must be positive")
    classifier = _load_classifier(args)
    options = {"candidate_labels": args.labels, "hypothesis_template": args.template, "multi_label": args.multi_label}
    if args.input:
        from .batch_file import classify_file

        count = classify_file(classifier, args.input, args.output, args.text_field, args.chunk_size, options)
        print(f"classified {count} texts" + (f" into {args.output}" if args.output else ""), file=sys.stderr)
        return 0
    results = classifier(list(args.texts), **options)
    if args.json:
        print(json.dumps(results if len(args.texts) > 1 else results[0], ensure_ascii=False, indent=2))
    else:
        for text, predictions in zip(args.texts, results):
            _print_table(text, predictions)
    return 0


def cmd_export(args: argparse.Namespace) -> int:
    try:
        from zsc.export.api import export_model, require_export_stack

        require_export_stack()
    except ImportError as exc:
        raise ValueError(str(exc)) from exc
    pairs = _read_validation_pairs(args.validation_data, args.validation_size) if args.validation_data else None
    manifest = export_model(
        args.source, args.output, quantize=args.quantize, optimize=args.optimize, preset=args.preset, first_token_only=not args.all_tokens,
        force=args.force, allow_no_entailment=args.allow_no_entailment, validation_pairs=pairs, opset=args.opset,
    )
    print(json.dumps({"output": str(args.output), "precision": manifest.precision, "parity": manifest.parity}, indent=2))
    return 0


def _read_validation_pairs(path: Path, size: int) -> list[tuple[str, str]]:
    if not path.is_file():
        raise FileNotFoundError(f"{path}: no such file")
    pairs = []
    with open(path, encoding="utf-8") as handle:
        for number, line in enumerate(handle, start=1):
            if len(pairs) >= size:
                break
            try:
                record = json.loads(line)
                pairs.append((str(record["premise"]), str(record["hypothesis"])))
            except (json.JSONDecodeError, KeyError, TypeError) as exc:
                raise ValueError(f"{path}:{number}: expected JSON with premise and hypothesis ({exc})") from exc
    if not pairs:
        raise ValueError(f"{path} holds no premise/hypothesis pairs")
    return pairs


def cmd_serve(args: argparse.Namespace) -> int:
    try:
        from .server.main import serve
    except ImportError as exc:
        raise ValueError(f"zsc serve needs the serve extra: pip install 'zsc[serve]' ({exc})") from exc
    return serve(args)


COMMANDS = {"classify": cmd_classify, "export": cmd_export, "serve": cmd_serve}


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO if args.verbose else logging.WARNING, format="zsc: %(message)s")
    try:
        return COMMANDS[args.command](args)
    except (ValueError, FileNotFoundError, FileExistsError) as exc:
        print(f"zsc: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
