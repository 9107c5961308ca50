"""The server's limits hold under abuse: a request's cost (windows, pairs, embedder passes) is counted
after planning and before any work, the response cache keeps to its byte bound, preparing is
admitted like inference, aborted uploads and huge numbers are 4xx, options that would refuse
everything are refused at start, and tokens guard what they should."""

from __future__ import annotations

import asyncio
import socket
import threading
import time
from dataclasses import replace

import httpx
import pytest
from test_server import post, running, wait_ready
from waiting import until
from zsc_command import zsc

from zsc.engine import ZeroShotClassifier
from zsc.engine.inputs import InputError
from zsc.engine.server.config import Limits, ServerConfig, read_tokens

LABELS = ["world", "sports", "business"]


@pytest.fixture(scope="module")
def tiny(tiny_exported):
    return ZeroShotClassifier.from_pretrained(tiny_exported("bert", "none"))


@pytest.fixture(scope="module")
def config(default_model_dir) -> ServerConfig:
    """The embedded model (it has an embedder, so windows, prefilter and embedding all run) with
    small per-request limits."""
    return ServerConfig(models={"default": default_model_dir},
                        limits=Limits(max_labels=64, max_inputs=64, max_input_chars=60_000, max_body_bytes=2_000_000,
                                      max_pairs=512, max_tokens=60_000))


@pytest.fixture(scope="module")
def server(config):
    with running(config) as base:
        wait_ready(base)
        yield base


# 1. Windows cannot multiply a request past the caps; the cost is counted after planning.

@pytest.mark.parametrize("inputs, parameters, count", [
    (["a " * 7600] * 4, {"long_text": "mean"}, "NLI pairs"),  # many 64-token windows per text
    ("word " * 5000, {"long_text": "max", "window_tokens": 8}, "NLI pairs"),  # tiny windows
    ("中" * 20_000, {"long_text": "max", "window_tokens": 8}, "NLI pairs"),  # a short body, many tokens
    (["lorem ipsum dolor sit amet " * 60] * 40, {}, "tokens"),  # no windows: under max_pairs, over max_tokens
    ("word " * 5000, {"long_text": "max", "window_tokens": 8, "scoring": "embedding"}, "embedder passes"),  # no pairs, many windows
])
def test_windowed_and_long_requests_over_the_caps_are_400s_naming_the_count(server, inputs, parameters, count):
    labels = [f"label {i}" for i in range(12)]
    started = time.perf_counter()
    response = post(server, "/models/default", {"inputs": inputs, "parameters": {"candidate_labels": labels, **parameters}})
    assert response.status_code == 400, response.text
    error = response.json()["error"]
    assert "this request needs" in error and count in error and ("max_pairs 512" in error or "max_tokens 60000" in error)
    assert time.perf_counter() - started < 10  # refused after tokenising, before any model run


def test_a_request_over_the_pair_cap_is_refused_before_any_work(server, monkeypatch):
    """texts x labels alone exceed max_pairs: known from the body, refused before tokenising."""
    original = ZeroShotClassifier.prepare

    def must_not_run(self, *args, **kwargs):
        raise AssertionError("prepare ran for a request refused by its size")

    monkeypatch.setattr(ZeroShotClassifier, "prepare", must_not_run)
    body = {"inputs": ["some text"] * 64, "parameters": {"candidate_labels": [f"l{i}" for i in range(9)]}}
    response = post(server, "/models/default", body)
    error = response.json()["error"]
    assert response.status_code == 400 and "needs 576 NLI pairs" in error and "> max_pairs 512" in error
    # The same texts under a prefilter of 8 labels are within the cap and run.
    monkeypatch.setattr(ZeroShotClassifier, "prepare", original)
    body["parameters"]["prefilter_top_k"] = 8
    assert post(server, "/models/default", body).status_code == 200


def test_admission_sees_the_planned_pairs_before_the_embedder_runs(monkeypatch):
    """The windowed hybrid embeds every window: a call refused by its size must not pay for that."""
    from zsc.engine.embedding import TextEmbedder

    clf = ZeroShotClassifier.default()
    embedded: list[int] = []
    original = TextEmbedder.embed
    monkeypatch.setattr(TextEmbedder, "embed", lambda self, texts: embedded.append(len(texts)) or original(self, texts))
    seen: list[int] = []

    def refuse(pairs: int, passages: int) -> None:
        seen.append(pairs)
        raise InputError(f"{pairs} pairs")

    document = "A sentence of filler about nothing at all. " * 300
    with pytest.raises(InputError, match="pairs"):
        clf.prepare([document, "short"], LABELS, long_text="max", window_tokens=16, admit=refuse)
    windows = clf.prepare([document, "short"], LABELS, long_text="max", window_tokens=16, scoring="nli").windows or []
    assert seen == [sum(windows) * len(LABELS)] and windows[0] > 50 and embedded == []
    counted: list[tuple[int, int]] = []
    prepared = clf.prepare([document], LABELS + ["x", "y", "z"], long_text="max", window_tokens=16, prefilter_top_k=2,
                           admit=lambda pairs, passages: counted.append((pairs, passages)))
    windows = (prepared.windows or [0])[0]
    # K pairs per window; the embedder's passes are the windows and the 6 distinct labels; then it embedded
    assert counted == [(len(prepared.pairs), windows + 6)] and len(prepared.pairs) == 2 * windows and embedded


