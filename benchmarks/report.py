"""Turn a results dict into Markdown tables and a PNG plot."""

from __future__ import annotations

from pathlib import Path
from typing import Any

TORCH = "transformers torch"


def _torch_name(section: dict[str, Any]) -> str:
    return next(name for name in section if name.startswith(TORCH))


def _throughput_table(title: str, section: dict[str, Any]) -> list[str]:
    base = section[_torch_name(section)]["pairs_per_s"]["median"]
    optimum_int8 = section.get("optimum ORT int8 + pipeline", {}).get("pairs_per_s", {}).get("median")
    lines = [f"### {title}", "", "| contender | pairs/s (median) | spread (min–max) | texts/s | × torch | × optimum int8 |", "|---|---|---|---|---|---|"]
    for name, entry in section.items():
        rate = entry["pairs_per_s"]
        vs_optimum = f"{rate['median'] / optimum_int8:.2f}" if optimum_int8 else "–"
        lines.append(
            f"| {name} | {rate['median']:.1f} | {rate['min']:.1f}–{rate['max']:.1f} | {entry['texts_per_s']['median']:.1f} "
            f"| {rate['median'] / base:.2f} | {vs_optimum} |"
        )
    return lines + [""]


def markdown(results: dict[str, Any]) -> str:
    lines = [
        f"# zsc benchmark — {results['date']} on {results['host']} (CPU flags: {results['machine'].get('cpu_flags', 'not recorded')}; kernels: {results['machine'].get('kernels', 'native')})",
        "",
        f"Model: {results['model']} for every contender; {results['machine']['threads']} threads pinned for torch and onnxruntime; "
        f"contenders interleaved over {results['settings']['rounds']} rounds; median and spread reported."
        + (" **Quick smoke run: sizes too small to mean anything.**" if results.get("quick") else ""),
        "",
        f"Best torch pipeline batch size (pairs/s by batch): {results['torch_batch_search_pairs_per_s']}",
        "",
    ]
    lines += _throughput_table("Throughput: AG News × 4 labels", results["throughput_ag_news_4_labels"])
    lines += _throughput_table("Throughput: 50 labels", results["throughput_50_labels"])
    lines += _throughput_table("Long input (near 512 tokens) × 5 labels", results["long_input_5_labels"])
    lines += ["### Latency: one ~25-word text × 3 labels (each contender timed in its own block)", "", "| contender | p50 ms | p95 ms | p99 ms |", "|---|---|---|---|"]
    for name, entry in results["latency_1_text_3_labels"].items():
        lines.append(f"| {name} | {entry['p50_ms']:.1f} | {entry['p95_ms']:.1f} | {entry['p99_ms']:.1f} |")
    runs = next(iter(results["cold_start"].values())).get("runs", 1)
    lines += ["", f"### Cold start (fresh process: import + load + first result; median of {runs} runs, peak RSS the highest)", "",
              "| stack | first result s (median) | spread | process wall s | peak RSS MB |", "|---|---|---|---|---|"]
    for name, entry in results["cold_start"].items():
        low, high = entry.get("first_result_s_spread", [entry["first_result_s"]] * 2)
        lines.append(f"| {name} | {entry['first_result_s']:.2f} | {low:.2f}–{high:.2f} | {entry['process_wall_s']:.2f} | {entry['peak_rss_mb']:.0f} |")
    lines += ["", "### Install size", "", "| stack | MB |", "|---|---|"]
    lines += [f"| {name} | {mb:.0f} |" for name, mb in results["install_size_mb"].items()]
    eff = results["efficiency"]
    lines += [
        "", "### Efficiency (AG News × 4 labels)", "",
        f"{eff['tokens_per_pair']:.1f} tokens/pair × {eff['flops_per_token'] / 1e6:.1f} MFLOP/token. onnxruntime MatMul peak at the "
        f"model's shapes on this machine: fp32 {eff['matmul_peak']['fp32_gops']:.0f} GFLOP/s, int8 {eff['matmul_peak']['int8_gops']:.0f} GOP/s. "
        f"First-token-pruned graphs skip {eff.get('pruned_flops_per_token', 0) / 1e6:.1f} MFLOP for every token but the first; "
        "their achieved rate counts only the work they do.",
        "", "| contender | first-token pruned graph | achieved GOP/s | fraction of its MatMul peak |", "|---|---|---|---|",
    ]
    for name, entry in eff["contenders"].items():
        pruned = "yes" if entry.get("first_token_only") else "no"
        lines.append(f"| {name} | {pruned} | {entry['achieved_gops']:.0f} | {entry['fraction_of_matmul_peak']:.0%} |")
    if "accuracy" in results:
        lines += ["", accuracy_markdown(results["accuracy"])]
    return "\n".join(lines) + "\n"


