"""zsc export never deletes what zsc did not write (--force), and a checkpoint of the wrong shape is
a message, not a traceback."""

from __future__ import annotations

import pytest
from zsc_command import zsc

from zsc.engine.manifest import Manifest
from zsc.engine.model_files import write_manifest

# 5. --force replaces only what zsc wrote.

@pytest.fixture
def project(tmp_path, monkeypatch):
    """proj/ holds a checkpoint folder, a user's file, and a finished zsc export; cwd is tmp_path."""
    proj = tmp_path / "proj"
    (proj / "mymodel").mkdir(parents=True)
    (proj / "mymodel" / "model.safetensors").write_bytes(b"weights")
    (proj / "notes.txt").write_text("mine")
    (proj / "exported").mkdir()
    write_manifest(proj / "exported" / "zsc.json", Manifest(1, 0, 512, 0, {0: "contradiction", 1: "entailment"},
                                                            zsc_version="0.1.0", files={"tokenizer.json": "0" * 64}).to_json())
    (proj / "exported" / "tokenizer.json").write_text("{}")
    (proj / "empty").mkdir()
    (tmp_path / "userdir").mkdir()
    (tmp_path / "userdir" / "thesis.tex").write_text("years of work")
    monkeypatch.chdir(tmp_path)
    return proj


@pytest.mark.parametrize("output, message", [
    ("proj", "holds the source checkpoint"),  # the folder around the source (and the user's files)
    ("userdir", "not written by zsc"),
    ("proj/mymodel", "is the source checkpoint"),
    ("", "the output path is empty"),
    (".", "is the current directory"),
    ("..", "is the current directory or holds it"),
    ("proj/notes.txt", "is a file"),
])
def test_force_never_replaces_what_zsc_did_not_write(project, output, message):
    from zsc.export.directory import checked_output

    with pytest.raises(ValueError, match=message):
        checked_output(output, True, "proj/mymodel")
    assert (project / "mymodel" / "model.safetensors").read_bytes() == b"weights" and (project / "notes.txt").exists()
    assert (project.parent / "userdir" / "thesis.tex").exists()


def test_force_replaces_an_earlier_export_or_an_empty_folder(project):
    from zsc.export.directory import checked_output

    assert checked_output("proj/exported", True, "proj/mymodel") == (project / "exported").resolve()
    assert checked_output("proj/empty", True, "proj/mymodel") == (project / "empty").resolve()
    with pytest.raises(FileExistsError):
        checked_output("proj/exported", False, "proj/mymodel")


def test_zsc_export_force_onto_the_source_folder_is_refused_and_nothing_is_removed(tmp_path, tiny_hf):
    import shutil

    proj = tmp_path / "proj"
    shutil.copytree(tiny_hf("bert"), proj / "mymodel")
    for output in (str(proj), str(proj / "mymodel"), ""):
        result = zsc("export", str(proj / "mymodel"), output, "--force", cwd=tmp_path)
        assert result.returncode == 2, result.stderr
        assert "--force will not replace" in result.stderr or "the output path is empty" in result.stderr, result.stderr
        assert (proj / "mymodel" / "config.json").exists()


@pytest.mark.parametrize("content", ["[]", '"a string"', "[1, 2]"])
def test_export_of_a_config_of_the_wrong_shape_is_a_message(tmp_path, content):
    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "config.json").write_text(content)
    result = zsc("export", str(tmp_path / "src"), str(tmp_path / "out"))
    assert result.returncode == 2 and "config.json is not a Hugging Face model config" in result.stderr
