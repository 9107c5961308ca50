"""The zsc command line: classify and serve, plus commands registered by other zsc packages
(`export`, from zsc.export). Thin: it parses, then calls the library."""

from __future__ import annotations

import argparse
import json
import logging
import signal
import sys
import threading
from pathlib import Path
from typing import Any

from . import __version__
from .defaults import (
    DEFAULT_LONG_TEXT,
    DEFAULT_PREFILTER_TOP_K,
    DEFAULT_SCORING,
    DEFAULT_TEMPLATE,
    LONG_TEXT_MAX_TOKENS,
    LONG_TEXT_MODES,
    describe_auto_prefilter,
    describe_window_defaults,
)
from .distribution import RUNTIME_MISSING, install_hint
from .jobs.files import MAX_ROW_BYTES
from .options import CallOptions
from .runtime_flags import add_runtime_options, load_options
from .scoring_modes import SCORING_MODES, describe_scoring_modes
from .server.config import add_serve_arguments

EXIT_USAGE = 2
EXIT_FAILURE = 1
PLUGIN_GROUP = "zsc.commands"


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="zsc", description="Local, ONNX-accelerated zero-shot text classification.")
    parser.add_argument("--version", action="version", version=f"zsc {__version__}")
    parser.add_argument("-v", "--verbose", action="store_true", help="log what zsc does")
    sub = parser.add_subparsers(dest="command", required=True)

    classify = sub.add_parser("classify", help="classify texts (arguments, or a file with --input)")
    classify.add_argument("texts", nargs="*", help="texts to classify")
    classify.add_argument("--labels", "-l", help="candidate labels, comma-separated (or --labels-field with --input)")
    classify.add_argument("--multi-label", action="store_true", help="score each label independently")
    classify.add_argument("--template", default=DEFAULT_TEMPLATE, help="hypothesis template with {} (default: %(default)r)")
    classify.add_argument("--scoring", choices=list(SCORING_MODES), default=DEFAULT_SCORING,
                          help=f"{describe_scoring_modes()} (the embedded model has its embedder; default: %(default)s)")
    classify.add_argument("--prefilter-top-k", type=_prefilter_top_k, metavar="K|auto|none", default=DEFAULT_PREFILTER_TOP_K,
                          help="run NLI only on the K labels most similar to each text (the others score 0.0); auto: "
                               f"{describe_auto_prefilter()}; none: every label (default: %(default)s)")
    classify.add_argument("--long-text", choices=LONG_TEXT_MODES, default=DEFAULT_LONG_TEXT,
                          help="truncate: cut long texts to the model's window (the pipeline); max/mean: score every window "
                               "and aggregate per label (default: %(default)s)")
    classify.add_argument("--window-tokens", type=int, metavar="N",
                          help=f"window size for --long-text max/mean (default: {describe_window_defaults()}; at most the first "
                               f"{LONG_TEXT_MAX_TOKENS} tokens of a text are read)")
    classify.add_argument("--model", "-m", help="exported model directory or hub id: a zsc export, an ONNX repository, or a checkpoint exported once (default: the embedded model)")
    classify.add_argument("--json", action="store_true", help="print JSON instead of a table (texts given as arguments)")
    classify.add_argument("--input", "-i", type=Path, help="a .jsonl, .csv or .txt file (UTF-8, a BOM is fine), streamed in chunks")
    classify.add_argument("--text-field", default=None, help="field/column holding the text in --input (jsonl, csv; default: text)")
    classify.add_argument("--labels-field", default=None,
                          help="field/column holding each row's own candidate labels in --input (a list, or a comma-separated "
                               "string), instead of --labels")
    classify.add_argument("--output", "-o", type=Path,
                          help="where --input results go (JSON lines); '-' or no --output: stdout. A file is committed "
                               "chunk by chunk with OUTPUT.progress.json beside it until the job ends; a symlink is followed")
    classify.add_argument("--resume", action="store_true",
                          help="continue an interrupted --input job after its last committed row (same input, model and options)")
    classify.add_argument("--chunk-size", type=int, default=256,
                          help="rows per chunk when streaming a file (committed together); with --engine ray, rows per Ray "
                               "batch (default: %(default)s). Pairs per model run are --batch-size")
    classify.add_argument("--max-row-bytes", type=int, default=None,
                          help="longest row (line) of --input read; a longer one stops the job with file:line "
                               f"(--engine local; default: {MAX_ROW_BYTES})")
    scale = classify.add_argument_group(f"Ray and Spark (--engine ray or spark; need {install_hint('ray')} or {install_hint('spark')})")
    scale.add_argument("--engine", choices=["local", "ray", "spark"], default="local",
                       help="local: this process; ray: Ray Data actors on a Ray cluster; spark: a pandas UDF on a Spark "
                            "cluster. With ray and spark, --input is a file, folder or glob of .jsonl/.csv/.parquet and "
                            "--output a new folder (default: %(default)s)")
    scale.add_argument("--master", default=None,
                       help="with --engine spark: the Spark master (default: local[*], every core of this machine)")
    scale.add_argument("--address", help="Ray cluster to join ('auto': the one this machine belongs to; default: start a local one)")
    scale.add_argument("--output-format", choices=["parquet", "jsonl"], default="parquet",
                       help="with --engine ray or spark (default: %(default)s)")
    scale.add_argument("--actors", type=int, help="Ray actors, each loading the model once (default: autoscale from 1)")
    scale.add_argument("--cpus-per-actor", type=float, default=1, help="CPUs (onnxruntime threads) per actor (default: %(default)s)")
    scale.add_argument("--gpus-per-actor", type=float, default=0, help="GPUs per actor; > 0 runs on CUDA (default: %(default)s)")
    add_runtime_options(classify)

    serve = sub.add_parser("serve", help=f"serve models over the Hugging Face Inference API (needs {install_hint('serve')})")
    add_serve_arguments(serve)
    add_runtime_options(serve)
    serve.set_defaults(handler=cmd_serve)
    classify.set_defaults(handler=cmd_classify)
    _register_plugin_commands(sub)
    return parser