def accuracy_markdown(accuracy: dict[str, Any]) -> str:
    contenders = list(next(iter(accuracy["tasks"].values())))
    machine = f"; CPU flags: {accuracy['cpu_flags']}" if "cpu_flags" in accuracy else ""  # results written before it was recorded lack it
    lines = ["### Accuracy", "", f"Template {accuracy['template']!r}; labels from each labels.json with _ and / as spaces; {accuracy['note']}{machine}", ""]
    lines += ["| dataset | metric | " + " | ".join(contenders) + " |", "|---|---|" + "---|" * len(contenders)]
    for task, by_contender in accuracy["tasks"].items():
        for metric in next(iter(by_contender.values())):
            lines.append(f"| {task} | {metric} | " + " | ".join(f"{by_contender[c][metric]:.4f}" for c in contenders) + " |")
    agreement = accuracy.get("agreement_with_torch", {})
    if agreement:
        lines += ["", f"Agreement with the torch pipeline on {accuracy['agreement_texts']} AG News texts:", "", "| contender | top-1 agreement | max abs Δscore |", "|---|---|---|"]
        lines += [f"| {name} | {a['top1_agreement']:.4f} | {a['max_abs_score_diff']:.2e} |" for name, a in agreement.items()]
    return "\n".join(lines) + "\n"


def plot(results: dict[str, Any], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    has_accuracy = "accuracy" in results
    fig, axes = plt.subplots(1, 2 if has_accuracy else 1, figsize=(15 if has_accuracy else 8, 5), squeeze=False)
    section = results["throughput_ag_news_4_labels"]
    names = list(section)
    medians = [section[n]["pairs_per_s"]["median"] for n in names]
    errors = [[m - section[n]["pairs_per_s"]["min"] for n, m in zip(names, medians)], [section[n]["pairs_per_s"]["max"] - m for n, m in zip(names, medians)]]
    ax = axes[0][0]
    colors = ["#999999" if n.startswith(TORCH) else "#6a9fd4" if n.startswith("optimum") else "#e8743b" for n in names]
    bars = ax.barh(names, medians, xerr=errors, color=colors)
    base = medians[0]
    for bar, value, upper in zip(bars, medians, errors[1]):
        ax.text(value + upper, bar.get_y() + bar.get_height() / 2, f"  {value:.0f}/s  ({value / base:.1f}×)", va="center")
    ax.set_xlabel("pairs per second (AG News × 4 labels, median, min–max)")
    ax.set_title(f"Throughput, {results['model']}, {results['machine']['threads']} threads")
    ax.invert_yaxis()
    ax.set_xlim(0, max(medians) * 1.35)
    if has_accuracy:
        accuracy = results["accuracy"]["tasks"]
        tasks = list(accuracy)
        contenders = list(next(iter(accuracy.values())))
        ax = axes[0][1]
        width = 0.8 / len(contenders)
        for i, contender in enumerate(contenders):
            values = [next(iter(accuracy[t][contender].values())) for t in tasks]
            ax.bar([x + i * width for x in range(len(tasks))], values, width, label=contender)
        ax.set_xticks([x + width * (len(contenders) - 1) / 2 for x in range(len(tasks))])
        ax.set_xticklabels(tasks, rotation=30, ha="right")
        ax.set_ylabel("accuracy (micro-F1 for multi-label)")
        ax.set_ylim(0, 1.0)
        ax.set_title("Accuracy per dataset")
        ax.legend(loc="upper right", ncol=len(contenders), fontsize="small")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
