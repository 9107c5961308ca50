"""Long texts: truncation (the pipeline) against windows, per scoring mode and window size.

    python benchmarks/long_text.py [--rows 300] [--per-topic 8] [--quick]

Workloads (all built from ../shared/data, no downloads):
1. imdb sentiment (positive/negative): --rows reviews drawn with a fixed seed, all of them, and
   the long ones alone (over 400 words, where truncation loses text).
2. Needle documents: ~650 words of filler with one on-topic sentence; is the topic found?
   - film reviews + a sentence at the end on sports/finance/cooking/weather: the kind the first
     window defaults were chosen on;
   - AG News business articles + a sentence on music/medicine/travel/space/law at the start, the
     middle or the end: held out in the first round. Its filler turned out to carry those topics
     itself (airlines, drug makers, court rulings), so it is kept as built ("as first built") and
     built again from the business articles that mention none of them ("clean filler": a keyword
     list per topic, fixed before any result was read);
   - SNLI image captions (filtered the same way) + a sentence on politics/chemistry/computers/
     religion/agriculture; this kind and the clean business kind chose the windowed hybrid;
   - MNLI premises (letters, speech, reports; filtered) + a sentence on fashion/military/wildlife/
     education/cars: written after the rule was chosen and run once to confirm it (it did not:
     see the README); then dair_emotion tweets (filtered, no punctuation) + a sentence on
     mathematics/history/architecture/photography/geology, a second confirmation.
   - ANLI's Wikipedia paragraphs + a sentence on gardening/astronomy/banking/medicine/cooking, and
     goemotions Reddit comments + a sentence on sports/technology/health/food/travel: both held out
     in the third round (written before it looked at any figure, run once after its rule was chosen).
   Needles in the middle go at the next sentence end, so they never split a filler sentence.
Every window size's logits are computed once through the public API (prepare -> logits ->
finish); the scorings and aggregations of the same pairs reuse them. Accuracy, found per topic,
and NLI pairs per text. Writes results/<date>-<host>-long.{json,md}.
"""

from __future__ import annotations

import json
import random
import re
from dataclasses import dataclass

import numpy as np
import results_io as R
import workloads as W
from tqdm import tqdm

DOCUMENT_WORDS = 650
PREVIOUS_RULE = "max, hybrid, 32, raw cosine (the previous rule)"  # recomputed by the bench from the same pairs
# (label of the row, long_text, window tokens, scoring); window None: the mode's default.
SETTINGS = [
    ("truncate", "truncate", None, "nli"),
    ("max, nli, 128 (the old default)", "max", 128, "nli"),
    ("max, nli, 32", "max", 32, "nli"),
    ("mean, nli, 64 (default for mean)", "mean", 64, "nli"),
    ("max, hybrid, 32 (default for max)", "max", 32, "hybrid"),
    (PREVIOUS_RULE, "max", 32, "hybrid"),
    ("max, hybrid, 128", "max", 128, "hybrid"),
    ("max, embedding, 32", "max", 32, "embedding"),
]


@dataclass
class NeedleKind:
    """Filler documents and one sentence per topic; ``avoid`` keeps filler that names none of the topics."""

    name: str
    needles: dict[str, str]
    avoid: str | None = None
    positions: tuple[str, ...] = ("end", "middle", "start")


FILM = NeedleKind("needle in film reviews (first tuning kind)", {
    "sports": "In the final minute the striker scored the winning goal and the football team lifted the trophy.",
    "finance": "The central bank raised interest rates and stock markets fell sharply across the world.",
    "cooking": "Simmer the onions in butter, add the garlic and tomatoes, and bake the dish for forty minutes.",
    "weather": "A heavy storm with strong winds and freezing rain is expected to hit the coast tonight.",
}, positions=("end",))
BUSINESS_TOPICS = {
    "music": "The orchestra played the symphony while the singer performed her new album on stage.",
    "medicine": "Doctors treated the patients with a new vaccine and the hospital reported fewer infections.",
    "travel": "The tourists boarded a flight to Rome and spent their holiday visiting museums and beaches.",
    "space": "The rocket launched the astronauts into orbit and the probe landed on the surface of Mars.",
    "law": "The judge ruled that the defendant was guilty and the court sentenced him to prison.",
}
BUSINESS_AVOID = (r"music\w*|songs?|album\w*|singers?|concerts?|band|ipod|drugs?\w*|health\w*|medic\w*|hospital\w*|patients?|"
                  r"vaccines?|fda|pharma\w*|doctors?|disease\w*|therap\w*|airlines?|airways|flights?|travel\w*|touris\w*|hotels?|"
                  r"passengers?|airports?|aircraft|airbus|boeing|space\w*|rockets?|satellites?|nasa|orbit\w*|mars|courts?|judges?|"
                  r"lawsuits?|sues?|sued|suits?|rul(ed|ing)|prison|trials?|legal\w*|laws?|attorney\w*|lawyers?")
