"""The command line's messages for bad numbers and for a path that looks like a hub id."""

from __future__ import annotations

from pathlib import Path

import pytest
from zsc_command import zsc

from zsc.engine import ZeroShotClassifier


@pytest.mark.parametrize("args, message", [
    (["serve", "--port", "70000"], "--port must be between 0 and 65535"),
    (["serve", "--port", "-1"], "--port must be between 0 and 65535"),
    (["export", "SRC", "OUT", "--opset", "1"], "opset (--opset) must be between 14 and 20"),
    (["export", "SRC", "OUT", "--validation-size", "0"], "--validation-size must be positive"),
])
def test_bad_numbers_are_messages(tmp_path, args, message):
    result = zsc(*args, cwd=tmp_path)
    assert result.returncode == 2 and message in result.stderr and "Traceback" not in result.stderr


# 11. A mistyped path shaped like a hub id names both readings.

def test_a_missing_path_shaped_like_a_hub_id_names_the_path_and_the_hub_lookup(tmp_path, monkeypatch):
    import huggingface_hub

    def offline(repo_id, **_):
        raise OSError(f"cannot reach the hub for {repo_id}: check your internet connection")

    monkeypatch.setattr(huggingface_hub, "snapshot_download", offline)
    monkeypatch.chdir(tmp_path)
    with pytest.raises(FileNotFoundError) as caught:
        ZeroShotClassifier.from_pretrained("typo-org/model-x")
    message = str(caught.value)
    assert f"no local model directory {Path(tmp_path, 'typo-org/model-x')}" in message
    assert "Hugging Face hub lookup of 'typo-org/model-x' failed" in message and "internet connection" in message