def _prefilter_top_k(value: str) -> int | str | None:
    """--prefilter-top-k: a number, "auto" or "none" (CallOptions checks the number)."""
    if value in ("auto", "none"):
        return None if value == "none" else value
    try:
        return int(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, auto or none, got {value!r}") from None


def _load_classifier(args: argparse.Namespace) -> Any:
    from .classifier import ZeroShotClassifier

    return ZeroShotClassifier.named(args.model, load_options(args), args.embedder)


def _print_table(text: str, predictions: list[dict[str, Any]]) -> None:
    shown = text if len(text) <= 70 else text[:67] + "..."
    print(shown)
    width = max(len(p["label"]) for p in predictions)
    for p in predictions:
        bar = "█" * round(p["score"] * 30)
        print(f"  {p['label']:<{width}}  {p['score']:.4f}  {bar}")


def _check_classify_flags(args: argparse.Namespace) -> None:
    """Refuse flags that contradict each other instead of ignoring one of them."""
    if (args.labels is None) == (args.labels_field is None):
        raise ValueError("give --labels (for every text) or --labels-field (each --input row's own), exactly one")
    if args.input and args.texts:
        raise ValueError("give texts as arguments or --input FILE, not both")
    if not args.input and not args.texts:
        raise ValueError("nothing to classify: give texts as arguments or --input FILE")
    if not args.input:
        for flag, value in (("--output", args.output), ("--text-field", args.text_field), ("--labels-field", args.labels_field),
                            ("--resume", args.resume or None)):
            if value is not None:
                raise ValueError(f"{flag} applies to --input files only; texts given as arguments are printed")
    elif args.json:
        raise ValueError("--json applies to texts given as arguments; --input always writes JSON lines")
    if args.engine in ("ray", "spark"):
        if not args.input or not args.output or str(args.output) == "-":
            raise ValueError(f"--engine {args.engine} needs --input (files, a folder or a glob) and --output (a new folder)")
        if args.resume:
            raise ValueError(f"--resume applies to --engine local; a {args.engine.capitalize()} job reruns as a whole")
        if args.max_row_bytes is not None:
            raise ValueError(f"--max-row-bytes applies to --engine local; {args.engine.capitalize()}'s own readers read the rows")
    engine_flags = {"ray": (("--address", args.address), ("--actors", args.actors)), "spark": (("--master", args.master),)}
    for engine, flags in engine_flags.items():
        for flag, value in flags:
            if value is not None and args.engine != engine:
                raise ValueError(f"{flag} applies to --engine {engine}")
    for flag, value in (("--chunk-size", args.chunk_size), ("--max-row-bytes", args.max_row_bytes)):
        if value is not None and value < 1:
            raise ValueError(f"{flag} must be positive, got {value}")
    load_options(args)  # the runtime flags, checked by their names before any work


def cmd_classify(args: argparse.Namespace) -> int:
    _check_classify_flags(args)
    options = CallOptions.of(args.template, args.multi_label, args.scoring, args.prefilter_top_k, args.long_text, args.window_tokens)
    if args.engine == "ray":
        return _classify_with_ray(args, options)
    if args.engine == "spark":
        return _classify_with_spark(args, options)
    if args.input:
        from .jobs.classify_file import FileJob, classify_file
        from .jobs.files import RowFields

        job = FileJob.of(args.labels, options, RowFields(args.text_field or "text", args.labels_field), args.chunk_size,
                         args.max_row_bytes or MAX_ROW_BYTES)
        output = None if args.output is None or str(args.output) == "-" else args.output
        count = classify_file(_load_classifier(args), args.input, output, job, args.resume)
        print(f"classified {count} texts" + (f" into {output}" if output else ""), file=sys.stderr)
        return 0
    results = _load_classifier(args)(list(args.texts), args.labels, options=options)
    if args.json:
        print(json.dumps(results if len(args.texts) > 1 else results[0], ensure_ascii=False, indent=2))
    else:
        for text, predictions in zip(args.texts, results):
            _print_table(text, predictions)
    return 0


def _classify_with_ray(args: argparse.Namespace, options: CallOptions) -> int:
    try:
        import ray

        from .ray_data import classify_dataset, read_files, write_files
        from .table_files import check_output
    except ImportError as exc:
        raise ValueError(f"--engine ray needs the ray extra: {install_hint('ray')} ({exc})") from exc
    output = Path(args.output)
    check_output(output, args.output_format)
    ray.init(address=args.address, log_to_driver=args.verbose)
    try:
        dataset = classify_dataset(
            read_files(str(args.input)), args.labels, labels_column=args.labels_field, options=options,
            text_column=args.text_field or "text", model=args.model,
            batch_size=args.chunk_size, concurrency=args.actors, num_cpus=args.cpus_per_actor, num_gpus=args.gpus_per_actor,
            pairs_per_batch=args.batch_size, max_batch_tokens=args.max_batch_tokens, embedder=args.embedder, precision=args.precision,
        )
        write_files(dataset, output, args.output_format)
    finally:
        ray.shutdown()
    print(f"classified {args.input} into {output}/ ({args.output_format})", file=sys.stderr)
    return 0


def _classify_with_spark(args: argparse.Namespace, options: CallOptions) -> int:
    try:
        from .spark import classify_column, local_session, read_files, write_files
    except ImportError as exc:
        raise ValueError(f"--engine spark needs the spark extra: {install_hint('cpu,spark')} ({exc})") from exc
    from .table_files import check_output

    output = Path(args.output)
    check_output(output, args.output_format, engine="spark")
    spark = local_session(args.master or "local[*]")
    try:
        classified = classify_column(read_files(spark, str(args.input)), args.labels, text_column=args.text_field or "text",
                                     labels_column=args.labels_field, model=args.model, embedder=args.embedder, options=options,
                                     precision=args.precision, threads=args.threads or 1, pairs_per_batch=args.batch_size,
                                     max_batch_tokens=args.max_batch_tokens)
        write_files(classified, output, args.output_format)
    finally:
        spark.stop()
    print(f"classified {args.input} into {output}/ ({args.output_format})", file=sys.stderr)
    return 0


def cmd_serve(args: argparse.Namespace) -> int:
    try:
        from .server.main import serve
    except ImportError as exc:
        raise ValueError(f"zsc serve needs the serve extra: {install_hint('serve')} ({exc})") from exc
    return serve(args)


def _register_plugin_commands(sub: argparse._SubParsersAction) -> None:
    """Commands other zsc packages add (zsc.export adds `export`), found by entry point so that
    the engine imports none of them."""
    from importlib.metadata import entry_points

    for entry in sorted(entry_points(group=PLUGIN_GROUP), key=lambda e: e.name):
        entry.load()(sub)


class Terminated(BaseException):
    """SIGTERM, raised where the program is, so that cleanup runs as for Ctrl-C: an export or tune
    removes its staging folder, a file job keeps its committed rows and their record."""


def _raise_terminated(signum: int, _: object) -> None:
    raise Terminated(signum)


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO if args.verbose else logging.WARNING, format="zsc: %(message)s")
    # `zsc serve` keeps uvicorn's own handling: a graceful shutdown, then the signal re-raised.
    in_main_thread = threading.current_thread() is threading.main_thread() and args.handler is not cmd_serve
    previous = signal.signal(signal.SIGTERM, _raise_terminated) if in_main_thread else None
    try:
        return int(args.handler(args))
    except (ValueError, FileNotFoundError, FileExistsError) as exc:
        print(f"zsc: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except ImportError as exc:
        if str(exc) != RUNTIME_MISSING:
            raise
        print(f"zsc: error: {exc}", file=sys.stderr)  # no onnxruntime build chosen at install
        return EXIT_USAGE
    except OSError as exc:  # the system refused: a read-only or full disk, permissions, a busy port
        print(f"zsc: error: {describe_os_error(exc)}", file=sys.stderr)
        return EXIT_FAILURE
    except KeyboardInterrupt:
        return 130
    except Terminated:
        print("zsc: terminated; partial work was cleaned up", file=sys.stderr)
        return 128 + signal.SIGTERM
    finally:
        if in_main_thread:
            signal.signal(signal.SIGTERM, previous)


def describe_os_error(exc: OSError) -> str:
    """'cannot write out.jsonl: No space left on device', without a traceback."""
    reason = exc.strerror or str(exc)
    names = [str(n) for n in (exc.filename, exc.filename2) if n is not None]
    return f"{reason}: {' -> '.join(names)}" if names else reason


if __name__ == "__main__":
    sys.exit(main())