def test_windows_within_the_caps_still_run(server):
    text = "An unrelated sentence about the weather. " * 60 + "The team won the championship final."
    body = {"inputs": text, "parameters": {"candidate_labels": ["sports", "cooking"], "long_text": "max"}}
    response = post(server, "/models/default", body)
    assert response.status_code == 200 and response.json()[0]["label"] == "sports"


def test_per_request_caps_must_fit_the_queue():
    with pytest.raises(ValueError, match=r"--max-pairs \(9000\) must not exceed --max-queue-pairs \(8192\)"):
        ServerConfig(models={}, limits=Limits(max_pairs=9000))


# 2. The response cache counts its keys: padding a request does not grow memory past the bound.

def test_cache_keys_are_digests_and_the_byte_bound_holds():
    from zsc.engine import CallOptions
    from zsc.engine.server.cache import ResponseCache
    from zsc.engine.server.requests import ZeroShotRequest

    cache = ResponseCache(max_entries=10_000, max_bytes=64_000)
    for i in range(1100):
        request = ZeroShotRequest("text" + " " * 10_000, [f"a{i}" + " " * 985_000])
        key = request.cache_key("default", False)
        assert len(key) == 32
        cache.put(key, b'[{"label": "a", "score": 1.0}]')
    assert cache.held_bytes <= 64_000 and 0 < len(cache) < 1100
    template = CallOptions.of(hypothesis_template="{}")
    padded = ZeroShotRequest("text  ", ["a"], template).cache_key("m", False)
    assert padded != ZeroShotRequest("text", ["a"], template).cache_key("m", False)  # different inputs, different keys
    assert padded != ZeroShotRequest("text  ", ["a"], template).cache_key("m", True)  # legacy shape is part of the key
    assert padded != ZeroShotRequest("text  ", ["a"]).cache_key("m", False)  # so are the options


def test_whitespace_padded_repeats_are_cached_by_digest(server):
    body = {"inputs": "padded " + " " * 50_000, "parameters": {"candidate_labels": "x" + " " * 30_000 + ",y"}}
    first, second = post(server, "/models/default", body), post(server, "/models/default", body)
    assert first.status_code == second.status_code == 200 and second.headers["x-cache"] == "hit"
    assert {p["label"] for p in first.json()} == {"x", "y"} and first.json() == second.json()


# 3. Tokenising and embedding are admitted like inference: bounded, 503 when full.

def test_prepare_slots_are_bounded_and_freed_when_the_work_ends(tiny):
    from zsc.engine.server.batcher import MicroBatcher, QueueFull

    release = threading.Event()

    async def scenario() -> list[str]:
        batcher = MicroBatcher(tiny, max_preparing=2)
        slow = [asyncio.ensure_future(batcher.prepared(release.wait)) for _ in range(2)]
        await until(lambda: batcher.preparing == 2, "both requests to be preparing")
        outcomes = []
        try:
            await batcher.prepared(lambda: "third")
        except QueueFull as exc:
            outcomes.append(str(exc))
        slow[0].cancel()  # a client that leaves does not free its slot while its work runs
        await until(slow[0].cancelled, "the cancellation to land")
        with pytest.raises(QueueFull):
            await batcher.prepared(lambda: "fourth")
        release.set()
        await asyncio.gather(slow[1])
        await until(lambda: batcher.preparing == 0, "both slots to be freed")
        outcomes.append(await batcher.prepared(lambda: "after"))
        await batcher.stop()
        return outcomes

    refused, admitted = asyncio.run(scenario())
    assert "2 requests are being prepared; the limit is 2" in refused and admitted == "after"


def test_embedding_requests_beyond_the_prepare_bound_get_503(config, monkeypatch):
    original = ZeroShotClassifier.prepare

    def slow_prepare(self, *args, **kwargs):
        time.sleep(0.6)
        return original(self, *args, **kwargs)

    monkeypatch.setattr(ZeroShotClassifier, "prepare", slow_prepare)
    body = {"inputs": ["a text about markets"] * 8, "parameters": {"candidate_labels": LABELS, "scoring": "embedding"}}
    with running(replace(config, max_preparing=2, cache_entries=0)) as base:
        wait_ready(base)
        import concurrent.futures

        with concurrent.futures.ThreadPoolExecutor(6) as pool:
            responses = list(pool.map(lambda _: post(base, "/models/default", body), range(6)))
    codes = sorted(r.status_code for r in responses)
    assert codes.count(200) >= 2 and 503 in codes and not any(c >= 500 and c != 503 for c in codes), codes
    refused = next(r for r in responses if r.status_code == 503)
    assert refused.headers["retry-after"] == "1" and "being prepared" in refused.json()["error"]


