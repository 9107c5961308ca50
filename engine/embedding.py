"""TextEmbedder: sentence embeddings from an exported encoder (task "embedding" in zsc.json).

Each text is read after the model's prompt (sentence-transformers' prompts, e.g. e5's "query: ";
none for most), its token states are pooled as the checkpoint's sentence-transformers Pooling
module says (mean over the real tokens, the first token, or the last; manifest.pooling) and
L2-normalised, so a dot product is a cosine similarity. Texts run in length-sorted batches under
the same budget as the classifier's; a text's embedding never depends on its batch-mates
(per-row int8 is batch-invariant, padding is masked out of the pooling).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
from tokenizers import Tokenizer

from .batching import BatchBudget
from .defaults import PROVIDER_FEEDING
from .feeding import Feeding
from .load_options import LoadOptions, given_once
from .loading import local_model_path
from .lru import LruCache
from .manifest import Manifest
from .model_dir import ModelDirectory, load_model_directory
from .model_files import MANIFEST_NAME
from .pooling import pool
from .runner import BatchRunner, Feeds
from .session import GraphSession, open_session
from .text_bounds import bounded_text

# Only short texts (labels, hypotheses, short queries) are cached: a cache of whole documents
# would hold up to cache_size of them.
CACHED_TEXT_CHARS = 1000


class TextEmbedder:
    """Embeds texts into unit vectors: ``embed(["a text"]) -> (1, dim)`` float32.

    Repeated texts (label names, hypotheses) come from a small LRU cache.
    """

    def __init__(self, model_dir: ModelDirectory, session: GraphSession, tokenizer: Tokenizer, feeding: Feeding,
                 cache_size: int = 4096) -> None:
        self.model_dir, self.session = model_dir, session
        self.runner = BatchRunner(session, feeding, model_dir.manifest.max_length)
        # A copy without truncation finds how much of a long text the model can read (bounded_text).
        self._untruncated = Tokenizer.from_str(tokenizer.to_str())
        self._untruncated.no_truncation()
        self._untruncated.no_padding()
        tokenizer.enable_truncation(model_dir.manifest.max_length)
        tokenizer.no_padding()
        self.tokenizer = tokenizer
        self.pad_token_id = model_dir.manifest.pad_token_id
        self._cache: LruCache[str, np.ndarray] = LruCache(cache_size)

    @classmethod
    def from_pretrained(cls, path: str | Path, provider: str = "auto", threads: int | None = None,
                        batch_size: int | None = None, max_batch_tokens: int | None = None,
                        verify: bool = True, precision: str = "auto", feeding: Feeding | None = None,
                        revision: str | None = None, options: LoadOptions | None = None) -> TextEmbedder:
        """Load an embedding model directory written by ``zsc export --task embedding`` (or a hub
        id holding one); the keyword arguments are ``LoadOptions``' (or pass ``options=``, not
        both): the graph and the feeding follow the provider unless given, as for the classifier."""
        load = given_once(options, LoadOptions.of(provider, precision, threads, batch_size, max_batch_tokens, verify, revision, feeding))
        model_dir = load_model_directory(local_model_path(path, task="embedding", revision=load.revision), verify=load.verify)
        manifest = model_dir.manifest
        if manifest.task != "embedding":
            raise ValueError(f"{model_dir.path} holds a model for task {manifest.task!r}; an embedder's {MANIFEST_NAME} says task 'embedding'")
        session = open_session(model_dir.path, manifest.graphs(), load.provider, load.precision, load.threads, output_rank=3)
        tokenizer = Tokenizer.from_file(str(model_dir.tokenizer_path))
        chosen = (load.feeding or PROVIDER_FEEDING[session.compute_type]).with_sizes(load.batch_size, load.max_batch_tokens)
        return cls(model_dir, session, tokenizer, chosen)

    @classmethod
    def from_graph(cls, graph: str | Path, tokenizer: str | Path, manifest: Manifest, batch_size: int | None = None,
                   max_batch_tokens: int | None = None) -> TextEmbedder:
        """An embedder over one graph (of ``manifest.precision``) and a tokenizer on the CPU: the
        graphs the exporter checks before it writes a directory (as ``ZeroShotClassifier.from_graph``)."""
        directory, graphs = ModelDirectory.of_graph(Path(graph), manifest)
        session = open_session(directory.path, graphs, "cpu", "auto", None, output_rank=3)
        return cls(directory, session, Tokenizer.from_file(str(tokenizer)), PROVIDER_FEEDING["cpu"].with_sizes(batch_size, max_batch_tokens))

    @property
    def budget(self) -> BatchBudget:
        return self.runner.budget

    @property
    def dimension(self) -> int:
        return int(self.session.inference.get_outputs()[0].shape[-1])

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        """Unit-length embeddings, one row per text, in order."""
        unique = list(dict.fromkeys(texts))
        known = self._cache.get_many(unique)
        missing = [t for t in unique if t not in known]
        if missing:
            known.update(zip(missing, self._compute(missing)))
            self._cache.put_many((text, known[text]) for text in missing if len(text) <= CACHED_TEXT_CHARS)
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        return np.stack([known[t] for t in texts])

    def _compute(self, texts: list[str]) -> list[np.ndarray]:
        max_length = self.model_dir.manifest.max_length
        prompt = self.model_dir.manifest.prompt
        encodings = self.tokenizer.encode_batch([bounded_text(self._untruncated, prompt + text, max_length) for text in texts])
        lengths = np.array([len(e.ids) for e in encodings], dtype=np.int64)

        def assemble(rows: np.ndarray, width: int) -> Feeds:
            ids = np.full((len(rows), width), self.pad_token_id, dtype=np.int64)
            types = np.zeros((len(rows), width), dtype=np.int64)
            for row, index in enumerate(rows):
                ids[row, : lengths[index]] = encodings[index].ids
                types[row, : lengths[index]] = encodings[index].type_ids
            mask = (np.arange(width)[None, :] < lengths[rows][:, None]).astype(np.int64)
            return {"input_ids": ids, "attention_mask": mask, "token_type_ids": types}

        out: list[np.ndarray] = [np.empty(0)] * len(texts)
        pooling = self.model_dir.manifest.pooling
        for rows, feeds, states in self.runner.batches(lengths, assemble):
            pooled = pool(states, feeds["attention_mask"], pooling)
            for row, index in enumerate(rows):
                out[index] = pooled[row]
        return out
