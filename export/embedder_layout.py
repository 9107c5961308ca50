"""What a sentence-transformers checkpoint says about how to embed a text: its pooling
(``1_Pooling/config.json``) and its prompts (``config_sentence_transformers.json``), read from the
files sentence-transformers itself reads. A checkpoint without them is mean-pooled with no prompt
(what all-MiniLM-L6-v2 and most BERT-family embedders do). Modules zsc cannot run (Dense layers, a
pooling mode it does not have) are a SourceError naming them, never a silently different vector."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from zsc.engine.pooling import DEFAULT_POOLING, POOLING_MODES

from .errors import OptionError, SourceError

# sentence-transformers' Pooling config keys, by the zsc pooling mode each one names.
_POOLING_KEYS = {"pooling_mode_mean_tokens": "mean", "pooling_mode_cls_token": "cls", "pooling_mode_lasttoken": "lasttoken"}
_UNSUPPORTED_KEYS = ("pooling_mode_max_tokens", "pooling_mode_mean_sqrt_len_tokens", "pooling_mode_weightedmean_tokens")
# The modules zsc reproduces: the encoder, its pooling, and the L2 normalisation zsc always applies.
_RUNNABLE_MODULES = ("Transformer", "Pooling", "Normalize")


@dataclass(frozen=True)
class EmbedderLayout:
    """How zsc embeds a text for this checkpoint: its pooling and the prompt put before the text."""

    pooling: str = DEFAULT_POOLING
    prompt: str = ""


def _read_json(source: str, name: str) -> Any:
    """A JSON file of the checkpoint (a local folder or a hub id), or None where it has none."""
    from transformers.utils import cached_file

    path = cached_file(source, name, _raise_exceptions_for_missing_entries=False, _raise_exceptions_for_connection_errors=False)
    if path is None:
        return None
    try:
        with open(path, encoding="utf-8") as handle:
            return json.load(handle)
    except ValueError as exc:
        raise SourceError(f"{source}: {name} is not valid JSON ({exc})") from None


def _pooling(source: str, modules: list[dict[str, Any]] | None) -> tuple[str, bool]:
    """The pooling mode, and whether the pooling reads the prompt's tokens too."""
    if not modules:
        return DEFAULT_POOLING, True
    pooling_path = None
    for module in modules:
        kind = str(module.get("type", "")).rsplit(".", 1)[-1]
        if kind not in _RUNNABLE_MODULES:
            raise SourceError(f"{source}: its sentence-transformers module {kind!r} ({module.get('path')}) is not one zsc runs; "
                              f"zsc embedders are {', '.join(_RUNNABLE_MODULES)} only")
        if kind == "Transformer" and module.get("path"):
            raise SourceError(f"{source}: its encoder is in the subfolder {module['path']!r}; export that folder")
        if kind == "Pooling":
            pooling_path = module.get("path") or ""
    if pooling_path is None:
        return DEFAULT_POOLING, True
    config = _read_json(source, f"{pooling_path}/config.json" if pooling_path else "config.json") or {}
    for key in _UNSUPPORTED_KEYS:
        if config.get(key):
            raise SourceError(f"{source}: pooling {key.removeprefix('pooling_mode_')!r} is not one zsc runs; it runs {POOLING_MODES}")
    chosen = [mode for key, mode in _POOLING_KEYS.items() if config.get(key)]
    if len(chosen) != 1:
        raise SourceError(f"{source}: its Pooling module asks for {chosen or 'no pooling'}; zsc runs exactly one of {POOLING_MODES}")
    return chosen[0], config.get("include_prompt") is not False


def read_embedder_layout(source: str, prompt_name: str | None = None, prompt: str | None = None) -> EmbedderLayout:
    """The checkpoint's pooling and the prompt zsc puts before every text and label: ``prompt``
    as given, else the checkpoint's prompt called ``prompt_name``, else its default prompt (as
    sentence-transformers' ``encode`` uses), else none."""
    if prompt is not None and prompt_name is not None:
        raise OptionError("give a prompt or a prompt name, not both")
    pooling, pools_prompt = _pooling(source, _read_json(source, "modules.json"))
    settings = _read_json(source, "config_sentence_transformers.json") or {}
    prompts = {str(k): str(v) for k, v in (settings.get("prompts") or {}).items()}
    if prompt is None:
        name = prompt_name if prompt_name is not None else settings.get("default_prompt_name")
        if name is not None and name not in prompts:
            raise OptionError(f"{source} has no prompt called {name!r}; its prompts: {sorted(prompts) or 'none'}")
        prompt = prompts[name] if name is not None else ""
    if prompt and not pools_prompt:
        raise SourceError(f"{source}: its Pooling module leaves the prompt out of the pooling (include_prompt false), which zsc does not do")
    return EmbedderLayout(pooling, prompt)
