"""`zsc serve`: build the config from the command line and run uvicorn."""

from __future__ import annotations

import argparse
import logging
from pathlib import Path

from ..classifier import default_model_path
from .config import Limits, ServerConfig, read_tokens

logger = logging.getLogger("zsc.server")


def config_from_args(args: argparse.Namespace) -> ServerConfig:
    paths = [Path(p) for p in args.model] or [default_model_path()]
    ids = list(args.model_id)
    if len(ids) > len(paths):
        raise ValueError("more --model-id than --model")
    ids += [p.name for p in paths[len(ids):]]
    if len(set(ids)) != len(ids):
        raise ValueError(f"model ids must be unique, got {ids}")
    for path in paths:
        if not path.is_dir():
            raise FileNotFoundError(f"model directory not found: {path}")
    return ServerConfig(
        models=dict(zip(ids, paths)),
        tokens=read_tokens(args.token_file) if args.token_file else frozenset(),
        limits=Limits(args.max_labels, args.max_inputs, args.max_input_chars, args.max_body_bytes),
        batching=not args.no_batching,
        max_batch_pairs=args.max_batch_pairs,
        max_wait_ms=args.max_wait_ms,
        cache_entries=args.cache_entries,
        provider=args.provider,
        threads=args.threads,
        batch_size=args.batch_size,
    )


def serve(args: argparse.Namespace) -> int:
    import uvicorn

    from .app import create_app

    config = config_from_args(args)
    host = args.host or "127.0.0.1"
    if not config.tokens:
        if args.host is None:
            logger.warning("no --token-file: serving without authentication, bound to 127.0.0.1 only")
        else:
            logger.warning("no --token-file: serving WITHOUT authentication on %s", host)
    logging.getLogger("zsc").setLevel(logging.INFO)
    logger.info("models: %s", {k: str(v) for k, v in config.models.items()})
    uvicorn.run(create_app(config), host=host, port=args.port, log_level="info")
    return 0
