"""FAQ matching for the help channel: latency per question over 2,000 entries, and accuracy.

The index holds the shipped French and English FAQs (``campaigns/examples/*/faq.yaml``) plus
generated entries about other workplace topics (IT, HR, facilities...) up to 2,000, in both
languages, sharing many words with the real ones. 50 labelled real-style questions
(``bench/data/faq_questions.yaml``) are each searched many times: median and p99 latency of
``FaqIndex.search`` (aim: p99 under 20 ms), and the share whose right entry is in the top three
(and first). The baseline is a naive linear scan scoring shared words, on the same words: the
ratio is its time / our time (above 1: faster than the scan).
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import sys
import time
from pathlib import Path
from typing import Any

import yaml

from rallybot.campaigns.faq import FaqEntry, FaqIndex, load_faq, load_faq_text, query_tokens

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "campaigns" / "examples"
LABELS = Path(__file__).resolve().parent / "data" / "faq_questions.yaml"

_TOPICS_EN = [
    "expense report",
    "vpn",
    "printer",
    "parking badge",
    "holiday request",
    "payslip",
    "meeting room",
    "laptop",
    "headset",
    "training course",
    "car pool",
    "canteen menu",
    "remote work",
    "timesheet",
    "intranet page",
    "shared drive",
    "email signature",
    "video call",
    "second screen",
    "security badge",
    "travel booking",
    "mobile phone plan",
    "onboarding checklist",
    "team calendar",
    "software licence",
    "password manager",
    "wifi access",
    "desk booking",
    "health insurance",
    "pension plan",
    "referral bonus",
    "company car",
    "office supplies",
    "guest access",
    "document template",
    "project space",
    "group mailbox",
    "photo booth",
    "profile export",
    "notification sound",
    "app update",
    "browser extension",
]
_TOPICS_FR = [
    "note de frais",
    "vpn",
    "imprimante",
    "badge de parking",
    "demande de congés",
    "fiche de paie",
    "salle de réunion",
    "ordinateur portable",
    "casque",
    "formation",
    "covoiturage",
    "menu de la cantine",
    "télétravail",
    "feuille de temps",
    "page intranet",
    "disque partagé",
    "signature de mail",
    "visio",
    "second écran",
    "badge de sécurité",
    "réservation de voyage",
    "forfait mobile",
    "parcours d'accueil",
    "agenda d'équipe",
    "licence logicielle",
    "gestionnaire de mots de passe",
    "accès wifi",
    "réservation de bureau",
    "mutuelle",
    "retraite",
    "prime de cooptation",
    "voiture de fonction",
    "fournitures",
    "accès invité",
    "modèle de document",
    "espace projet",
    "boîte partagée",
    "export du profil",
    "son des notifications",
    "mise à jour de l'appli",
    "extension du navigateur",
]
_ASK_EN = (
    "How do I request a {t}?",
    "Where can I find my {t}?",
    "My {t} does not work",
    "Who should I contact about the {t}?",
    "How do I change the {t} settings?",
    "Can I share my {t} with my team?",
)
_ASK_FR = (
    "Comment demander un(e) {t} ?",
    "Où trouver ma {t} ?",
    "Mon {t} ne fonctionne pas",
    "Qui contacter pour le {t} ?",
    "Comment modifier les réglages de {t} ?",
    "Puis-je partager mon {t} avec mon équipe ?",
)
_ANSWER_EN = "Open the {t} page on the intranet, fill in the form and your manager is notified."
_ANSWER_FR = (
    "Ouvrez la page {t} sur l'intranet, remplissez le formulaire : votre manager est prévenu."
)


def _generated(count: int, seed: int = 7) -> list[FaqEntry]:
    """``count`` plausible entries about other topics, half French, half English."""
    rng = random.Random(seed)
    entries: list[dict[str, Any]] = []
    for n in range(count):
        french = n % 2 == 0
        topics, asks = (_TOPICS_FR, _ASK_FR) if french else (_TOPICS_EN, _ASK_EN)
        topic = rng.choice(topics)
        other = rng.choice(topics)
        questions = [a.format(t=topic) for a in rng.sample(asks, 3)]
        questions.append(rng.choice(asks).format(t=f"{topic} {other}"))
        answer = (_ANSWER_FR if french else _ANSWER_EN).format(t=topic)
        entries.append(
            {
                "id": f"gen-{n}",
                "questions": {"fr" if french else "en": questions},
                "answer": answer,
                "tags": topic.split()[:3],
            }
        )
    text = yaml.safe_dump({"faq": "generated", "entries": entries}, allow_unicode=True)
    return list(load_faq_text(text, "generated.yaml").entries)


def _labels() -> list[tuple[str, str]]:
    data = yaml.safe_load(LABELS.read_text(encoding="utf-8"))
    return [(item["q"], item["a"]) for item in data]


class _Scan:
    """The baseline: every entry's word set, scored by the words it shares with the question."""

    def __init__(self, entries: list[FaqEntry]) -> None:
        self.entries = [(entry, frozenset(entry.words())) for entry in entries]

    def search(self, question: str, k: int = 3) -> list[FaqEntry]:
        words = set(query_tokens(question))
        scored = [(len(words & bag), i) for i, (_, bag) in enumerate(self.entries)]
        best = sorted((s for s in scored if s[0]), key=lambda s: (-s[0], s[1]))[:k]
        return [self.entries[i][0] for _, i in best]


