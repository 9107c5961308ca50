"""Validate and normalise call arguments, with transformers' error messages where it has them.

Every problem with what a caller passed raises :class:`InputError` (a ``ValueError``); a value of
the wrong type raises :class:`InputTypeError`, which is also a ``TypeError`` as transformers'
own pipeline tests expect. The server answers 400 for these and only these.
"""

from __future__ import annotations

import string
import unicodedata
from collections.abc import Iterable, Mapping

NO_LABEL_OR_SEQUENCE = "You must include at least one label and at least one sequence."
# A hypothesis is a short sentence; past this it can only be a mistake or an attack, and it is
# refused before str.format or the tokenizer spend anything on it.
MAX_HYPOTHESIS_CHARS = 2000
_NOT_FORMATTABLE = (
    'The provided hypothesis_template "{template}" was not able to be formatted with the target labels. '
    "Make sure the passed template includes formatting syntax such as {{}} where the label should go."
)


class InputError(ValueError):
    """The caller passed something zsc cannot classify (a message says what and where)."""


class InputTypeError(InputError, TypeError):
    """An argument of the wrong type (None, bytes, a number where text belongs)."""


def type_name(value: object) -> str:
    return type(value).__name__


def _invalid_unicode(value: str) -> str | None:
    try:
        value.encode("utf-8")
    except UnicodeEncodeError as exc:
        return f"is not valid Unicode (a lone surrogate at position {exc.start})"
    return None


# Letters and symbols that render as nothing: the braille blank and the Hangul fillers.
_BLANK_GLYPHS = frozenset("\u2800\u115f\u1160\u3164\uffa0")


def _visible(ch: str) -> bool:
    """A character a reader sees: a letter, number, punctuation or symbol that draws something.
    Whitespace, controls and format characters (zero-width ones) are not, nor are marks alone
    (combining accents, variation selectors): they only change the character before them."""
    return unicodedata.category(ch)[0] in "LNPS" and ch not in _BLANK_GLYPHS


def _says_nothing(value: str) -> str | None:
    if not any(_visible(ch) for ch in value):
        if not value:
            return "is an empty string"
        if all(ch.isspace() or unicodedata.category(ch)[0] == "C" for ch in value):
            return "is only whitespace or control characters"
        return "has no visible character (only whitespace, controls, combining marks, variation selectors or blank symbols)"
    return None


def unusable_text(value: str) -> str | None:
    """Why tokenizers cannot take ``value`` or it says nothing (None when it is usable): the one
    rule for call arguments and file rows alike."""
    return _invalid_unicode(value) or _says_nothing(value)


def _check_text(value: str, name: str) -> None:
    if problem := _invalid_unicode(value):
        raise InputError(f"{name} {problem}")
    if problem := _says_nothing(value):
        raise InputError(f"{name} {problem}. {NO_LABEL_OR_SEQUENCE}")


def _string_items(values: Iterable[object], name: str) -> list[str]:
    """The items as a list of plain strings, each checked to be usable (the error names the position).

    numpy's str_ items (an array or a pandas column of text) are str subclasses: kept, as str."""
    items: list[str] = []
    for i, item in enumerate(values):
        if not isinstance(item, str):
            raise InputTypeError(f"{name}[{i}] must be a string, got {type_name(item)}")
        _check_text(item, f"{name}[{i}]")
        items.append(str(item))
    return items


def _iterable_of_texts(value: object, name: str) -> Iterable[object]:
    """What the pipeline iterates over: a list, tuple, numpy array, pandas Series, generator, ...

    bytes would be iterated as ints and a dict as its keys: both refused by name, as is an
    array of more than one dimension (which text would a row be?)."""
    if isinstance(value, (bytes, bytearray, memoryview)):
        raise InputTypeError(f"{name} must be a string or a list of strings, got {type_name(value)} (decode it first)")
    if isinstance(value, Mapping) or not isinstance(value, Iterable):
        raise InputTypeError(f"{name} must be a string or a list of strings, got {type_name(value)}")
    ndim = getattr(value, "ndim", 1)
    if ndim != 1:
        raise InputTypeError(f"{name} must be one-dimensional (a list of strings), got {ndim} dimensions")
    return value


def normalise_labels(candidate_labels: str | Iterable[str] | None) -> list[str]:
    """A list of labels, or one comma-separated string split on ',' (stripped, empties dropped)."""
    if candidate_labels is None:
        raise InputTypeError(f"candidate_labels must be a string or a list of strings, got None. {NO_LABEL_OR_SEQUENCE}")
    if isinstance(candidate_labels, str):
        labels = [label.strip() for label in candidate_labels.split(",") if label.strip()]
        for i, label in enumerate(labels):
            _check_text(label, f"candidate_labels[{i}]")
        return labels
    return _string_items(_iterable_of_texts(candidate_labels, "candidate_labels"), "candidate_labels")


def _is_label_list(value: object) -> bool:
    """A list of labels for one text: any iterable but a string (a string is one label, or a comma list)."""
    return not isinstance(value, (str, bytes, bytearray, memoryview, Mapping)) and isinstance(value, Iterable)


