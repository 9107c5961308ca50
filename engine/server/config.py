from __future__ import annotations

import argparse
import logging
import re
from dataclasses import dataclass, field
from pathlib import Path

from ..load_options import LoadOptions
from ..runtime_flags import load_options

logger = logging.getLogger("zsc.server")


@dataclass(frozen=True)
class Fairness:
    """What is kept for light requests, so that valid heavy ones cannot starve them.

    ``light_pairs``: the most NLI pairs and embedder passes a light request costs (0: no request
    is light). ``prepare_reserve``: prepare slots heavy requests leave free. ``queue_reserve``:
    queued pairs heavy requests leave free."""

    light_pairs: int = 0
    prepare_reserve: int = 0
    queue_reserve: int = 0

    def is_light(self, cost: int) -> bool:
        return cost <= self.light_pairs


@dataclass(frozen=True)
class Limits:
    """What one request may ask for. Its cost is counted in NLI pairs and tokens after windows
    and the prefilter are planned: 64 texts x 64 labels at the model's full 512 tokens fit, as
    they did before windows existed; windows cannot multiply a request past the same bounds."""

    max_labels: int = 64
    max_inputs: int = 64
    max_input_chars: int = 20_000
    max_body_bytes: int = 1_000_000
    max_pairs: int = 4096
    max_tokens: int = 4096 * 512

    def __post_init__(self) -> None:
        for name, value in vars(self).items():
            _require_positive(name, value)