def _quantile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def run(total: int, rounds: int) -> list[dict[str, Any]]:
    """The figures, one dict per measured case."""
    shipped = [e for lang in ("fr", "en") for e in load_faq(EXAMPLES / lang / "faq.yaml").entries]
    entries = shipped + _generated(total - len(shipped))
    started = time.perf_counter()
    index = FaqIndex(entries)
    build_ms = (time.perf_counter() - started) * 1000
    scan = _Scan(entries)
    labels = _labels()

    results: list[dict[str, Any]] = []
    for name, searcher in (("shipped FAQ only", FaqIndex(shipped)), (f"{total} entries", index)):
        top3 = top1 = 0
        misses: list[str] = []
        for question, expected in labels:
            keys = [m.entry.key for m in searcher.search(question)]
            top3 += expected in keys
            top1 += bool(keys) and keys[0] == expected
            if expected not in keys:
                misses.append(question)
        results.append(
            {
                "case": name,
                "entries": len(searcher),
                "questions": len(labels),
                "top3": f"{top3}/{len(labels)} ({top3 / len(labels):.0%})",
                "top1": f"{top1}/{len(labels)} ({top1 / len(labels):.0%})",
                "missed": misses,
            }
        )
    scan_top3 = sum(
        expected in [e.key for e in scan.search(question)] for question, expected in labels
    )

    ours: list[float] = []
    theirs: list[float] = []
    for _ in range(rounds):
        for question, _expected in labels:
            t0 = time.perf_counter()
            index.search(question)
            t1 = time.perf_counter()
            scan.search(question)
            t2 = time.perf_counter()
            ours.append((t1 - t0) * 1000)
            theirs.append((t2 - t1) * 1000)
    results.append(
        {
            "case": f"latency over {total} entries",
            "searches": len(ours),
            "build_ms": round(build_ms, 1),
            "median_ms": round(statistics.median(ours), 3),
            "p99_ms": round(_quantile(ours, 0.99), 3),
            "max_ms": round(max(ours), 3),
            "first_round_p99_ms": round(_quantile(ours[: len(labels)], 0.99), 3),
            "scan_median_ms": round(statistics.median(theirs), 3),
            "scan_top3": f"{scan_top3}/{len(labels)}",
            "ratio": round(statistics.median(theirs) / statistics.median(ours), 2),
            "p99_under_20ms": _quantile(ours, 0.99) < 20,
        }
    )
    return results


def main() -> None:
    """Print one JSON line per case."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--entries", type=int, default=2000)
    parser.add_argument("--rounds", type=int, default=20)
    args = parser.parse_args()
    for result in run(args.entries, args.rounds):
        json.dump(result, sys.stdout, ensure_ascii=False)
        sys.stdout.write("\n")


if __name__ == "__main__":
    main()