def normalise_label_sets(candidate_labels: object, text_count: int) -> list[list[str]]:
    """One label list per text: the call's labels for every text, or, when ``candidate_labels``
    holds one list (or comma-separated string) per text, each text's own. Empty label lists are
    refused by position."""
    if candidate_labels is None or isinstance(candidate_labels, str):
        shared = normalise_labels(candidate_labels)
    else:
        items = list(_iterable_of_texts(candidate_labels, "candidate_labels"))
        per_text = [_is_label_list(item) for item in items]
        if not (items and all(per_text)):
            if any(per_text):
                raise InputTypeError("candidate_labels mixes labels and lists of labels: give one list of labels for "
                                     "every text, or one list per text")
            shared = _string_items(items, "candidate_labels")
        else:
            if len(items) != text_count:
                raise InputError(f"candidate_labels has {len(items)} label lists for {text_count} texts: give one list "
                                 "per text, or one list of labels for all of them")
            sets = []
            for i, item in enumerate(items):
                labels = _string_items(_iterable_of_texts(item, f"candidate_labels[{i}]"), f"candidate_labels[{i}]")
                if not labels:
                    raise InputError(f"candidate_labels[{i}] is empty. {NO_LABEL_OR_SEQUENCE}")
                sets.append(labels)
            return sets
    if not shared:
        raise InputError(NO_LABEL_OR_SEQUENCE)
    return [shared] * text_count


def normalise_texts(inputs: str | Iterable[str] | None) -> tuple[list[str], bool]:
    """Texts as a list, and whether a single string was given. Like the pipeline, any iterable of
    strings is taken (list, tuple, numpy array, pandas Series, generator); results come as a list."""
    if isinstance(inputs, str):
        _check_text(inputs, "inputs")
        return [str(inputs)], True
    if inputs is None:
        raise InputTypeError(f"inputs must be a string or a list of strings, got None. {NO_LABEL_OR_SEQUENCE}")
    return _string_items(_iterable_of_texts(inputs, "inputs"), "inputs"), False


def _not_formatted(template: str, reason: str) -> InputError:
    return InputError(
        f'The provided hypothesis_template "{template}" could not be formatted with the target labels ({reason}). '
        "Make sure the passed template includes formatting syntax such as {} where the label should go."
    )


def label_fields(template: str) -> int:
    """How many times the label goes into ``template``, if it is an ordinary template: text with
    ``{}`` (or ``{0}``, repeatable) where the label goes.

    transformers calls ``template.format(label)``. Everything else ``str.format`` can do (format
    specs such as ``{:>100000000}``, conversions ``{!r}``, attribute and index lookups ``{0.x}``,
    named fields) is refused here, before any work: it is never needed to place a label, and it
    makes a tiny request cost gigabytes. Literal braces ``{{ }}`` stay allowed.
    """
    if len(template) > MAX_HYPOTHESIS_CHARS:
        raise InputError(f"hypothesis_template is {len(template)} characters long; at most {MAX_HYPOTHESIS_CHARS} are allowed")
    try:
        fields = [(name, spec, conversion) for _, name, spec, conversion in string.Formatter().parse(template) if name is not None]
    except ValueError as exc:  # a lone "{" or "}"
        raise _not_formatted(template, str(exc)) from None
    for name, spec, conversion in fields:
        if name not in ("", "0") or spec or conversion:
            shown = "{" + name + ("!" + conversion if conversion else "") + (":" + spec if spec else "") + "}"
            raise InputError(
                f'hypothesis_template "{template}" uses {shown}; only {{}} (or {{0}}) may stand where the label goes, '
                "without format specs, conversions or field names (write {{ and }} for literal braces)"
            )
    if not fields:
        raise InputError(_NOT_FORMATTABLE.format(template=template))
    if len(fields) > 1 and any(name == "" for name, _, _ in fields):
        # "{} {}" asks str.format for two arguments: transformers fails with IndexError.
        raise _not_formatted(template, "Replacement index 1 out of range for positional args tuple")
    return len(fields)


def hypotheses_for(labels: list[str], template: object) -> list[str]:
    """One hypothesis per label, each bounded in size before it is built."""
    if not isinstance(template, str):
        raise InputTypeError(f"hypothesis_template must be a string, got {type_name(template)}")
    fields = label_fields(template)
    for i, label in enumerate(labels):
        size = len(template) + fields * len(label)
        if size > MAX_HYPOTHESIS_CHARS:
            raise InputError(
                f"the hypothesis for candidate_labels[{i}] would be {size} characters long; at most "
                f"{MAX_HYPOTHESIS_CHARS} are allowed (shorten the label or the template)"
            )
    return [template.format(label) for label in labels]


def job_labels(candidate_labels: str | Iterable[str] | None, labels_column: str | None, template: str) -> list[str] | None:
    """A table job's labels, checked before any work: the same for every row, or None when each row
    brings its own from ``labels_column`` (exactly one of the two; Ray and Spark alike)."""
    if (candidate_labels is None) == (labels_column is None):
        raise InputError("give candidate_labels (the same for every row) or labels_column (each row's own), exactly one")
    if candidate_labels is None:
        return None
    labels = normalise_labels(candidate_labels)
    if not labels:
        raise InputError("candidate_labels is empty")
    hypotheses_for(labels, template)  # a label's errors now rather than on a worker
    return labels
