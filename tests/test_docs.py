"""What the README and the docs quote stays true: every `zsc` command in them parses with today's
flags, every `make` target they name exists, every page they link to is there, and the README
stays a five-minute read."""

from __future__ import annotations

import argparse
import re
import shlex
from pathlib import Path

import pytest
from conftest import REPO

from zsc.engine.cli import build_parser

PAGES = [REPO / "README.md", REPO / "benchmarks" / "README.md", *sorted((REPO / "docs").glob("*.md"))]


def code_lines(page: Path) -> list[str]:
    """Lines of the page's fenced code blocks, continuations joined."""
    blocks = re.findall(r"```[a-z]*\n(.*?)```", page.read_text(), flags=re.S)
    return [line.strip() for block in blocks for line in block.replace("\\\n", " ").splitlines() if line.strip()]


def command_lines(page: Path) -> list[str]:
    """Whole `zsc ...` command lines in the page's code blocks."""
    return [line for line in code_lines(page) if line.startswith("zsc ")]


def inline_mentions(page: Path) -> list[str]:
    """`zsc <command> --flag ...` quoted inline in prose (often a command's name and one flag)."""
    return re.findall(r"`(zsc (?:classify|serve|export|tune)\b[^`]*)`", page.read_text())


def subcommands() -> dict[str, set[str]]:
    """Each subcommand's option strings."""
    parser = build_parser()
    (actions,) = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
    return {name: set(sub._option_string_actions) for name, sub in actions.choices.items()}


@pytest.mark.parametrize("page", PAGES, ids=lambda p: str(p.relative_to(REPO)))
def test_every_quoted_zsc_command_parses(page):
    parser = build_parser()
    for command in command_lines(page):
        argv = shlex.split(command, comments=True)[1:]
        if any("$" in arg for arg in argv):
            continue  # a shell variable stands for a value
        try:
            parser.parse_args(argv)
        except SystemExit:
            pytest.fail(f"{page.name}: `{command}` does not parse with today's flags")
    options = subcommands()
    for mention in inline_mentions(page):
        words = mention.split()
        for flag in (w.split("=")[0] for w in words[2:] if w.startswith("--")):
            assert flag in options[words[1]], f"{page.name}: `{mention}` names {flag}, which `zsc {words[1]}` does not take"


def test_there_are_commands_to_check():
    assert sum(len(command_lines(page)) for page in PAGES) > 30 and sum(len(inline_mentions(page)) for page in PAGES) > 20


def test_every_make_target_named_exists():
    targets = set(re.findall(r"^([a-z][a-z0-9-]*):", (REPO / "Makefile").read_text(), flags=re.M))
    for page in PAGES:
        for target in re.findall(r"\bmake ([a-z][a-z0-9-]+)", page.read_text()):
            assert target in targets, f"{page.name} names `make {target}`, which the Makefile does not have"


def test_every_local_link_resolves():
    for page in PAGES:
        for target in re.findall(r"\]\(([^)#\s]+)(?:#[^)]*)?\)", page.read_text()):
            if not target.startswith(("http://", "https://")):
                assert (page.parent / target).exists(), f"{page.name} links to {target}, which does not exist"


def test_the_readme_is_a_five_minute_read():
    text = (REPO / "README.md").read_text()
    assert len(text.splitlines()) <= 300
    assert "pip install 'zsc-onnx[cpu]'" in text and "pip install 'zsc-onnx[gpu]'" in text
    for heading in ("## Install", "## Quickstart", "## Speed and accuracy", "## Limits", "## Going further"):
        assert heading in text
    for prose in [REPO / "README.md", *sorted((REPO / "docs").glob("*.md"))]:  # to users, not notes on how it was made
        assert not re.search(r"\(#\d+\)|#\d+ asked|this session|of mine", prose.read_text()), prose.name


SHOWCASES = {  # the examples the README and docs show, and the label the embedded model must rank first
    "Hi, I recently bought a device from your company but it is not working as advertised and I would like to get reimbursed!":
        (["refund", "legal", "faq"], "refund"),
    "My new phone stopped working after a week and I would like my money back": (["refund", "legal", "faq"], "refund"),
    "The football team won the cup final": (["sports", "politics", "business"], "sports"),
    "I love this phone": (["tech", "sports"], "tech"),
}


def test_the_showcases_are_right():
    """The examples the README and docs show answer as a reader expects, with the embedded model."""
    from zsc.engine import ZeroShotClassifier

    shown = " ".join(page.read_text() for page in PAGES)
    clf = ZeroShotClassifier.default()
    for text, (labels, expected) in SHOWCASES.items():
        assert text in shown
        assert clf(text, labels)[0]["label"] == expected, text
