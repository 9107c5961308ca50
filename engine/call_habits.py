"""The zero-shot pipeline's call keywords that are not classification options, taken as the
pipeline takes them: ``batch_size`` (pairs per model run, for this call), ``num_workers``
(accepted and ignored, as a pipeline on the CPU does), and ``multi_class`` (``multi_label``'s old
name, with the pipeline's deprecation warning). Everything else a call accepts is a
:class:`CallOptions` field, or ``options``/``legacy``."""

from __future__ import annotations

import logging
from dataclasses import fields
from typing import Any

from .options import CallOptions, count_option

logger = logging.getLogger("zsc")

RUN_KEYWORDS = ("batch_size", "num_workers")
DEPRECATED_ALIASES = {"multi_class": "multi_label"}
# What a call takes by name, for the message that names an unknown keyword.
CALL_KEYWORDS = (*(f.name for f in fields(CallOptions)), "options", "legacy", *RUN_KEYWORDS, *DEPRECATED_ALIASES)


def split_run_keywords(keywords: dict[str, Any]) -> tuple[dict[str, Any], int | None]:
    """(the option keywords, the call's batch size or None) from a call's keyword arguments."""
    rest = dict(keywords)
    batch_size = rest.pop("batch_size", None)
    rest.pop("num_workers", None)  # the pipeline's DataLoader workers: nothing to parallelise here
    for old, new in DEPRECATED_ALIASES.items():
        value = rest.pop(old, None)
        if value is not None:  # as the pipeline does: the old name wins, with a warning
            logger.warning("The `%s` argument has been deprecated and renamed to `%s`. `%s` will be removed in a future "
                           "version of zsc.", old, new, old)
            rest[new] = value
    return rest, count_option(batch_size, "batch_size", 1)  # None: the classifier's budget


def refuse_unknown(names: set[str]) -> None:
    """A TypeError naming keywords a call does not take, and listing those it does."""
    unknown = sorted(names - set(CALL_KEYWORDS))
    if unknown:
        raise TypeError(f"unexpected keyword argument{'s' if len(unknown) > 1 else ''} {', '.join(map(repr, unknown))}; "
                        f"a call takes {', '.join(CALL_KEYWORDS)}")
