"""Accuracy of torch, zsc fp32, int8-dynamic and int8 on every shared dataset (make bench-accuracy).

    python benchmarks/accuracy.py            # 1,000 NLI pairs per set, 300 rows per zsc set
    python benchmarks/accuracy.py --quick    # tiny sizes for the smoke test

Writes benchmarks/results/<date>-<host>-accuracy.json (and .md); `make bench` folds it into its report.
"""

from __future__ import annotations

import datetime
import json
from pathlib import Path

import contenders as C
import numpy as np
import report
import results_io as R
import workloads as W
from metrics import label_phrase, macro_f1, micro_f1, read_jsonl
from tqdm.auto import tqdm

TEMPLATE = "This example is {}."
MULTI_LABEL_THRESHOLD = 0.5


class NliRunners:
    """3-way NLI logits from torch (the HF model) and from zsc model directories."""

    def __init__(self, threads: int):
        import torch
        from transformers import AutoModelForSequenceClassification, AutoTokenizer

        torch.set_num_threads(threads)
        self.torch_model = AutoModelForSequenceClassification.from_pretrained(C.MINILM).eval()
        self.tokenizer = AutoTokenizer.from_pretrained(C.MINILM)
        self.threads = threads

    def torch_predictions(self, premises: list[str], hypotheses: list[str]) -> list[str]:
        import torch

        out = []
        with torch.inference_mode():
            for i in range(0, len(premises), 32):
                batch = self.tokenizer(premises[i : i + 32], hypotheses[i : i + 32], truncation="only_first", padding=True, return_tensors="pt")
                out += self.torch_model(**batch).logits.argmax(-1).tolist()
        return [self.torch_model.config.id2label[i] for i in out]

    def zsc_predictions(self, model_dir: Path, premises: list[str], hypotheses: list[str]) -> list[str]:
        from zsc.engine import ZeroShotClassifier

        classifier = ZeroShotClassifier.from_pretrained(model_dir, threads=self.threads)
        logits = classifier.logits(classifier.encoder.zipped_pairs(premises, hypotheses))
        names = classifier.model_dir.manifest.id2label
        return [names[int(i)] for i in logits.argmax(1)]


def main() -> None:
    parser = R.parser(__doc__)
    parser.add_argument("--nli-pairs", type=int, default=1000)
    parser.add_argument("--rows", type=int, default=300, help="rows per zero-shot dataset")
    parser.add_argument("--agreement-texts", type=int, default=1000)
    args = parser.parse_args()
    if args.quick:
        args.nli_pairs, args.rows, args.agreement_texts = 16, 8, 8

    models = {"zsc fp32": C.zsc_fp32_dir(), "zsc int8-dynamic": C.zsc_dynamic_int8_dir(), "zsc int8": C.DEFAULT_MODEL}
    torch_name = "transformers torch"
    tasks: dict[str, dict[str, dict[str, float]]] = {}
    nli = NliRunners(args.threads)
    nli_files = sorted(W.NLI_DATA.glob("*.jsonl"))
    zsc_sets = sorted(p for p in W.ZSC_DATA.iterdir() if p.is_dir())
    with tqdm(total=len(nli_files) + len(zsc_sets) + 1, desc="accuracy", unit="set") as bar:
        for path in nli_files:
            rows = read_jsonl(path, args.nli_pairs)
            premises, hypotheses, gold = [r["premise"] for r in rows], [r["hypothesis"] for r in rows], [r["label"] for r in rows]
            predictions = {torch_name: nli.torch_predictions(premises, hypotheses)}
            for name, directory in models.items():
                predictions[name] = nli.zsc_predictions(directory, premises, hypotheses)
            tasks[f"nli/{path.stem}"] = {n: {"accuracy": float(np.mean([p == g for p, g in zip(pred, gold)]))} for n, pred in predictions.items()}
            bar.update()

        pipe = C.torch_pipeline(args.threads, 32)
        zsc_contenders = {name: C.zsc(d, args.threads, name.split()[-1]) for name, d in models.items()}
        everyone = {torch_name: pipe} | zsc_contenders
        for folder in zsc_sets:
            rows = read_jsonl(folder / "test.jsonl", args.rows)
            raw_labels = json.loads((folder / "labels.json").read_text())
            phrases = [label_phrase(l) for l in raw_labels]
            to_raw = dict(zip(phrases, raw_labels))
            texts = [r["text"] for r in rows]
            multi = "labels" in rows[0]
            tasks[f"zsc/{folder.name}"] = {}
            for name, contender in everyone.items():
                if multi:
                    results = contender.classify(texts, phrases, multi_label=True)
                    chosen = [{to_raw[p["label"]] for p in r if p["score"] >= MULTI_LABEL_THRESHOLD} for r in results]
                    tasks[f"zsc/{folder.name}"][name] = {"micro_f1": micro_f1([set(r["labels"]) for r in rows], chosen)}
                else:
                    predicted = [to_raw[r[0]["label"]] for r in contender.classify(texts, phrases)]
                    gold = [r["label"] for r in rows]
                    tasks[f"zsc/{folder.name}"][name] = {
                        "accuracy": float(np.mean([p == g for p, g in zip(predicted, gold)])),
                        "macro_f1": macro_f1(gold, predicted, raw_labels),
                    }
            bar.update()

        texts, labels = W.ag_news(args.agreement_texts)
        reference = pipe.classify(texts, labels)
        agreement = {}
        for name, contender in zsc_contenders.items():
            ours = contender.classify(texts, labels)
            top1 = np.mean([a[0]["label"] == b[0]["label"] for a, b in zip(reference, ours)])
            delta = max(abs(dict((p["label"], p["score"]) for p in a)[l] - dict((p["label"], p["score"]) for p in b)[l]) for a, b in zip(reference, ours) for l in labels)
            agreement[name] = {"top1_agreement": float(top1), "max_abs_score_diff": float(delta)}
        bar.update()

    from zsc.engine.cpu import flags_summary

    result = {
        "date": datetime.datetime.now().isoformat(timespec="seconds"),
        "cpu_flags": flags_summary(),  # where the agreement and accuracy figures were measured
        "kernels": R.kernels(),
        "template": TEMPLATE,
        "note": f"first {args.nli_pairs} pairs of each NLI set (3-way argmax); first {args.rows} rows of each zero-shot set; "
                f"multi-label: multi_label=True, threshold {MULTI_LABEL_THRESHOLD}",
        "tasks": tasks,
        "agreement_texts": args.agreement_texts,
        "agreement_with_torch": agreement,
        "quick": args.quick,
    }
    R.write_results(R.results_base(args.out, "accuracy", args.quick), result, report.accuracy_markdown(result))


if __name__ == "__main__":
    main()
