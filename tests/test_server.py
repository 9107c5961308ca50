"""The HTTP server through a real uvicorn on 127.0.0.1, with httpx and huggingface_hub's client."""

from __future__ import annotations

import concurrent.futures
import json
import signal
import socket
import subprocess
import sys
import threading
import time
from contextlib import contextmanager
from dataclasses import replace

import httpx
import pytest

pytest.importorskip("fastapi")
import uvicorn
from ranking import assert_same_ranking

from zsc.engine import PROVIDER_FEEDING, ZeroShotClassifier
from zsc.engine.load_options import LoadOptions
from zsc.engine.server.app import create_app
from zsc.engine.server.config import Limits, ServerConfig

TEXT = "Hi, I recently bought a device from your company but it is not working as advertised and I would like to get reimbursed!"
LABELS = ["refund", "legal", "faq"]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def running(config: ServerConfig):
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(create_app(config), host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)


def wait_ready(base: str, timeout: float = 30, headers: dict[str, str] | None = None) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{base}/health", headers=headers).json()["ready"]:
                return
        except httpx.TransportError:  # a server process still starting
            pass
        time.sleep(0.05)
    raise AssertionError("models did not load")


@pytest.fixture(scope="module")
def config(tiny_exported, default_model_dir) -> ServerConfig:
    return ServerConfig(models={"minilm": default_model_dir, "tiny": tiny_exported("bert")},
                        limits=Limits(max_labels=10, max_inputs=4, max_input_chars=2000, max_body_bytes=4000))


@pytest.fixture(scope="module")
def server(config):
    with running(config) as base:
        wait_ready(base)
        yield base


def post(base, path="/models/minilm", body=None, **kwargs):
    body = body if body is not None else {"inputs": TEXT, "parameters": {"candidate_labels": LABELS}}
    return httpx.post(base + path, json=body, timeout=60, **kwargs)


def test_classify_matches_engine(server, default_model_dir):
    response = post(server, headers={"x-use-cache": "false"})
    assert response.status_code == 200
    expected = ZeroShotClassifier.default()(TEXT, LABELS)  # the server pairs the embedded model with its embedder, as default() does
    assert_same_ranking(response.json(), [p["label"] for p in expected], [p["score"] for p in expected], 1e-6)
    assert response.headers["x-compute-type"] == "cpu"
    assert float(response.headers["x-compute-time"]) > 0
    assert response.headers["x-compute-characters"] == str(len(TEXT))


def test_default_route_list_inputs_and_legacy(server):
    response = post(server, "/", {"inputs": [TEXT, "sports news"], "parameters": {"candidate_labels": "refund, faq", "multi_label": True}})
    assert response.status_code == 200 and len(response.json()) == 2 and len(response.json()[0]) == 2
    legacy = post(server, "/models/minilm?legacy=1")
    assert set(legacy.json()) == {"sequence", "labels", "scores"}
    header = post(server, headers={"x-zsc-format": "legacy"})
    assert header.json()["labels"] == legacy.json()["labels"]


def test_cache_hit_and_bypass(server):
    body = {"inputs": "cache me please", "parameters": {"candidate_labels": LABELS}}
    first = post(server, body=body)
    second = post(server, body=body)
    assert second.headers["x-cache"] == "hit" and second.json() == first.json()
    bypass = post(server, body=body, headers={"x-use-cache": "false"})
    assert bypass.headers["x-cache"] == "miss" and bypass.json() == first.json()


@pytest.mark.parametrize(
    "body, message",
    [
        ({"parameters": {"candidate_labels": ["a"]}}, "inputs is required"),
        ({"inputs": 3, "parameters": {"candidate_labels": ["a"]}}, "inputs is required"),
        ({"inputs": "x"}, "parameters is required"),
        ({"inputs": "x", "parameters": {}}, "candidate_labels is required"),
        ({"inputs": "x", "parameters": {"candidate_labels": [1]}}, "list of strings"),
        ({"inputs": "x", "parameters": {"candidate_labels": ["a"], "multi_label": "yes"}}, "multi_label must be a bool"),
        ({"inputs": "x", "parameters": {"candidate_labels": ["a"], "hypothesis_template": "no slot"}}, "hypothesis_template"),
        ({"inputs": "", "parameters": {"candidate_labels": ["a"]}}, "at least one label"),
        ({"inputs": "x", "parameters": {"candidate_labels": [str(i) for i in range(11)]}}, "max_labels 10"),
        ({"inputs": ["x"] * 5, "parameters": {"candidate_labels": ["a"]}}, "max_inputs 4"),
        ({"inputs": "x" * 2001, "parameters": {"candidate_labels": ["a"]}}, "max_input_chars 2000"),
        ([1, 2], {"error"}),
    ],
)
def test_bad_requests_are_400_with_error(server, body, message):
    response = post(server, body=body)
    assert response.status_code == 400
    assert isinstance(message, set) or message in response.json()["error"]