BUSINESS = NeedleKind("needle in business news, as first built", BUSINESS_TOPICS)
BUSINESS_CLEAN = NeedleKind("needle in business news, clean filler", BUSINESS_TOPICS, BUSINESS_AVOID)
CAPTIONS = NeedleKind("needle in image captions", {
    "politics": "The senators voted on the new bill after the president gave a speech about the election.",
    "chemistry": "The chemist mixed the acid with the solution and measured the reaction in the laboratory.",
    "computers": "The programmer fixed the software bug and installed the update on the company's servers.",
    "religion": "The priest led the prayer in the cathedral and the congregation sang a hymn.",
    "agriculture": "The farmers harvested the wheat and sold the grain at the market after a dry season.",
}, r"politic\w*|senat\w*|vot\w*|bills?|president\w*|election\w*|govern\w*|chemi\w*|acids?|laborator\w*|lab|reactions?|scien\w*|"
   r"computers?|software|program\w*|servers?|laptops?|internet|priests?|pray\w*|church\w*|cathedral\w*|hymns?|relig\w*|choir\w*|"
   r"farm\w*|harvest\w*|wheat|grain\w*|crops?|tractors?")
CONFIRM_AVOID = (r"fashion\w*|designer\w*|dress\w*|cloth\w*|runway|jackets?|soldier\w*|militar\w*|army|armies|wars?|tanks?|"
                 r"generals?|troops?|lions?|zebras?|elephants?|giraffes?|animals?|wildlife|students?|schools?|teachers?|exams?|"
                 r"educat\w*|universit\w*|class\w*|cars?|driv\w*|vehicles?|automo\w*")
CONFIRM = NeedleKind("needle in MNLI prose (confirmation, run once)", {
    "fashion": "The designer showed the new collection of dresses and jackets on the runway at the fashion week.",
    "military": "The soldiers and tanks advanced toward the border after the general ordered the army to attack.",
    "wildlife": "The lions hunted a zebra near the river while elephants and giraffes grazed on the savanna.",
    "education": "The students passed their exams and the teachers praised the school's new reading program.",
    "cars": "The driver tested the new electric car, which accelerates quickly and has a range of 500 kilometres.",
}, CONFIRM_AVOID)
# The MNLI kind's failures (military in 0/8) came from filler on a competing topic: a report on the
# apparel industry and a tutoring programme passed the first filter. Kept as run; this kind drops
# those passages too, with synonyms per topic added after that reading (a post-hoc fix, said so).
CONFIRM_CLEAN = NeedleKind("needle in MNLI prose, clean filler (filter widened after the first run)", CONFIRM.needles,
                           CONFIRM_AVOID + r"|apparel|textiles?|garments?|retail\w*|wear\w*|shirts?|jeans|sew\w*|fabrics?|"
                           r"tutor\w*|college\w*|instruct\w*|teach\w*|learn\w*|majors?|courses?|academ\w*|weapons?|defen[cs]e|"
                           r"navy|war\w*|birds?|fish\w*|forests?|hunt\w*|species|zoos?|roads?|traffic|highways?|trucks?|motor\w*")
TWEETS = NeedleKind("needle in tweets (second confirmation)", {
    "mathematics": "The mathematician proved the theorem by solving the equation for every prime number.",
    "history": "In 1492 the ancient empire collapsed and historians still study the battles of that medieval era.",
    "architecture": "The architect designed the building with tall concrete columns, a glass facade and a vaulted roof.",
    "photography": "The photographer adjusted the camera lens and shutter speed to take a sharp picture of the bridge.",
    "geology": "The volcano erupted and lava flowed over the rocks, while the earthquake cracked the layers of granite.",
}, r"math\w*|theorem\w*|equation\w*|primes?|numbers?|histor\w*|ancient|empires?|medieval|battles?|architect\w*|buildings?|concrete|"
   r"columns?|roofs?|photo\w*|cameras?|lens\w*|pictures?|volcan\w*|lava|rocks?|earthquakes?|granite|geolog\w*")

# Held out in the third round (2026-12-02): written, with their filler filters, before that round
# looked at any per-window figure, and run once after its rule was chosen on the six kinds above.
WIKI = NeedleKind("needle in Wikipedia paragraphs (held out, third round)", {
    "gardening": "She planted tulip bulbs in the flower beds, watered the roses and pulled the weeds from the vegetable garden.",
    "astronomy": "Through the telescope the astronomers observed a distant galaxy and measured the light of its brightest stars.",
    "banking": "The customer opened a savings account at the bank and applied for a loan to buy a house.",
    "medicine": "The surgeon operated on the patient's heart and the nurses monitored his blood pressure after the surgery.",
    "cooking": "The chef chopped the vegetables, seasoned the soup with pepper and roasted the chicken in the oven.",
}, r"garden\w*|plant\w*|flowers?|roses?|tulips?|astronom\w*|telescopes?|galax\w*|stars?|planets?|space|banks?|banking|loans?|"
   r"accounts?|financ\w*|medic\w*|surg\w*|patients?|hospitals?|doctors?|nurses?|diseases?|heart|chefs?|cook\w*|food|soups?|"
   r"kitchens?|restaurants?|recipes?")
