"""Validate and normalise call arguments, with transformers' error messages where it has them."""

from __future__ import annotations

from collections.abc import Sequence
from typing import cast

DEFAULT_TEMPLATE = "This example is {}."
NO_LABEL_OR_SEQUENCE = "You must include at least one label and at least one sequence."


def _string_items(values: Sequence[object], name: str) -> list[str]:
    """The items as a list, each checked to be a string (the error names the position)."""
    items = list(values)
    for i, item in enumerate(items):
        if not isinstance(item, str):
            raise ValueError(f"{name}[{i}] must be a string, got {type(item).__name__}")
    return cast(list[str], items)


def normalise_labels(candidate_labels: str | Sequence[str] | None) -> list[str]:
    """A list of labels, or one comma-separated string split on ',' (stripped, empties dropped)."""
    if candidate_labels is None:
        return []
    if isinstance(candidate_labels, str):
        return [label.strip() for label in candidate_labels.split(",") if label.strip()]
    if not isinstance(candidate_labels, Sequence):
        raise ValueError(f"candidate_labels must be a string or a list of strings, got {type(candidate_labels).__name__}")
    return _string_items(candidate_labels, "candidate_labels")


def normalise_texts(inputs: str | Sequence[str] | None) -> tuple[list[str], bool]:
    """Texts as a list, and whether a single string was given."""
    if isinstance(inputs, str):
        return ([inputs] if inputs else []), True
    if inputs is None:
        return [], False
    if not isinstance(inputs, Sequence):
        raise ValueError(f"inputs must be a string or a list of strings, got {type(inputs).__name__}")
    texts = _string_items(inputs, "inputs")
    for i, text in enumerate(texts):
        if not text:
            raise ValueError(f"inputs[{i}] is an empty string. {NO_LABEL_OR_SEQUENCE}")
    return texts, False


def hypotheses_for(labels: list[str], template: str) -> list[str]:
    if not isinstance(template, str):
        raise ValueError(f"hypothesis_template must be a string, got {type(template).__name__}")
    try:
        hypotheses = [template.format(label) for label in labels]
    except (IndexError, KeyError, ValueError) as exc:
        raise ValueError(
            f'The provided hypothesis_template "{template}" could not be formatted with the target labels ({exc}). '
            "Make sure the passed template includes formatting syntax such as {} where the label should go."
        ) from exc
    if hypotheses and template.format(labels[0]) == template:
        raise ValueError(
            f'The provided hypothesis_template "{template}" was not able to be formatted with the target labels. '
            "Make sure the passed template includes formatting syntax such as {} where the label should go."
        )
    return hypotheses