def test_invalid_json_unknown_model_and_too_large(server):
    bad = httpx.post(server + "/models/minilm", content=b"{nope", headers={"content-type": "application/json"})
    assert bad.status_code == 400 and "not valid JSON" in bad.json()["error"]
    missing = post(server, "/models/nope")
    assert missing.status_code == 404 and missing.json() == {"error": "Model nope does not exist"}
    large = post(server, body={"inputs": "x" * 5000, "parameters": {"candidate_labels": ["a"]}})
    assert large.status_code == 413 and "max_body_bytes" in large.json()["error"]


def test_health_models_and_openapi(server):
    assert httpx.get(server + "/health").json()["status"] == "ok"
    models = {m["id"]: m for m in httpx.get(server + "/models").json()["models"]}
    assert models["minilm"]["precision"] == "int8" and models["minilm"]["labels"] == ["contradiction", "neutral", "entailment"]
    cpu = PROVIDER_FEEDING["cpu"]
    assert (models["minilm"]["compute_type"], models["minilm"]["batch_size"], models["minilm"]["max_batch_tokens"]) == ("cpu", cpu.batch_size, cpu.max_batch_tokens)
    spec = httpx.get(server + "/openapi.json").json()
    assert "/models/{model_id}" in spec["paths"] and "requestBody" in spec["paths"]["/"]["post"]


def test_authorization_header_ignored_without_tokens(server):
    assert post(server, headers={"Authorization": "Bearer hf_anything"}).status_code == 200


def test_tokens_required_when_configured(config, tmp_path):
    with running(replace(config, tokens=frozenset({"s3cret"}))) as base:
        wait_ready(base)
        assert post(base).status_code == 401 and "Bearer" in post(base).json()["error"]
        assert post(base, headers={"Authorization": "Bearer wrong"}).status_code == 401
        assert post(base, headers={"Authorization": "Bearer s3cret"}).status_code == 200
        assert httpx.get(base + "/models").status_code == 401
        assert httpx.get(base + "/health").status_code == 200


def test_loading_model_answers_503_or_waits(config, monkeypatch):
    release = threading.Event()
    original = ZeroShotClassifier.from_pretrained.__func__

    def slow(cls, *args, **kwargs):
        release.wait(20)
        return original(cls, *args, **kwargs)

    monkeypatch.setattr(ZeroShotClassifier, "from_pretrained", classmethod(slow))
    with running(replace(config, models={"minilm": config.models["minilm"]})) as base:
        response = post(base)
        assert response.status_code == 503
        assert response.json()["error"] == "Model minilm is currently loading" and response.json()["estimated_time"] > 0
        with concurrent.futures.ThreadPoolExecutor(1) as pool:
            waiting = pool.submit(post, base, headers={"x-wait-for-model": "true"})
            time.sleep(0.3)
            assert not waiting.done()
            release.set()
            assert waiting.result(timeout=30).status_code == 200


def test_concurrent_requests_share_batches(config):
    # Merged or alone, a request's scores are the same (batch-invariant precisions).
    texts = [f"news item number {i} about markets and sport" for i in range(24)]
    expected = ZeroShotClassifier.from_pretrained(config.models["tiny"])(texts, LABELS)
    with running(replace(config, max_wait_ms=50, cache_entries=0)) as base:
        wait_ready(base)
        with concurrent.futures.ThreadPoolExecutor(8) as pool:
            responses = list(pool.map(lambda t: post(base, "/models/tiny", {"inputs": t, "parameters": {"candidate_labels": LABELS}}), texts))
        assert all(r.status_code == 200 for r in responses)
        for response, want in zip(responses, expected):
            assert_same_ranking(response.json(), [p["label"] for p in want], [p["score"] for p in want], 1e-5)