REDDIT = NeedleKind("needle in Reddit comments (held out, third round)", {
    "sports": "The quarterback threw a touchdown pass in overtime and the home team won the championship game.",
    "technology": "The new smartphone has a faster processor, more memory and a battery that lasts two days.",
    "health": "Regular exercise, enough sleep and a balanced diet lower the risk of heart disease and diabetes.",
    "food": "The restaurant serves fresh pasta, grilled fish and a chocolate cake for dessert.",
    "travel": "We packed our suitcases, caught the train to Paris and stayed in a small hotel near the river.",
}, r"sports?|games?|teams?|play\w*|fans?|win\w*|won|season|coach\w*|league|tech\w*|phones?|computers?|apps?|software|"
   r"health\w*|doctors?|diet\w*|exercis\w*|sleep\w*|sick|food|eat\w*|restaurants?|cook\w*|pizza|dinner|lunch|travel\w*|"
   r"trips?|hotels?|flights?|vacation\w*|holiday\w*|trains?")


def jsonl(path) -> list[dict]:
    return [json.loads(line) for line in open(path, encoding="utf-8")]


def imdb(rows: int) -> tuple[list[str], list[str]]:
    records = jsonl(W.ZSC_DATA / "imdb/test.jsonl")
    chosen = random.Random(0).sample(records, min(rows, len(records)))
    return [r["text"] for r in chosen], [r["label"] for r in chosen]


def filler(kind: NeedleKind) -> list[str]:
    """The kind's filler passages, in file order, without any that name one of its topics."""
    if kind is FILM:
        passages = [r["text"] for r in jsonl(W.ZSC_DATA / "imdb/test.jsonl")]
    elif kind is CAPTIONS:
        passages = list(dict.fromkeys(r["premise"] for r in jsonl(W.NLI_DATA / "snli_test.jsonl")))
    elif kind in (CONFIRM, CONFIRM_CLEAN):
        passages = list(dict.fromkeys(r["premise"] for r in jsonl(W.NLI_DATA / "mnli_dev_mismatched.jsonl")))
    elif kind is TWEETS:
        passages = [r["text"] for r in jsonl(W.ZSC_DATA / "dair_emotion/test.jsonl")]
    elif kind is WIKI:
        passages = list(dict.fromkeys(r["premise"] for r in jsonl(W.NLI_DATA / "anli_dev.jsonl")))
    elif kind is REDDIT:
        passages = [r["text"] for r in jsonl(W.ZSC_DATA / "goemotions_ekman/test.jsonl")]
    else:
        passages = [r["text"] for r in jsonl(W.ZSC_DATA / "ag_news/test.jsonl") if r["label"] == "Business"]
    if kind.avoid is None:
        return passages
    avoid = re.compile(rf"\b({kind.avoid})\b", re.IGNORECASE)
    return [p for p in passages if not avoid.search(p)]


