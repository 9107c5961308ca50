"""A web page cannot drive the local server (item 8 of the third hardening round): simple
cross-site POSTs, foreign origins and DNS-rebinding Host names are refused; the playground page
cannot be framed and runs only its own script."""

from __future__ import annotations

from dataclasses import replace

import httpx
import pytest

pytest.importorskip("fastapi")
from test_server import LABELS, TEXT, running, wait_ready

from zsc.engine.server.config import ServerConfig
from zsc.engine.server.guard import RequestGuard, host_name, is_loopback

BODY = {"inputs": TEXT, "parameters": {"candidate_labels": LABELS}}


@pytest.fixture(scope="module")
def config(tiny_exported) -> ServerConfig:
    return ServerConfig(models={"tiny": tiny_exported("bert")}, allow_origins=frozenset({"http://localhost:3000"}))


@pytest.fixture(scope="module")
def server(config):
    with running(config) as base:
        wait_ready(base)
        yield base


def raw_post(base: str, content: bytes, headers: dict[str, str]) -> httpx.Response:
    return httpx.post(base + "/models/tiny", content=content, headers=headers, timeout=60)


@pytest.mark.parametrize("content_type", ["text/plain", "text/plain;charset=UTF-8", "application/x-www-form-urlencoded",
                                          "multipart/form-data; boundary=x", None, "application/jsonx"])
def test_a_post_that_is_not_declared_json_is_415(server, content_type):
    import json

    headers = {"content-type": content_type} if content_type else {}
    response = raw_post(server, json.dumps(BODY).encode(), headers)
    assert response.status_code == 415 and "Content-Type: application/json" in response.json()["error"]


@pytest.mark.parametrize("content_type", ["application/json", "application/json; charset=utf-8", "Application/JSON"])
def test_json_bodies_are_served(server, content_type):
    import json

    assert raw_post(server, json.dumps(BODY).encode(), {"content-type": content_type}).status_code == 200


@pytest.mark.parametrize("origin", ["http://evil.example", "null", "http://127.0.0.1:1", "https://localhost:3000"])
def test_requests_from_other_origins_are_refused_on_every_route(server, origin):
    post = httpx.post(server + "/models/tiny", json=BODY, headers={"origin": origin}, timeout=60)
    assert post.status_code == 403 and "--allow-origin" in post.json()["error"]
    for path in ("/models", "/health", "/metrics", "/ui"):
        assert httpx.get(server + path, headers={"origin": origin}).status_code == 403, path


def test_the_servers_own_origin_and_listed_origins_are_served(server):
    own = server  # the playground page posts with its own origin
    assert httpx.post(server + "/models/tiny", json=BODY, headers={"origin": own}, timeout=60).status_code == 200
    listed = httpx.post(server + "/models/tiny", json=BODY, headers={"origin": "http://localhost:3000"}, timeout=60)
    assert listed.status_code == 200 and listed.headers["access-control-allow-origin"] == "http://localhost:3000"
    preflight = httpx.options(server + "/models/tiny", headers={
        "origin": "http://localhost:3000", "access-control-request-method": "POST",
        "access-control-request-headers": "content-type, authorization, x-use-cache"})
    assert preflight.status_code == 200 and "POST" in preflight.headers["access-control-allow-methods"]
    refused = httpx.options(server + "/models/tiny", headers={"origin": "http://evil.example", "access-control-request-method": "POST"})
    assert refused.status_code == 403 and "access-control-allow-origin" not in refused.headers


@pytest.mark.parametrize("host", ["evil.example", "evil.example:8080", "127.0.0.1.nip.io", "192.168.1.10", "[2001:db8::1]:80"])
def test_a_rebinding_host_name_is_refused_on_loopback(server, host):
    response = httpx.post(server + "/models/tiny", json=BODY, headers={"host": host}, timeout=60)
    assert response.status_code == 400 and "is not answered on a loopback address" in response.json()["error"]
    assert httpx.get(server + "/models", headers={"host": host}).status_code == 400  # nothing can be read back


@pytest.mark.parametrize("host", ["localhost", "localhost:8080", "127.0.0.1", "127.0.0.2:9", "[::1]:8080", "app.localhost"])
def test_loopback_host_names_are_served(server, host):
    assert httpx.post(server + "/models/tiny", json=BODY, headers={"host": host}, timeout=60).status_code == 200


def test_allowed_hosts_add_names_on_loopback(config):
    with running(replace(config, allowed_hosts=frozenset({"zsc.internal"}))) as base:
        wait_ready(base)
        assert httpx.post(base + "/models/tiny", json=BODY, headers={"host": "zsc.internal:80"}, timeout=60).status_code == 200
        assert httpx.post(base + "/models/tiny", json=BODY, headers={"host": "other.internal"}, timeout=60).status_code == 400


@pytest.mark.parametrize("bound, allowed, host, answered", [
    ("0.0.0.0", frozenset(), "anything.example", True),  # a public server answers any name unless told otherwise
    ("0.0.0.0", frozenset({"api.example"}), "api.example:443", True),
    ("0.0.0.0", frozenset({"api.example"}), "evil.example", False),
    ("::", frozenset(), "[2001:db8::1]", True),
    ("localhost", frozenset(), "evil.example", False),
    ("127.0.0.1", frozenset(), "LOCALHOST.", True),
])
def test_which_host_names_each_binding_answers(bound, allowed, host, answered):
    guard = RequestGuard(app=None, config=ServerConfig(models={}, host=bound, allowed_hosts=allowed))  # type: ignore[arg-type]
    scope = {"type": "http", "method": "GET", "headers": [(b"host", host.encode())]}
    assert (guard.refusal(scope) is None) == answered


def test_host_names_and_loopback():
    assert [host_name(h) for h in ("[::1]:8080", "a.test:80", "a.test", "::1")] == ["::1", "a.test", "a.test", "::1"]
    assert is_loopback("127.9.9.9") and is_loopback("::1") and is_loopback("localhost") and not is_loopback("10.0.0.1")


def test_the_playground_cannot_be_framed_and_runs_only_its_own_script(server):
    page = httpx.get(server + "/ui")
    assert page.status_code == 200
    policy = page.headers["content-security-policy"]
    assert "frame-ancestors 'none'" in policy and "default-src 'none'" in policy and "connect-src 'self'" in policy
    assert "'sha256-" in policy.split("script-src")[1].split(";")[0] and "unsafe-inline" not in policy
    assert page.headers["x-frame-options"] == "DENY" and page.headers["x-content-type-options"] == "nosniff"


@pytest.mark.parametrize("origin", ["*", "http://a.example/path", "a.example"])
def test_allow_origin_takes_origins_only(origin):
    with pytest.raises(ValueError, match="--allow-origin takes origins"):
        ServerConfig(models={}, allow_origins=frozenset({origin}))