def test_huggingface_hub_client(server, default_model_dir):
    from huggingface_hub import InferenceClient

    client = InferenceClient(base_url=f"{server}/models/minilm")
    engine = ZeroShotClassifier.default()  # the server pairs the embedded model with the embedded embedder, as default() does
    for multi_label in (False, True):
        output = client.zero_shot_classification(TEXT, LABELS, multi_label=multi_label)
        expected = engine(TEXT, LABELS, multi_label=multi_label)
        as_dicts = [{"label": o.label, "score": o.score} for o in output]
        assert_same_ranking(as_dicts, [p["label"] for p in expected], [p["score"] for p in expected], 1e-5)


def test_zsc_serve_command_end_to_end(tmp_path, tiny_exported):

    tokens = tmp_path / "tokens.txt"
    tokens.write_text("# one per line\nabc123\n")
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "zsc.engine.cli", "serve", "--model", str(tiny_exported("bert")), "--model-id", "tiny",
         "--port", str(port), "--token-file", str(tokens)],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )
    try:
        base = f"http://127.0.0.1:{port}"
        wait_ready(base, timeout=60)
        auth = {"Authorization": "Bearer abc123"}
        response = post(base, "/models/tiny", headers=auth)
        assert response.status_code == 200 and len(response.json()) == 3
        assert post(base, "/models/tiny").status_code == 401
    finally:
        process.terminate()
        output = process.communicate(timeout=30)[0]
    assert "abc123" not in output  # tokens never logged


def _serve_process(*args: str) -> tuple[subprocess.Popen, str]:
    port = free_port()
    process = subprocess.Popen([sys.executable, "-m", "zsc.engine.cli", "serve", "--port", str(port), "--threads", "1", *args],
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    return process, f"http://127.0.0.1:{port}"


def _queued_pairs(base: str) -> float:
    from prometheus_client.parser import text_string_to_metric_families

    families = text_string_to_metric_families(httpx.get(base + "/metrics").text)
    return sum(s.value for f in families for s in f.samples if s.name == "zsc_queue_pairs")


@pytest.mark.parametrize("shutdown_timeout, finishes", [(30, True), (0.5, False)])
def test_sigterm_finishes_in_flight_requests_within_the_deadline(shutdown_timeout, finishes):
    """SIGTERM: a request already running completes (200) when the deadline allows; the process
    ends cleanly either way, and no later than the deadline plus a little when a request runs long."""
    texts = [f"{TEXT} Order number {i} arrived late and damaged." for i in range(16 if finishes else 64)]
    body = {"inputs": texts, "parameters": {"candidate_labels": [f"topic {i}" for i in range(8 if finishes else 32)]}}
    if not finishes:  # exact NLI on all 2,048 pairs (the default call would read 5 labels a text): seconds on any CPU
        body["parameters"]["scoring"] = "nli"
    process, base = _serve_process("--shutdown-timeout", str(shutdown_timeout), "--max-inputs", "64")
    try:
        wait_ready(base, timeout=60)
        with concurrent.futures.ThreadPoolExecutor(1) as pool:
            pending = pool.submit(httpx.post, base + "/", json=body, timeout=120)
            deadline = time.monotonic() + 10
            while _queued_pairs(base) == 0 and time.monotonic() < deadline:
                time.sleep(0.01)
            assert _queued_pairs(base) > 0, "the request never started"
            signalled = time.monotonic()
            process.send_signal(signal.SIGTERM)
            process.wait(timeout=60)
            exit_after = time.monotonic() - signalled
            if finishes:
                response = pending.result()
                assert response.status_code == 200 and len(response.json()) == len(texts)
            else:
                assert exit_after < shutdown_timeout + 5
                with pytest.raises(httpx.HTTPError):  # cut off at the deadline: no answer
                    pending.result().raise_for_status()
        # uvicorn re-raises the signal once shut down, as a process killed by SIGTERM would end.
        assert process.returncode in (0, -signal.SIGTERM), process.stdout.read() if process.stdout else ""
    finally:
        if process.poll() is None:
            process.kill()
        process.communicate(timeout=30)


@pytest.mark.parametrize(
    "args, message",
    [
        (["--model", "/nonexistent"], "model directory not found"),
        (["--token-file", "/nonexistent/tokens"], "token file not found"),
        (["--model-id", "a", "--model-id", "b"], "more --model-id than --model"),
    ],
)
def test_zsc_serve_bad_arguments(args, message):

    result = subprocess.run([sys.executable, "-m", "zsc.engine.cli", "serve", *args], capture_output=True, text=True, timeout=60)
    assert result.returncode == 2 and message in result.stderr


def _json_strategy():
    from hypothesis import strategies as st

    scalars = st.none() | st.booleans() | st.integers(-10, 10) | st.floats(allow_nan=False, allow_infinity=False, width=32) | st.text(max_size=30)
    values = st.recursive(scalars, lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner, max_size=4), max_leaves=12)
    # Texts and labels padded with whitespace: the cache key must tell them apart and stay small.
    padded = st.builds(lambda text, pad, tail: text + pad * " " + tail, st.text(max_size=12), st.integers(0, 1500), st.text(max_size=4))
    parameters = st.fixed_dictionaries({}, optional={
        "candidate_labels": st.one_of(st.lists(st.text(max_size=20) | padded, max_size=6), st.text(max_size=30), padded, values),
        "hypothesis_template": st.one_of(st.text(max_size=30), st.just("This is {}."), values),
        "multi_label": st.one_of(st.booleans(), values),
        "long_text": st.one_of(st.sampled_from(["truncate", "max", "mean", "MAX", ""]), values),
        "window_tokens": st.one_of(st.integers(-3, 600), values),
        "prefilter_top_k": st.one_of(st.integers(-1, 8), values),
        "scoring": st.one_of(st.sampled_from(["nli", "hybrid", "embedding"]), values),
    })
    inputs = st.one_of(st.text(max_size=60), padded, st.lists(st.text(max_size=40) | padded, max_size=5), values)
    body = st.fixed_dictionaries({}, optional={"inputs": inputs, "parameters": st.one_of(parameters, values)})
    return st.one_of(body, values)