def needle_documents(kind: NeedleKind, per_topic: int, topics: int | None = None) -> tuple[list[str], list[str]]:
    """``per_topic`` documents per topic (of the first ``topics`` topics, or all): DOCUMENT_WORDS words of filler (never reused) with the
    topic's sentence at the kind's positions in turn; a middle needle goes at the next sentence end."""
    passages = filler(kind)
    texts, gold, words, index = [], [], [], 0
    for topic, needle in list(kind.needles.items())[:topics]:
        for i in range(per_topic):
            while len(words) < DOCUMENT_WORDS:
                words += passages[index % len(passages)].replace("<br />", " ").split()
                index += 1
            body, words = words[:DOCUMENT_WORDS], words[DOCUMENT_WORDS:]
            where = {"end": len(body), "middle": len(body) // 2, "start": 0}[kind.positions[i % len(kind.positions)]]
            while 0 < where < len(body) and not body[where - 1].endswith((".", "!", "?")):
                where += 1
            texts.append(" ".join(body[:where] + [needle] + body[where:]))
            gold.append(topic)
    return texts, gold


def previous_rule_found(clf, prepared, logits: np.ndarray, labels: list[str], gold: list[str]) -> list[bool]:
    """The windowed hybrid as it was before the third round (log-odds + raw cosine / 0.05, best
    window per label), recomputed from the same logits and window cosines for the side-by-side."""
    found = []
    for block, cosine, g in zip(prepared.pair_blocks(logits), prepared.window_similarity, gold):
        evidence = clf.head.log_odds(block) + cosine / 0.05
        found.append(labels[int(evidence.max(axis=0).argmax())] == g)
    return found


def evaluate(clf, texts: list[str], gold: list[str], labels: list[str]) -> dict[str, dict]:
    """Each setting's accuracy and pairs per text; the logits of each window size are computed once."""
    logits: dict[tuple[str, int | None], np.ndarray] = {}
    rows = {}
    for name, long_text, window, scoring in SETTINGS:
        prepared = clf.prepare(texts, labels, long_text=long_text, window_tokens=window, scoring=scoring)
        windows = "truncate" if long_text == "truncate" else window
        key = (windows, len(prepared.pairs))
        if scoring == "embedding":
            computed = np.zeros((0, len(clf.model_dir.manifest.id2label)), dtype=np.float32)
            pairs = 0.0
        else:
            if key not in logits:
                logits[key] = clf.logits(prepared.pairs)
            computed, pairs = logits[key], len(prepared.pairs) / len(texts)
        if name == PREVIOUS_RULE:
            found = previous_rule_found(clf, prepared, computed, labels, gold)
        else:
            found = [result[0]["label"] == g for result, g in zip(clf.finish(prepared, computed), gold)]
        rows[name] = {"accuracy": float(np.mean(found)), "nli_pairs_per_text": pairs, "found": found,
                      "found_per_topic": {t: int(sum(f for f, y in zip(found, gold) if y == t)) for t in dict.fromkeys(gold)}}
    return rows


def main() -> None:
    parser = R.parser(__doc__)
    parser.add_argument("--rows", type=int, default=300)
    parser.add_argument("--per-topic", type=int, default=8, help="needle documents per topic (film reviews: twice as many)")
    args = parser.parse_args()
    if args.quick:
        args.rows, args.per_topic = 4, 1
    from zsc.engine import ZeroShotClassifier
    from zsc.engine.cpu import flags_summary

    clf = ZeroShotClassifier.default(threads=args.threads)
    texts, gold = imdb(args.rows)
    long_rows = [i for i, t in enumerate(texts) if len(t.split()) > 400]
    workloads = {
        f"imdb, {len(texts)} reviews": (texts, gold, ["negative", "positive"]),
        f"imdb, the {len(long_rows)} over 400 words": ([texts[i] for i in long_rows], [gold[i] for i in long_rows], ["negative", "positive"]),
    }
    for kind in (FILM, BUSINESS, BUSINESS_CLEAN, CAPTIONS, CONFIRM, CONFIRM_CLEAN, TWEETS, WIKI, REDDIT):
        documents, topics = needle_documents(kind, args.per_topic * (2 if kind is FILM else 1), 2 if args.quick else None)
        workloads[f"{kind.name}, {len(documents)}"] = (documents, topics, list(kind.needles))
    results: dict = {"cpu_flags": flags_summary(), "settings": [s[0] for s in SETTINGS], "workloads": {}}
    for name, (xs, ys, labels) in tqdm(workloads.items(), desc="workloads", unit="set"):
        if xs:
            results["workloads"][name] = evaluate(clf, xs, ys, labels)
    R.write_results(R.results_base(args.out, "long", args.quick), results, report(results))


def report(results: dict) -> str:
    """One row per workload, one column per setting: accuracy, and for needles the worst topic's share found."""
    settings = results["settings"]
    lines = [f"### Long texts: truncation against windows (embedded model, CPU flags: {results['cpu_flags']})", "",
             "Accuracy; for needle sets also the topic found least often (found / documents of that topic). "
             "Last row per set: NLI pairs per text.", "",
             "| workload | " + " | ".join(settings) + " |", "|---|" + "---|" * len(settings)]
    for name, rows in results["workloads"].items():
        cells = []
        for setting in settings:
            row = rows[setting]
            per_topic = row["found_per_topic"]
            worst = ""
            if "needle" in name:
                documents = len(row["found"]) // len(per_topic)
                worst = f" (worst {min(per_topic.values())}/{documents})"
            cells.append(f"{row['accuracy']:.3f}{worst}")
        lines.append(f"| {name} | " + " | ".join(cells) + " |")
        lines.append("| — pairs per text | " + " | ".join(f"{rows[s]['nli_pairs_per_text']:.1f}" for s in settings) + " |")
    lines += ["", "Found per topic:", ""]
    for name, rows in results["workloads"].items():
        if "needle" in name:
            for setting in settings:
                found = ", ".join(f"{t} {n}" for t, n in rows[setting]["found_per_topic"].items())
                lines.append(f"- {name} · {setting}: {found}")
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    main()
