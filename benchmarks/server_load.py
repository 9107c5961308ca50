"""Load the HTTP server on loopback: 1, 8 and 32 concurrent clients, dynamic batching on and off.

    python benchmarks/server_load.py [--requests 240] [--quick]

Each request is one AG News text x 4 labels, all texts distinct, cache disabled. Bounded: every
level sends exactly --requests requests to 127.0.0.1 and stops. Writes results/<date>-<host>-server.{json,md}.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
from pathlib import Path

import numpy as np
import results_io as R
import workloads as W
from live_server import free_port, memory_mb, start_server, wait_ready

LEVELS = (1, 8, 32)


async def level(client, base: str, texts: list[str], labels: list[str], concurrency: int) -> dict:
    queue: asyncio.Queue[str] = asyncio.Queue()
    for text in texts:
        queue.put_nowait(text)
    latencies: list[float] = []
    errors = 0

    async def worker() -> None:
        nonlocal errors
        while not queue.empty():
            text = queue.get_nowait()
            start = time.perf_counter()
            response = await client.post(base + "/models/default", json={"inputs": text, "parameters": {"candidate_labels": labels}})
            latencies.append(time.perf_counter() - start)
            errors += response.status_code != 200

    start = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    wall = time.perf_counter() - start
    ms = np.asarray(latencies) * 1000
    return {"requests": len(texts), "errors": errors, "requests_per_s": len(texts) / wall, "pairs_per_s": len(texts) * len(labels) / wall,
            "p50_ms": float(np.percentile(ms, 50)), "p95_ms": float(np.percentile(ms, 95)), "p99_ms": float(np.percentile(ms, 99))}


async def run(args: argparse.Namespace) -> dict:
    import httpx

    count = args.requests * (len(LEVELS) + 1)
    if args.texts_file:  # a GPU host has no ../shared: the texts travel with the command
        texts, labels = W.texts_file(args.texts_file, count), W.AG_NEWS_LABELS
    else:
        texts, labels = W.ag_news(count)
    results: dict = {}
    for batching in (True, False):
        port = free_port()
        server = start_server(port, args.threads, "--max-wait-ms", str(args.max_wait_ms), "--provider", args.provider,
                              *([] if batching else ["--no-batching"]))
        base = f"http://127.0.0.1:{port}"
        try:
            async with httpx.AsyncClient(timeout=120, limits=httpx.Limits(max_connections=64)) as client:
                await wait_ready(client, base)
                results["model"] = (await client.get(base + "/models")).json()["models"][0]
                await level(client, base, texts[:8], labels, 1)  # warm-up
                mode = {}
                for i, concurrency in enumerate(LEVELS, start=1):
                    chunk = texts[i * args.requests : (i + 1) * args.requests]
                    mode[str(concurrency)] = await level(client, base, chunk, labels, concurrency)
                mode["server_peak_rss_mb"] = memory_mb(server.pid, "VmHWM")
                results["batching on" if batching else "batching off"] = mode
        finally:
            server.terminate()
            server.wait(timeout=30)
    return results


def main() -> None:
    parser = R.parser(__doc__)
    parser.add_argument("--requests", type=int, default=240, help="requests per concurrency level")
    parser.add_argument("--max-wait-ms", type=float, default=0.0, help="the server's batching wait")
    parser.add_argument("--provider", default="auto", help="the server's --provider (on a GPU host: auto runs the fp16 graph on CUDA)")
    parser.add_argument("--texts-file", type=Path, help="JSON lines with a 'text' field (default: ../shared AG News)")
    args = parser.parse_args()
    if args.quick:
        args.requests = 8
    from zsc.engine.cpu import flags_summary

    modes = asyncio.run(run(args))
    model = modes.pop("model")
    results = {"cpu_flags": flags_summary(), "model": model, **modes}
    lines = [f"### Server load on loopback (embedded model, {model['precision']} on {model['compute_type']}, batch "
             f"{model['batch_size']}, 1 text x 4 labels per request, {args.requests} requests per level, "
             f"cache off, max wait {args.max_wait_ms} ms; CPU flags: {results['cpu_flags']})", "",
             "| mode | clients | req/s | pairs/s | p50 ms | p95 ms | p99 ms | errors | server peak RSS MB |", "|---|---|---|---|---|---|---|---|---|"]
    for mode, levels in modes.items():
        for concurrency in map(str, LEVELS):
            e = levels[concurrency]
            lines.append(f"| {mode} | {concurrency} | {e['requests_per_s']:.1f} | {e['pairs_per_s']:.1f} | {e['p50_ms']:.0f} | {e['p95_ms']:.0f} | {e['p99_ms']:.0f} | {e['errors']} | {levels['server_peak_rss_mb']:.0f} |")
    markdown = "\n".join(lines) + "\n"
    R.write_results(R.results_base(args.out, "server", args.quick), results, markdown)
    if any(levels[c]["errors"] for levels in modes.values() for c in map(str, LEVELS)):
        sys.exit("server answered with errors")


if __name__ == "__main__":
    main()