def test_random_bodies_never_500(server):
    from hypothesis import HealthCheck, given, settings

    @settings(max_examples=200, deadline=None, suppress_health_check=list(HealthCheck))
    @given(_json_strategy())
    def check(body):
        # Every body as JSON text, declared JSON (None too: "null"), so the body is what is tested.
        response = httpx.post(server + "/models/tiny", content=json.dumps(body), headers={"content-type": "application/json"}, timeout=60)
        assert response.status_code in (200, 400, 413), (body, response.text)
        data = response.json()
        if response.status_code != 200:
            assert set(data) == {"error"} and isinstance(data["error"], str)
        else:  # a repeat is answered from the cache, byte for byte
            again = httpx.post(server + "/models/tiny", json=body, timeout=60)
            assert again.headers["x-cache"] == "hit" and again.content == response.content

    check()


HOSTILE_TEMPLATES = ["{:>100000000}", "{:^99999999}", "{0.__class__.__mro__}", "{0[0]}", "{!r}", "{label}", "{{}}", "{" * 5]


def _hostile_strategy():
    """Bodies built from the hostile classes: templates with format specs, deep nesting, bad text."""
    from hypothesis import strategies as st

    templates = st.sampled_from(HOSTILE_TEMPLATES) | st.builds(lambda w: f"{{:>{w}}}", st.integers(10**6, 10**9))
    texts = st.sampled_from(["", "   ", "\x00\x01", "ok \ud800", "fine text"])
    return st.fixed_dictionaries({"inputs": texts, "parameters": st.fixed_dictionaries(
        {"candidate_labels": st.lists(st.sampled_from(["a", "b", " ", "x" * 3000]), min_size=1, max_size=3)},
        optional={"hypothesis_template": templates})})


def test_hostile_bodies_are_fast_400s(server):
    from hypothesis import HealthCheck, given, settings

    @settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck))
    @given(_hostile_strategy())
    def check(body):
        start = time.perf_counter()
        response = httpx.post(server + "/models/tiny", content=json.dumps(body).encode(), timeout=60,
                              headers={"content-type": "application/json", "x-use-cache": "false"})
        assert time.perf_counter() - start < 2.0, body
        if body["inputs"] == "fine text" and body["parameters"].get("hypothesis_template") is None and "x" * 3000 not in body["parameters"]["candidate_labels"] and " " not in body["parameters"]["candidate_labels"]:
            assert response.status_code == 200
        else:
            assert response.status_code in (400, 413) and set(response.json()) == {"error"}, (body, response.text)

    check()


def test_deep_json_within_the_size_limit_is_400_not_500(config):
    with running(replace(config, limits=Limits(max_body_bytes=1_000_000))) as base:
        wait_ready(base)
        for depth in (3000, 200_000):
            body = b'{"inputs": ' + b"[" * depth + b"]" * depth + b', "parameters": {"candidate_labels": ["a"]}}'
            response = httpx.post(base + "/models/tiny", content=body, timeout=60, headers={"content-type": "application/json"})
            assert response.status_code == 400 and "not valid JSON" in response.json()["error"], response.text