# 6. No traceback and no false 5xx.

def test_huge_integers_are_400_in_the_server_and_file_line_in_files(server, tmp_path, tiny_exported):
    for parameters in ('{"candidate_labels": ["a"], "prefilter_top_k": ' + "9" * 5000 + "}",
                       '{"candidate_labels": ["a"], "x": [' + "1" * 4400 + "]}"):
        body = '{"inputs": "text", "parameters": ' + parameters + "}"
        response = httpx.post(server + "/models/default", content=body.encode(), headers={"content-type": "application/json"})
        assert response.status_code == 400 and "integer string conversion" in response.json()["error"]
    source = tmp_path / "digits.jsonl"
    source.write_text('{"text": "fine"}\n{"text": "fine", "n": ' + "7" * 5000 + "}\n")
    result = zsc("classify", "--input", str(source), "--labels", "a,b", "--model", str(tiny_exported("bert")))
    assert result.returncode == 2 and f"{source}:2: invalid JSON" in result.stderr and "Traceback" not in result.stderr


def _abort_mid_upload(base: str, declared: int, sent: bytes) -> None:
    host, port = base.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port))) as connection:
        connection.sendall(f"POST /models/default HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\n"
                           f"Content-Length: {declared}\r\n\r\n".encode() + sent)
        time.sleep(0.1)


def test_a_client_that_aborts_mid_upload_is_not_a_500(config, caplog):
    with running(config) as base:
        wait_ready(base)
        _abort_mid_upload(base, 1000, b'{"inputs": "abc')
        _abort_mid_upload(base, 50_000, b"x" * 20_000)
        time.sleep(0.5)
        metrics = httpx.get(base + "/metrics").text
    assert 'status="499"' in metrics and 'status="500"' not in metrics
    assert "Traceback" not in caplog.text


# 9. Server options are checked at start.

@pytest.mark.parametrize("args, message", [
    (["--max-labels", "0"], "--max-labels must be positive, got 0"),
    (["--read-timeout", "0"], "--read-timeout must be positive, got 0.0"),
    (["--max-body-bytes", "-1"], "--max-body-bytes must be positive, got -1"),
    (["--max-input-chars", "0"], "--max-input-chars must be positive, got 0"),
    (["--batch-size", "0"], "--batch-size must be positive, got 0"),
    (["--max-batch-tokens", "-5"], "--max-batch-tokens must be positive, got -5"),
    (["--max-queue-pairs", "0"], "--max-queue-pairs must be positive"),
    (["--max-pairs", "0"], "--max-pairs must be positive, got 0"),
    (["--cache-entries", "-1"], "--cache-entries must be 0 or more"),
    (["--public", "health,docs"], "--public takes health, metrics; got docs"),
])
def test_serve_options_that_would_refuse_everything_are_refused_at_start(args, message):
    result = zsc("serve", *args, timeout=60)
    assert result.returncode == 2 and message in result.stderr, result.stderr


def test_serve_refuses_a_folder_that_holds_no_model(tmp_path):
    (tmp_path / "notes.txt").write_text("not a model")
    result = zsc("serve", "--model", str(tmp_path), timeout=60)
    assert result.returncode == 2 and "holds no model" in result.stderr


def test_token_files_with_a_bom_and_non_ascii_tokens(tmp_path):
    path = tmp_path / "tokens.txt"
    path.write_bytes("\ufefffirst-token\n# comment\nsecond\n".encode())
    assert read_tokens(path) == frozenset({"first-token", "second"})
    path.write_text("good\nclé-secrète\n", encoding="utf-8")
    with pytest.raises(ValueError, match=r"tokens.txt:2: a token must be printable ASCII"):
        read_tokens(path)
    path.write_text("has space inside\n")
    with pytest.raises(ValueError, match="printable ASCII without spaces"):
        read_tokens(path)


# 10. What is public with tokens is a choice, and model ids are for token holders.

def test_with_tokens_metrics_and_model_ids_need_a_token(config):
    bearer = {"authorization": "Bearer s3cret"}
    with running(replace(config, tokens=frozenset({"s3cret"}))) as base:
        wait_ready(base)
        assert httpx.get(base + "/metrics").status_code == 401
        assert httpx.get(base + "/metrics", headers=bearer).status_code == 200
        public = httpx.get(base + "/health").json()
        assert public == {"status": "ok", "ready": True}
        assert httpx.get(base + "/health", headers=bearer).json()["models"] == {"default": "ready"}
    with running(replace(config, tokens=frozenset({"s3cret"}), public=frozenset({"metrics"}))) as base:
        wait_ready(base, headers=bearer)
        assert httpx.get(base + "/metrics").status_code == 200
        assert httpx.get(base + "/health").status_code == 401
    with running(replace(config, tokens=frozenset({"s3cret"}), public=frozenset())) as base:
        wait_ready(base, headers=bearer)
        assert httpx.get(base + "/metrics").status_code == httpx.get(base + "/health").status_code == 401
