"""A stand-in for the Hugging Face hub's HTTP endpoint on loopback (HF_ENDPOINT points at it):
the two routes huggingface_hub uses to list a repository and fetch a file, serving repositories
from memory and recording every file it was asked for. Never the real hub."""

from __future__ import annotations

import hashlib
import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import unquote, urlsplit

COMMIT = "fedcba9876543210fedcba9876543210fedcba98"


class StandInHub:
    def __init__(self, repos: dict[str, dict[str, bytes]]) -> None:
        self.repos = repos
        self.fetched: list[tuple[str, str]] = []  # (repo, file) for each file body sent

    def handler(self) -> type[BaseHTTPRequestHandler]:
        hub = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *_: object) -> None:
                pass

            def do_HEAD(self) -> None:
                self.answer(body=False)

            def do_GET(self) -> None:
                self.answer(body=True)

            def answer(self, body: bool) -> None:
                parts = unquote(urlsplit(self.path).path).strip("/").split("/")
                if parts[:2] == ["api", "models"]:  # model_info / repo_info: /api/models/ORG/NAME[/revision/REV]
                    repo = "/".join(parts[2:4])
                    if repo not in hub.repos:
                        return self.send_error(404)
                    siblings = [{"rfilename": name} for name in hub.repos[repo]]
                    return self.send(json.dumps({"id": repo, "modelId": repo, "sha": COMMIT, "siblings": siblings}).encode(),
                                     "application/json", body)
                if len(parts) >= 5 and parts[2] == "resolve":  # /ORG/NAME/resolve/REV/FILE
                    repo, name = "/".join(parts[:2]), "/".join(parts[4:])
                    data = hub.repos.get(repo, {}).get(name)
                    if data is None:
                        return self.send_error(404)
                    if body:
                        hub.fetched.append((repo, name))
                    return self.send(data, "application/octet-stream", body, {"ETag": f'"{hashlib.sha256(data).hexdigest()}"',
                                                                               "X-Repo-Commit": COMMIT})
                self.send_error(404)

            def send(self, data: bytes, kind: str, body: bool, headers: dict[str, str] | None = None) -> None:
                self.send_response(200)
                self.send_header("Content-Type", kind)
                self.send_header("Content-Length", str(len(data)))
                for key, value in (headers or {}).items():
                    self.send_header(key, value)
                self.end_headers()
                if body:
                    self.wfile.write(data)

        return Handler


@contextmanager
def serving(repos: dict[str, dict[str, bytes]]) -> Iterator[tuple[str, StandInHub]]:
    hub = StandInHub(repos)
    server = ThreadingHTTPServer(("127.0.0.1", 0), hub.handler())
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", hub
    finally:
        server.shutdown()
        server.server_close()
