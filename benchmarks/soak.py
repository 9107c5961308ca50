"""Soak the HTTP server: many requests from 32 clients, a third of them malformed or oversized.

    python benchmarks/soak.py [--requests 10000] [--clients 32] [--quick]

Phase 1 (default queue bound): --requests requests on loopback, every third one malformed or
oversized (invalid JSON, non-UTF-8, deep nesting, wrong types, missing labels, bad template, too
many labels, a text or a body over the limits). Reports the status codes (goal: no 5xx except
503), p50/p99 latency of the valid requests, the server's RSS after warm-up, at the end and at
its peak (goal: growth after warm-up <= 10%), and whether a probe request sent now and then under
load scores exactly as it did alone. Phase 2: a small queue bound (--small-queue pairs) under the
same clients, for the share of 503s. Phase 3 (--hostile-requests, cache on): the costly kinds
that round two of the hardening bounds, mixed with valid requests: windowed requests past the
per-request caps (long texts in 64-token windows, "中" in 8-token windows), 64-text embedding
requests (work before the queue), and unique labels padded with 200 KB of spaces (cache keys);
goal: no 5xx but 503, RSS bounded. Phase 4 (--fair-seconds per scenario): fairness under valid
heavy load: two clients each sending max-size requests (64 texts x 64 labels x ~450 words) in a
loop, then six sending cheap 64 x 64 requests, while a light probe (1 text, 2 labels) is sent
every 0.25 s; reports the probe's statuses and p50/p99 (goal: every probe 200, p99 <= 2 s on
2 cores). Writes results/<date>-<host>-soak.{json,md}.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import sys
import time
from collections import Counter
from collections.abc import Iterator

import numpy as np
import results_io as R
import workloads as W
from live_server import free_port, memory_mb, start_server, wait_ready
from tqdm import tqdm


def malformed_bodies() -> dict[str, bytes]:
    """Bodies the server must refuse with a 4xx, by kind (the server's default limits)."""
    labels = {"candidate_labels": ["a", "b"]}
    return {
        "invalid JSON": b'{"inputs": "x", "parameters": ',
        "not UTF-8": b'{"inputs": "\xff\xfe", "parameters": {"candidate_labels": ["a"]}}',
        "deep nesting": b"[" * 5000 + b"]" * 5000,
        "wrong types": json.dumps({"inputs": 123, "parameters": {"candidate_labels": [1, None]}}).encode(),
        "no labels": json.dumps({"inputs": "a text", "parameters": {}}).encode(),
        "bad template": json.dumps({"inputs": "a text", "parameters": labels | {"hypothesis_template": "no slot"}}).encode(),
        "too many labels": json.dumps({"inputs": "a text", "parameters": {"candidate_labels": [f"l{i}" for i in range(65)]}}).encode(),
        "text too long": json.dumps({"inputs": "word " * 4001, "parameters": labels}).encode(),
        "body too large": json.dumps({"inputs": "x" * 1_100_000, "parameters": labels}).encode(),
    }


def hostile_stream(count: int, texts: list[str], labels: list[str], probe: bytes, probe_every: int) -> Iterator[tuple[str, bytes]]:
    """Phase 3: the costly kinds in turn with valid requests; padded labels are unique, so each is a new cache key."""
    many = [f"label {i}" for i in range(64)]
    kinds = itertools.cycle(["windows past the caps", "tiny windows", "embedding, 64 texts", "padded cache key", "valid"])
    valid = 0
    for i, kind in zip(range(count), kinds):
        if kind == "windows past the caps":
            body = {"inputs": ["a " * 7000] * 64, "parameters": {"candidate_labels": many, "long_text": "mean", "prefilter_top_k": None}}
        elif kind == "tiny windows":
            body = {"inputs": "中" * 19_000, "parameters": {"candidate_labels": many[:32], "long_text": "max", "window_tokens": 8,
                                                              "prefilter_top_k": None}}
        elif kind == "embedding, 64 texts":
            body = {"inputs": [texts[(i + j) % len(texts)] for j in range(64)], "parameters": {"candidate_labels": labels, "scoring": "embedding"}}
        elif kind == "padded cache key":
            body = {"inputs": texts[i % len(texts)], "parameters": {"candidate_labels": f"a{i}" + " " * 200_000 + ",b"}}
        elif valid % probe_every == probe_every - 1:
            valid += 1
            yield "probe", probe
            continue
        else:
            valid += 1
            body = {"inputs": texts[i % len(texts)], "parameters": {"candidate_labels": labels}}
        yield kind, json.dumps(body).encode()


def request_stream(count: int, texts: list[str], labels: list[str], probe: bytes, with_malformed: bool,
                   probe_every: int) -> Iterator[tuple[str, bytes]]:
    """(kind, body) for each request: "valid", "probe" (every ``probe_every``-th valid one), or
    a malformed kind for every third."""
    bad = itertools.cycle(malformed_bodies().items())
    valid = 0
    for i in range(count):
        if with_malformed and i % 3 == 2:
            yield next(bad)
        elif valid % probe_every == probe_every - 1:
            valid += 1
            yield "probe", probe
        else:
            text = texts[valid % len(texts)]
            valid += 1
            yield "valid", json.dumps({"inputs": text, "parameters": {"candidate_labels": labels}}).encode()


def as_scores(body: bytes) -> dict[str, float]:
    return {p["label"]: p["score"] for p in json.loads(body)}


async def drive(client, base: str, requests: list[tuple[str, bytes]], clients: int, on_done=None) -> dict:
    """Send every request from ``clients`` concurrent workers; statuses, latencies, probe answers."""
    pending = iter(requests)
    statuses: Counter[str] = Counter()
    by_kind: dict[str, Counter[int]] = {}
    latencies: list[float] = []
    probes: list[dict[str, float]] = []

    async def worker() -> None:
        for kind, body in pending:
            start = time.perf_counter()
            headers = {"content-type": "application/json"} | ({"x-use-cache": "false"} if kind == "probe" else {})
            response = await client.post(base + "/models/default", content=body, headers=headers)
            elapsed = time.perf_counter() - start
            statuses[str(response.status_code)] += 1
            by_kind.setdefault(kind, Counter())[response.status_code] += 1
            if kind in ("valid", "probe") and response.status_code == 200:
                latencies.append(elapsed)
                if kind == "probe":
                    probes.append(as_scores(response.content))
            if on_done is not None:
                on_done()

    await asyncio.gather(*(worker() for _ in range(clients)))
    return {"statuses": dict(statuses), "by_kind": {k: dict(v) for k, v in by_kind.items()}, "probes": probes,
            "valid_ms": [t * 1000 for t in latencies]}


def bad_5xx(statuses: dict[str, int]) -> int:
    return sum(n for code, n in statuses.items() if code.startswith("5") and code != "503")


async def phase(args, requests: list[tuple[str, bytes]], probe: bytes, queue_pairs: int | None, label: str,
                cache: bool = False) -> dict:
    import httpx

    port = free_port()
    # The per-request cap must fit the queue; the probe bypasses the cache so it is always computed.
    # The per-request cap follows the queue (--max-pairs defaults to what a smaller queue admits).
    options = ["--max-queue-pairs", str(queue_pairs)] if queue_pairs else []
    options += ["--cache-entries", "1024"] if cache else []
    server = start_server(port, args.threads, *options)
    base = f"http://127.0.0.1:{port}"
    try:
        async with httpx.AsyncClient(timeout=120, limits=httpx.Limits(max_connections=args.clients + 8)) as client:
            await wait_ready(client, base)
            alone = as_scores((await client.post(base + "/models/default", content=probe, headers={"content-type": "application/json", "x-use-cache": "false"})).content)
            # Ten slices; RSS after each, so a plateau can be told from a leak.
            slices = [requests[i * len(requests) // 10 : (i + 1) * len(requests) // 10] for i in range(10)]
            parts, trajectory = [], []
            with tqdm(total=len(requests), desc=label, unit="req") as bar:
                started = time.perf_counter()
                for part in slices:
                    parts.append(await drive(client, base, part, args.clients, bar.update))
                    trajectory.append(memory_mb(server.pid))
                wall = time.perf_counter() - started
            rss_end, rss_peak = memory_mb(server.pid), memory_mb(server.pid, "VmHWM")
    finally:
        server.terminate()
        server.wait(timeout=60)
    statuses: Counter[str] = Counter()
    by_kind: dict[str, Counter] = {}
    for part in parts:
        statuses.update(part["statuses"])
        for kind, counts in part["by_kind"].items():
            by_kind.setdefault(kind, Counter()).update({int(k): v for k, v in counts.items()})
    probes = [p for part in parts for p in part["probes"]]
    probe_diff = max((abs(p[name] - alone[name]) for p in probes for name in alone), default=float("nan"))
    rss_warm = trajectory[0]  # after the first tenth: the warm-up
    latencies = [ms for part in parts[1:] for ms in part["valid_ms"]] or [0.0]
    return {
        "requests": len(requests), "wall_s": wall, "requests_per_s": len(requests) / wall,
        "statuses": dict(statuses), "by_kind": {k: dict(v) for k, v in by_kind.items()},
        "bad_5xx": bad_5xx(dict(statuses)), "share_503": statuses.get("503", 0) / len(requests),
        "valid_p50_ms": float(np.percentile(latencies, 50)), "valid_p99_ms": float(np.percentile(latencies, 99)),
        "rss_after_warmup_mb": rss_warm, "rss_end_mb": rss_end, "rss_peak_mb": rss_peak,
        "rss_growth_after_warmup": (rss_end - rss_warm) / rss_warm,
        "rss_growth_second_half": (rss_end - trajectory[4]) / trajectory[4], "rss_trajectory_mb": trajectory,
        "probes_under_load": len(probes), "probe_max_abs_score_diff": probe_diff,
    }


HEAVY_TEXT = ("The committee reviewed the quarterly figures for markets, sport, science and world affairs, and each member "
              "read a long statement into the record before the vote was taken. ") * 16  # ~450 words


def heavy_bodies() -> dict[str, tuple[int, bytes]]:
    """Phase 4's heavy clients: (clients, body) per scenario, each body valid under the default limits."""
    labels = [f"topic number {i}" for i in range(64)]
    return {
        "two clients, max-size requests (64 x 64 x ~450 words)": (2, json.dumps(
            {"inputs": [f"{i}. {HEAVY_TEXT}" for i in range(64)], "parameters": {"candidate_labels": labels, "prefilter_top_k": None}}).encode()),
        "six clients, cheap 64 x 64 requests": (6, json.dumps(
            {"inputs": [f"short text {i}" for i in range(64)], "parameters": {"candidate_labels": labels, "prefilter_top_k": None}}).encode()),
    }


async def fairness_phase(args, clients: int, heavy: bytes, probe: bytes, seconds: float, label: str) -> dict:
    """Heavy clients in a loop; a light probe every 0.25 s for ``seconds`` once they are under way."""
    import httpx

    port = free_port()
    server = start_server(port, args.threads)
    base = f"http://127.0.0.1:{port}"
    heavy_statuses: Counter[int] = Counter()
    probe_statuses: Counter[int] = Counter()
    latencies: list[float] = []
    headers = {"content-type": "application/json", "x-use-cache": "false"}
    try:
        async with httpx.AsyncClient(timeout=900, limits=httpx.Limits(max_connections=clients + 4)) as client:
            await wait_ready(client, base)

            async def heavy_client() -> None:
                while True:
                    response = await client.post(base + "/models/default", content=heavy, headers=headers)
                    heavy_statuses[response.status_code] += 1
                    if response.status_code == 503:
                        await asyncio.sleep(0.05)

            workers = [asyncio.ensure_future(heavy_client()) for _ in range(clients)]
            await asyncio.sleep(3)  # the heavy requests fill the queue
            with tqdm(total=int(seconds / 0.25), desc=label, unit="probe") as bar:
                deadline = time.perf_counter() + seconds
                while time.perf_counter() < deadline:
                    started = time.perf_counter()
                    response = await client.post(base + "/models/default", content=probe, headers=headers)
                    latencies.append(time.perf_counter() - started)
                    probe_statuses[response.status_code] += 1
                    bar.update()
                    await asyncio.sleep(max(0.0, 0.25 - (time.perf_counter() - started)))
            for worker in workers:
                worker.cancel()
            await asyncio.gather(*workers, return_exceptions=True)
    finally:
        server.terminate()
        server.wait(timeout=60)
    served = latencies or [0.0]
    return {"heavy_clients": clients, "probes": len(latencies), "probe_statuses": dict(probe_statuses),
            "probe_p50_ms": float(np.percentile(served, 50)) * 1000, "probe_p99_ms": float(np.percentile(served, 99)) * 1000,
            "probe_max_ms": max(served) * 1000, "heavy_statuses": dict(heavy_statuses)}


def fairness_report(results: dict) -> list[str]:
    rows = ["", "Phase 4, fairness: a light probe (1 text x 2 labels) every 0.25 s while valid heavy clients saturate the server:", "",
            "| heavy load | probes | probe statuses | probe p50 ms | probe p99 ms | probe max ms | heavy statuses (finished while probing) |",
            "|---|---|---|---|---|---|---|"]
    for name, r in results.get("fairness", {}).items():
        probe_codes = ", ".join(f"{c}: {n}" for c, n in sorted(r["probe_statuses"].items()))
        heavy_codes = ", ".join(f"{c}: {n}" for c, n in sorted(r["heavy_statuses"].items())) or "none finished"
        rows.append(f"| {name} | {r['probes']} | {probe_codes} | {r['probe_p50_ms']:.0f} | {r['probe_p99_ms']:.0f} | "
                    f"{r['probe_max_ms']:.0f} | {heavy_codes} |")
    return rows


def report(results: dict, args) -> str:
    rows = ["| phase | requests | req/s | statuses | 5xx other than 503 | 503 share | valid p50 ms | valid p99 ms | RSS after warm-up MB | RSS end MB | growth after warm-up | growth over 2nd half | peak RSS MB | probe: max score diff alone vs under load (n) |",
            "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|"]
    for name, r in results["phases"].items():
        codes = ", ".join(f"{c}: {n}" for c, n in sorted(r["statuses"].items()))
        rows.append(f"| {name} | {r['requests']} | {r['requests_per_s']:.0f} | {codes} | {r['bad_5xx']} | {r['share_503']:.1%} | "
                    f"{r['valid_p50_ms']:.0f} | {r['valid_p99_ms']:.0f} | {r['rss_after_warmup_mb']:.0f} | {r['rss_end_mb']:.0f} | "
                    f"{r['rss_growth_after_warmup']:+.1%} | {r['rss_growth_second_half']:+.1%} | {r['rss_peak_mb']:.0f} | {r['probe_max_abs_score_diff']:.1e} ({r['probes_under_load']}) |")
    trajectories = ["", "RSS (MB) after each tenth of the requests:", ""] + [
        f"- {name}: {', '.join(f'{m:.0f}' for m in r['rss_trajectory_mb'])}" for name, r in results["phases"].items()]
    kinds = ["", "Status codes by request kind (phases 1 and 3):", "", "| phase | kind | statuses |", "|---|---|---|"]
    for name in [n for n in ("1: mixed, default queue bound", "3: hostile costs, cache on") if n in results["phases"]]:
        for kind, counts in sorted(results["phases"][name]["by_kind"].items()):
            kinds.append(f"| {name[0]} | {kind} | {', '.join(f'{c}: {n}' for c, n in sorted(counts.items()))} |")
    head = (f"### Soak: {args.clients} clients on loopback, embedded int8 model, 1 AG News text x 4 labels per valid request, "
            f"cache off, {args.threads} threads (CPU flags: {results['cpu_flags']})")
    if not results["phases"]:
        head = f"### Soak, phase 4 (fairness) alone: embedded int8 model, {args.threads} threads (CPU flags: {results['cpu_flags']})"
    phases = [*rows, *trajectories, *kinds] if results["phases"] else []
    return "\n".join([head, "", *phases, *fairness_report(results)]) + "\n"


def main() -> None:
    parser = R.parser(__doc__)
    parser.add_argument("--requests", type=int, default=10_000, help="requests in phase 1")
    parser.add_argument("--small-queue-requests", type=int, default=2_000, help="requests in phase 2")
    parser.add_argument("--hostile-requests", type=int, default=1_500, help="requests in phase 3")
    parser.add_argument("--clients", type=int, default=32)
    parser.add_argument("--small-queue", type=int, default=16, help="phase 2's --max-queue-pairs")
    parser.add_argument("--probe-every", type=int, default=50, help="every Nth valid request is the probe")
    parser.add_argument("--fair-seconds", type=float, default=60, help="phase 4: seconds of probing per heavy scenario")
    parser.add_argument("--phases", default="1,2,3,4", help="which phases to run (comma-separated)")
    args = parser.parse_args()
    if args.quick:
        args.requests, args.small_queue_requests, args.hostile_requests, args.clients, args.probe_every = 60, 30, 30, 8, 5
        args.fair_seconds = 3
    from zsc.engine.cpu import flags_summary

    texts, labels = W.ag_news(2000)
    probe = json.dumps({"inputs": texts[-1], "parameters": {"candidate_labels": labels}}).encode()
    mixed = list(request_stream(args.requests, texts[:-1], labels, probe, True, args.probe_every))
    valid = list(request_stream(args.small_queue_requests, texts[:-1], labels, probe, False, args.probe_every))
    hostile = list(hostile_stream(args.hostile_requests, texts[:-1], labels, probe, args.probe_every))
    chosen = set(args.phases.split(","))
    phases = {
        "1: mixed, default queue bound": lambda: phase(args, mixed, probe, None, "phase 1"),
        f"2: valid only, queue bound {args.small_queue} pairs": lambda: phase(args, valid, probe, args.small_queue, "phase 2"),
        "3: hostile costs, cache on": lambda: phase(args, hostile, probe, None, "phase 3", cache=True),
    }
    results: dict = {"cpu_flags": flags_summary(), "phases": {name: asyncio.run(run()) for name, run in phases.items() if name[0] in chosen}}
    if "4" in chosen:
        light = json.dumps({"inputs": texts[-1], "parameters": {"candidate_labels": labels[:2]}}).encode()
        results["fairness"] = {name: asyncio.run(fairness_phase(args, clients, body, light, args.fair_seconds, f"phase 4: {clients} heavy"))
                               for name, (clients, body) in heavy_bodies().items()}
    R.write_results(R.results_base(args.out, "soak", args.quick), results, report(results, args))
    if any(p["bad_5xx"] for p in results["phases"].values()):
        sys.exit("the server answered with a 5xx other than 503")
    if any(set(r["probe_statuses"]) != {200} for r in results.get("fairness", {}).values()):
        sys.exit("a light probe was refused while heavy clients ran")


if __name__ == "__main__":
    main()