@dataclass(frozen=True)
class ServerConfig:
    models: dict[str, Path]  # model id -> exported directory; the first is served at POST /
    tokens: frozenset[str] = frozenset()
    limits: Limits = field(default_factory=Limits)
    batching: bool = True
    max_wait_ms: float = 0.0
    max_queue_pairs: int = 8192  # pairs admitted per model before new requests get 503 + Retry-After
    cache_entries: int = 1024
    cache_bytes: int = 64 * 1024 * 1024
    # Where each model runs, its graph, threads and the one batch budget: the engine's, which the
    # server's batcher fills from its queue (batch sizes None: zsc.engine.defaults.PROVIDER_FEEDING).
    loading: LoadOptions = field(default_factory=LoadOptions)
    embedder: Path | None = None  # for scoring hybrid/embedding and prefilter_top_k (the embedded model has its own)
    read_timeout_s: float = 10.0  # a request body must arrive within this
    header_timeout_s: float = 10.0  # request headers must arrive within this (uvicorn has no such limit)
    shutdown_timeout_s: float = 30.0  # on SIGTERM, in-flight requests get this long to finish

    public: frozenset[str] = frozenset({"health"})  # routes answered without a token when tokens are set
    max_preparing: int = 8  # requests tokenised or embedded at once per model, before the queue; beyond: 503
    host: str = "127.0.0.1"  # the bind address; on loopback only loopback Host names are answered
    port: int = 8080
    playground: bool = True  # the browser page at GET /ui
    # Web pages: a request with an Origin other than the server's own is refused unless listed here.
    allow_origins: frozenset[str] = frozenset()
    # Host names answered besides loopback ones (when bound to loopback) or instead of any (otherwise).
    allowed_hosts: frozenset[str] = frozenset()

    def __post_init__(self) -> None:
        for name in ("max_queue_pairs", "max_preparing", "read_timeout_s", "header_timeout_s"):
            _require_positive(name, getattr(self, name))
        for name in ("cache_entries", "max_wait_ms", "shutdown_timeout_s"):
            if getattr(self, name) < 0:
                raise ValueError(f"{_flag(name)} must be 0 or more, got {getattr(self, name)}")
        if not 0 <= self.port <= 65535:
            raise ValueError(f"--port must be between 0 and 65535, got {self.port}")
        if self.limits.max_pairs > self.max_queue_pairs:
            # The queue must hold the largest request it admits, or that request could never run.
            raise ValueError(f"--max-pairs ({self.limits.max_pairs}) must not exceed --max-queue-pairs ({self.max_queue_pairs})")
        if self.limits.max_pairs > self.heavy_queue_pairs:
            raise ValueError(f"--max-pairs ({self.limits.max_pairs}) must not exceed {self.heavy_queue_pairs}: --max-queue-pairs "
                             f"({self.max_queue_pairs}) less the {self.fairness.queue_reserve} pairs kept for light requests")
        for origin in self.allow_origins:
            if origin == "*" or not re.fullmatch(r"https?://[^/\s]+", origin):
                raise ValueError(f"--allow-origin takes origins like http://localhost:3000 (scheme and host, no path, no *), got {origin!r}")
        unknown = self.public - set(PUBLIC_ROUTES)
        if unknown:
            raise ValueError(f"--public takes {', '.join(PUBLIC_ROUTES)}; got {', '.join(sorted(unknown))}")

    @property
    def default_model_id(self) -> str:
        return next(iter(self.models))

    @property
    def fairness(self) -> Fairness:
        """What heavy requests leave for light ones: an eighth of the queue and a quarter of the
        prepare slots (none where the bounds are too small to share); a light request fits in
        the queue's reserve."""
        reserve = queue_reserve(self.max_queue_pairs)
        return Fairness(min(LIGHT_PAIRS, reserve), prepare_reserve=self.max_preparing // 4, queue_reserve=reserve)

    @property
    def heavy_queue_pairs(self) -> int:
        """The most pairs heavy requests may hold in the queue together."""
        return self.max_queue_pairs - queue_reserve(self.max_queue_pairs)


def queue_reserve(max_queue_pairs: int) -> int:
    """Queued pairs heavy requests leave to light ones: an eighth of the queue (none for a tiny one)."""
    return max_queue_pairs // 8


def default_max_pairs(max_queue_pairs: int) -> int:
    """--max-pairs when not given: Limits' default, lowered to what a smaller queue can admit (a
    queue that is not positive is ServerConfig's to refuse, by its own flag)."""
    if max_queue_pairs < 1:
        return Limits().max_pairs
    return min(Limits().max_pairs, max_queue_pairs - queue_reserve(max_queue_pairs))


# A light request: at most this many NLI pairs and embedder passes (a text or two with a handful
# of labels). It is prepared on a thread of its own, may use the share of the prepare slots and
# of the queue kept for it, and runs ahead of heavy requests: valid heavy load cannot starve it.
LIGHT_PAIRS = 64


PUBLIC_ROUTES = ("health", "metrics")
# Config field -> the flag that sets it, for messages that name what the user typed.
_FLAGS = {"read_timeout_s": "--read-timeout", "header_timeout_s": "--header-timeout", "shutdown_timeout_s": "--shutdown-timeout",
          "max_preparing": "--max-preparing"}


def _flag(name: str) -> str:
    return _FLAGS.get(name, "--" + name.replace("_", "-"))


def _require_positive(name: str, value: float) -> None:
    if isinstance(value, bool) or value <= 0:
        raise ValueError(f"{_flag(name)} must be positive, got {value}")


def read_tokens(path: Path) -> frozenset[str]:
    """Bearer tokens, one per line (blank lines and # comments skipped). A byte-order mark (what
    Notepad writes) is dropped; a token must be printable ASCII, as RFC 6750 says and as HTTP
    headers carry it (a non-ASCII token could never match)."""
    if not path.is_file():
        raise FileNotFoundError(f"token file not found: {path}")
    try:
        text = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise ValueError(f"cannot read token file {path}: {exc}") from None
    tokens = set()
    for number, line in enumerate(text.splitlines(), start=1):
        token = line.strip()
        if not token or token.startswith("#"):
            continue
        if not (token.isascii() and token.isprintable() and " " not in token):
            raise ValueError(f"{path}:{number}: a token must be printable ASCII without spaces (RFC 6750)")
        tokens.add(token)
    if not tokens:
        raise ValueError(f"token file {path} holds no tokens")
    return frozenset(tokens)


def add_serve_arguments(parser: argparse.ArgumentParser) -> None:
    """`zsc serve`'s options, declared next to the config they fill (config_from_args reads them)."""
    limits, defaults = Limits(), ServerConfig(models={})
    parser.add_argument("--model", "-m", action="append", default=[],
                        help="model directory or hub id (repeatable; default: the embedded model)")
    parser.add_argument("--model-id", action="append", default=[],
                        help="id for each --model, in order (default: the folder name; the embedded model is 'default')")
    parser.add_argument("--host", default=None, help="bind address (default: 127.0.0.1)")
    parser.add_argument("--port", type=int, default=8080, help="port (default: %(default)s)")
    parser.add_argument("--allow-origin", action="append", default=[], metavar="ORIGIN",
                        help="a web origin (e.g. http://localhost:3000) whose pages may call the server from a browser "
                             "(CORS); repeatable. Requests from any other page's origin are refused with 403 (default: none)")
    parser.add_argument("--allowed-hosts", default="",
                        help="comma-separated Host names to answer besides loopback ones when bound to loopback, or the only "
                             "ones answered otherwise (default: loopback names on loopback; any name on other addresses)")
    parser.add_argument("--token-file", type=Path, help="file with one accepted bearer token per line")
    parser.add_argument("--max-labels", type=int, default=limits.max_labels, help="most candidate labels per request (default: %(default)s)")
    parser.add_argument("--max-inputs", type=int, default=limits.max_inputs, help="most texts per request (default: %(default)s)")
    parser.add_argument("--max-input-chars", type=int, default=limits.max_input_chars,
                        help="longest text, in characters (default: %(default)s)")
    parser.add_argument("--max-body-bytes", type=int, default=limits.max_body_bytes, help="largest request body (default: %(default)s)")
    parser.add_argument("--max-pairs", type=int, default=None,
                        help="most NLI pairs per request, counted after windows and the prefilter are planned, and most "
                             "passes its embedder makes (texts or windows, and distinct labels); more is a 400 (default: "
                             f"{limits.max_pairs}, or what a smaller --max-queue-pairs admits: seven eighths of it)")
    parser.add_argument("--max-tokens", type=int, default=limits.max_tokens,
                        help="most tokens per request over all its pairs; more is a 400 (default: %(default)s)")
    parser.add_argument("--max-preparing", type=int, default=defaults.max_preparing,
                        help="requests a model tokenises or embeds at once before they reach its queue; beyond it 503 "
                             "with Retry-After (default: %(default)s)")
    parser.add_argument("--public", default=",".join(sorted(defaults.public)),
                        help="with --token-file, which of health,metrics answer without a token ('' for none; /health "
                             "then lists model ids only to a token holder) (default: %(default)s)")
    # Before batches were filled on the engine's own budget, this set the pairs per merged batch.
    parser.add_argument("--max-batch-pairs", type=int, default=None, help=argparse.SUPPRESS)
    parser.add_argument("--max-wait-ms", type=float, default=defaults.max_wait_ms,
                        help="how long a batch waits for more requests (0: merge only what is already queued; default: %(default)s)")
    parser.add_argument("--max-queue-pairs", type=int, default=defaults.max_queue_pairs,
                        help="pairs a model may have queued; beyond it requests get 503 with Retry-After (default: %(default)s)")
    parser.add_argument("--no-batching", action="store_true", help="run each request on its own")
    parser.add_argument("--no-playground", action="store_true", help="do not serve the playground page at GET /ui")
    parser.add_argument("--cache-entries", type=int, default=defaults.cache_entries,
                        help="responses kept in the LRU cache (x-use-cache); 0 turns it off (default: %(default)s)")
    parser.add_argument("--read-timeout", type=float, default=defaults.read_timeout_s,
                        help="seconds a client has to send its request body; then 408 (default: %(default)s)")
    parser.add_argument("--header-timeout", type=float, default=defaults.header_timeout_s,
                        help="seconds a connection has to send a request's headers; then it is closed (default: %(default)s)")
    parser.add_argument("--shutdown-timeout", type=float, default=defaults.shutdown_timeout_s,
                        help="on SIGTERM, seconds in-flight requests get to finish (default: %(default)s)")


def check_model_directory(path: Path) -> None:
    """Refuse at start a --model that cannot be a model directory (the full check runs at load)."""
    from ..model_files import MANIFEST_NAME

    if not path.is_dir():
        raise FileNotFoundError(f"model directory not found: {path}")
    if not (path / MANIFEST_NAME).is_file() and not any(path.glob("*.onnx")):
        raise ValueError(f"--model {path} holds no model (no {MANIFEST_NAME}, no .onnx graph); export one with `zsc export`")


def config_from_args(args: argparse.Namespace) -> ServerConfig:
    """The ServerConfig that the options of add_serve_arguments describe."""
    from ..loading import default_model_path, local_model_path

    names = list(args.model) or [str(default_model_path())]
    ids = list(args.model_id)
    if len(ids) > len(names):
        raise ValueError("more --model-id than --model")
    ids += [Path(name).name for name in names[len(ids):]]  # "facebook/bart-large-mnli" is served as bart-large-mnli
    if len(set(ids)) != len(ids):
        raise ValueError(f"model ids must be unique, got {ids}")
    paths = [local_model_path(name) for name in names]  # a hub id is fetched (or exported) now, before serving
    for path in paths:
        check_model_directory(path)
    if args.max_batch_pairs is not None:
        logger.warning("--max-batch-pairs is deprecated: it now sets --batch-size, the pairs per onnxruntime batch, "
                       "which the server fills from its queue")
    return ServerConfig(
        models=dict(zip(ids, paths)),
        tokens=read_tokens(args.token_file) if args.token_file else frozenset(),
        limits=Limits(args.max_labels, args.max_inputs, args.max_input_chars, args.max_body_bytes,
                      default_max_pairs(args.max_queue_pairs) if args.max_pairs is None else args.max_pairs, args.max_tokens),
        public=frozenset(name.strip() for name in args.public.split(",") if name.strip()),
        max_preparing=args.max_preparing,
        host=args.host or ServerConfig.host,
        port=args.port,
        allow_origins=frozenset(origin.rstrip("/") for origin in args.allow_origin),
        allowed_hosts=frozenset(name.strip().lower() for name in args.allowed_hosts.split(",") if name.strip()),
        batching=not args.no_batching,
        playground=not args.no_playground,
        max_wait_ms=args.max_wait_ms,
        max_queue_pairs=args.max_queue_pairs,
        cache_entries=args.cache_entries,
        loading=load_options(args, batch_size=args.max_batch_pairs),
        embedder=args.embedder,
        read_timeout_s=args.read_timeout,
        header_timeout_s=args.header_timeout,
        shutdown_timeout_s=args.shutdown_timeout,
    )