def test_405_has_allow_and_401_has_www_authenticate(config):
    with running(replace(config, tokens=frozenset({"s3cret"}))) as base:
        wait_ready(base)
        for path in ("/models/tiny", "/"):
            wrong_method = httpx.get(base + path)
            assert wrong_method.status_code == 405 and "POST" in wrong_method.headers["allow"]
            assert "error" in wrong_method.json()
        for headers in ({}, {"Authorization": "Bearer nope"}, {"Authorization": "Basic czNjcmV0"}):
            denied = post(base, "/models/tiny", headers=headers)
            assert denied.status_code == 401 and denied.headers["www-authenticate"] == "Bearer"


def test_failed_models_are_reported_as_failed(config, tmp_path):
    broken = tmp_path / "broken"
    broken.mkdir()
    (broken / "model.onnx").write_bytes(b"not a graph")
    (broken / "config.json").write_text('{"id2label": {"0": "contradiction", "1": "entailment"}}')
    (broken / "tokenizer.json").write_text("{}")
    with running(replace(config, models={"tiny": config.models["tiny"], "broken": broken})) as base:
        deadline = time.monotonic() + 30
        while httpx.get(base + "/health").json()["models"]["broken"] == "loading" and time.monotonic() < deadline:
            time.sleep(0.05)
        health = httpx.get(base + "/health")
        assert health.status_code == 503 and health.json()["status"] == "degraded"
        assert "broken" in health.json()["errors"]
        models = {m["id"]: m for m in httpx.get(base + "/models").json()["models"]}
        assert models["broken"]["status"] == "failed" and "failed to load" in models["broken"]["error"]
        answer = post(base, "/models/broken", {"inputs": "x", "parameters": {"candidate_labels": ["a"]}})
        assert answer.status_code == 500 and "failed to load" in answer.json()["error"]
        assert post(base, "/models/tiny", {"inputs": "x", "parameters": {"candidate_labels": ["a"]}}).status_code == 200
    with running(replace(config, models={"broken": broken})) as base:
        deadline = time.monotonic() + 30
        while httpx.get(base + "/health").json()["models"]["broken"] == "loading" and time.monotonic() < deadline:
            time.sleep(0.05)
        assert httpx.get(base + "/health").json()["status"] == "failed"


def test_engine_bugs_are_500_not_400(config, monkeypatch):
    """Only input errors are the client's fault; a ValueError from inside the engine is a 500 with a request id."""
    def broken(*_args, **_kwargs):
        raise ValueError("an internal invariant broke")

    with running(replace(config, batching=False)) as base:
        wait_ready(base)
        monkeypatch.setattr(ZeroShotClassifier, "finish", broken)
        response = post(base, "/models/tiny", {"inputs": "x", "parameters": {"candidate_labels": ["a", "b"]}}, headers={"x-use-cache": "false"})
        assert response.status_code == 500 and response.json()["error"] == "unknown error" and response.json()["request_id"]


def test_slow_clients_are_cut_off(config):
    """Slow headers: the connection is closed after the header timeout. Slow body: 408."""
    import socket as sockets

    from zsc.engine.server.protocol import header_timeout_protocol

    port = free_port()
    app_config = replace(config, read_timeout_s=0.5, header_timeout_s=0.5)
    server = uvicorn.Server(uvicorn.Config(create_app(app_config), host="127.0.0.1", port=port, log_level="warning",
                                           http=header_timeout_protocol(0.5)))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    try:
        deadline = time.monotonic() + 30
        while not server.started and time.monotonic() < deadline:
            time.sleep(0.02)
        wait_ready(f"http://127.0.0.1:{port}")
        slow_headers = [sockets.create_connection(("127.0.0.1", port)) for _ in range(20)]
        for conn in slow_headers:
            conn.sendall(b"POST /models/tiny HTTP/1.1\r\nHost: localhost\r\n")
        time.sleep(1.5)
        for conn in slow_headers:
            conn.settimeout(2)
            assert conn.recv(1024) == b""  # closed by the server
            conn.close()
        slow_body = sockets.create_connection(("127.0.0.1", port))
        slow_body.sendall(b"POST /models/tiny HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{")
        slow_body.settimeout(5)
        assert b" 408 " in slow_body.recv(4096).split(b"\r\n")[0]
        slow_body.close()
        assert post(f"http://127.0.0.1:{port}", "/models/tiny", {"inputs": "x", "parameters": {"candidate_labels": ["a"]}}).status_code == 200
    finally:
        server.should_exit = True
        thread.join(timeout=10)


