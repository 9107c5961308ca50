"""`zsc serve`: build the config from the command line and run uvicorn."""

from __future__ import annotations

import argparse
import logging
import math

from .config import config_from_args

logger = logging.getLogger("zsc.server")


def serve(args: argparse.Namespace) -> int:
    import uvicorn

    from .app import create_app
    from .protocol import header_timeout_protocol

    config = config_from_args(args)
    host = config.host
    if not config.tokens:
        if args.host is None:
            logger.warning("no --token-file: serving without authentication, bound to 127.0.0.1 only")
        else:
            logger.warning("no --token-file: serving WITHOUT authentication on %s", host)
    logging.getLogger("zsc").setLevel(logging.INFO)
    logger.info("models: %s", {k: str(v) for k, v in config.models.items()})
    uvicorn.run(create_app(config), host=host, port=config.port, log_level="info",
                http=header_timeout_protocol(config.header_timeout_s), timeout_keep_alive=5,
                timeout_graceful_shutdown=math.ceil(config.shutdown_timeout_s))
    return 0
