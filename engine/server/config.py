from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path


@dataclass(frozen=True)
class Limits:
    max_labels: int = 64
    max_inputs: int = 64
    max_input_chars: int = 20_000
    max_body_bytes: int = 1_000_000


@dataclass(frozen=True)
class ServerConfig:
    models: dict[str, Path]  # model id -> exported directory; the first is served at POST /
    tokens: frozenset[str] = frozenset()
    limits: Limits = field(default_factory=Limits)
    batching: bool = True
    max_batch_pairs: int = 64
    max_wait_ms: float = 0.0
    cache_entries: int = 1024
    cache_bytes: int = 64 * 1024 * 1024
    provider: str = "auto"
    threads: int | None = None
    batch_size: int = 16

    @property
    def default_model_id(self) -> str:
        return next(iter(self.models))


def read_tokens(path: Path) -> frozenset[str]:
    if not path.is_file():
        raise FileNotFoundError(f"token file not found: {path}")
    tokens = frozenset(line.strip() for line in path.read_text().splitlines() if line.strip() and not line.startswith("#"))
    if not tokens:
        raise ValueError(f"token file {path} holds no tokens")
    return tokens