def test_full_queue_answers_503_with_retry_after(config, monkeypatch):
    original = ZeroShotClassifier.run_batch

    def slow(self, pairs):
        time.sleep(0.5)
        return original(self, pairs)

    monkeypatch.setattr(ZeroShotClassifier, "run_batch", slow)
    body = {"inputs": "x", "parameters": {"candidate_labels": ["a", "b", "c", "d"]}}
    with running(replace(config, max_queue_pairs=4, limits=replace(config.limits, max_pairs=4), cache_entries=0)) as base:
        wait_ready(base)
        with concurrent.futures.ThreadPoolExecutor(4) as pool:
            responses = list(pool.map(lambda _: post(base, "/models/tiny", body), range(4)))
    codes = sorted(r.status_code for r in responses)
    assert codes[0] == 200 and 503 in codes, codes
    for response in responses:
        if response.status_code == 503:
            assert response.headers["retry-after"] == "1" and "overloaded" in response.json()["error"]


def test_metrics_in_prometheus_format(config):
    from prometheus_client.parser import text_string_to_metric_families

    with running(replace(config, max_wait_ms=5)) as base:
        wait_ready(base)
        body = {"inputs": "metrics text", "parameters": {"candidate_labels": ["a", "b", "c"]}}
        assert post(base, "/models/tiny", body).status_code == 200
        assert post(base, "/models/tiny", body).headers["x-cache"] == "hit"
        assert post(base, "/models/tiny", {"inputs": ""}).status_code == 400
        assert post(base, "/models/nope", body).status_code == 404
        response = httpx.get(base + "/metrics")
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/plain")
    samples = {(s.name, tuple(sorted(s.labels.items()))): s.value
               for family in text_string_to_metric_families(response.text) for s in family.samples}
    assert samples[("zsc_requests_total", (("model", "tiny"), ("status", "200")))] == 2
    assert samples[("zsc_requests_total", (("model", "tiny"), ("status", "400")))] == 1
    assert samples[("zsc_requests_total", (("model", "unknown"), ("status", "404")))] == 1
    assert samples[("zsc_request_duration_seconds_count", (("model", "tiny"),))] == 4 - 1  # the 404 is "unknown"
    assert samples[("zsc_cache_lookups_total", (("result", "hit"),))] == 1
    assert samples[("zsc_batch_pairs_count", (("model", "tiny"),))] == 1
    assert samples[("zsc_batch_pairs_sum", (("model", "tiny"),))] == 3
    assert samples[("zsc_batch_tokens_sum", (("model", "tiny"),))] > 3
    assert samples[("zsc_queue_pairs", (("model", "tiny"),))] == 0
    assert samples[("zsc_model_load_seconds", (("model", "tiny"),))] > 0


def test_serve_batch_options_fill_the_engine_budget(default_model_dir):
    from zsc.engine.cli import build_parser
    from zsc.engine.server.config import config_from_args

    config = config_from_args(build_parser().parse_args(["serve", "--batch-size", "32", "--max-batch-tokens", "4096"]))
    assert (config.loading.batch_size, config.loading.max_batch_tokens) == (32, 4096)
    # The old name for the pairs per batch still works, as --batch-size.
    assert config_from_args(build_parser().parse_args(["serve", "--max-batch-pairs", "48"])).loading.batch_size == 48


def test_precision_option_serves_that_graph(config, default_model_dir):
    """`zsc serve --precision fp16`: the embedded model's fp16 graph (over its 8-bit weights) answers."""
    with running(replace(config, models={"minilm": default_model_dir}, loading=LoadOptions(precision="fp16"))) as base:
        wait_ready(base)
        (model,) = httpx.get(base + "/models").json()["models"]
        assert (model["precision"], model["compute_type"]) == ("fp16", "cpu")
        response = post(base, headers={"x-use-cache": "false"})
    expected = ZeroShotClassifier.default(provider="cpu", precision="fp16")(TEXT, LABELS)
    assert response.status_code == 200
    assert_same_ranking(response.json(), [p["label"] for p in expected], [p["score"] for p in expected], 1e-5)
