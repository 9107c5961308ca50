"""Typed export errors: every one is a ValueError (what callers and the CLI already catch) whose
class says which part of the request failed, so a program can tell a bad option from a graph
that does not match torch without reading the message."""

from __future__ import annotations


class ExportError(ValueError):
    """An export, tune or validation that cannot be done as asked; the message says why and what to change."""


class OptionError(ExportError):
    """An option out of range or a combination export does not support (quantize, optimize, opset, preset, sizes)."""


class SourceError(ExportError):
    """The checkpoint: its config, labels, tokenizer, weights or architecture."""


class OutputError(ExportError):
    """The output directory: where it is, or what --force may not replace."""


class ExamplesError(ExportError):
    """A file of examples or validation pairs (zsc tune, --validation-data): its format or content."""


class ConversionError(ExportError):
    """A graph transformation (optimisation, opset conversion) failed on this architecture."""


class ParityError(ExportError):
    """A written graph does not compute what it must: fp32 against torch, the int8 twin against its graph."""
