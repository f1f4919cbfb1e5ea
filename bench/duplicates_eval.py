"""Duplicate detection on public data: ``gtm-feedback eval-duplicates`` on Banking77.

Banking77 (PolyAI, CC BY 4.0) holds 13,083 questions customers asked a bank, each labelled
with one of 77 intents: two questions of one intent are duplicates, two of different intents
are not. Per seed, every intent becomes one request (one question as its text, the intent's
name as its title); a share of the intents (``--duplicated``) gets a second request written
from another question, which is the known duplicate. With ``--linked N`` each request also
carries N further questions of its intent as linked feedback, as requests do after a while.
The real command runs on the CSVs (the offline model), once per seed; the figures are means.

    python -m bench.duplicates_eval [--data ../shared/data/banking77 --seeds 5]
"""

from __future__ import annotations

import argparse
import csv
import json
import platform
import random
import statistics
import subprocess
import sys
import tempfile
from collections import defaultdict
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path

CLI = Path(sys.executable).with_name("gtm-feedback")
FIGURES = (
    "recall_at_1",
    "recall_at_5",
    "recall_at_10",
    "mrr",
    "suggest_precision",
    "suggest_recall",
)


def _questions(folder: Path) -> dict[str, list[str]]:
    by_intent: dict[str, list[str]] = defaultdict(list)
    for name in ("train.csv", "test.csv"):
        with (folder / name).open(encoding="utf-8", newline="") as handle:
            for row in csv.DictReader(handle):
                by_intent[row["category"]].append(row["text"])
    return dict(by_intent)


def write_case(
    by_intent: dict[str, list[str]], seed: int, share: float, linked: int, out: Path
) -> int:
    """R.csv, P.csv and (with ``linked``) L.csv of one seed in ``out``; the pair count."""
    rng = random.Random(seed)
    requests, pairs, feedback = [], [], []
    for intent in sorted(by_intent):
        pool = rng.sample(by_intent[intent], 2 * (1 + linked))
        title = intent.replace("_", " ")
        count = 2 if rng.random() < share else 1
        for copy in range(count):
            own = pool[copy * (1 + linked) : (copy + 1) * (1 + linked)]
            request_id = f"{intent}-{copy}"
            requests.append((request_id, title if copy == 0 else own[0], own[0]))
            feedback += [(request_id, text) for text in own[1:]]
        if count == 2:
            pairs.append((f"{intent}-1", f"{intent}-0"))
    _write(out / "R.csv", ("id", "title", "description"), requests)
    _write(out / "P.csv", ("request_id", "duplicate_of"), pairs)
    _write(out / "L.csv", ("request_id", "text"), feedback)
    return len(pairs)


def _write(path: Path, header: tuple[str, ...], rows: Sequence[tuple[str, ...]]) -> None:
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        writer.writerows(rows)


def evaluate(folder: Path, linked: bool, threshold: float) -> dict[str, float]:
    """The command's JSON figures on the CSVs in ``folder``."""
    command = [str(CLI), "eval-duplicates", "--requests", str(folder / "R.csv")]
    command += ["--pairs", str(folder / "P.csv"), "--json"]
    if linked:
        command += ["--linked", str(folder / "L.csv")]
    command += ["--threshold", str(threshold)]
    done = subprocess.run(command, capture_output=True, text=True, check=True)
    found: dict[str, float] = json.loads(done.stdout)
    return found


def main() -> None:
    """Run the seeds for each setting and print the mean figures."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, default=Path("../shared/data/banking77"))
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument("--duplicated", type=float, default=0.4, help="Share of intents")
    parser.add_argument(
        "--thresholds",
        type=float,
        nargs="+",
        default=[0.7, 0.8, 0.85, 0.9],
        help="Suggestion thresholds to score (0.7 is GTMFB_DUPLICATE_THRESHOLD's default)",
    )
    args = parser.parse_args()
    by_intent = _questions(args.data)
    print(f"{platform.node()} {datetime.now(UTC):%Y-%m-%d} · Banking77 · {args.seeds} seeds")
    print(f"{'linked':>6} {'cut':>5} {'pairs':>6} " + " ".join(f"{n:>17}" for n in FIGURES))
    for linked in (0, 3):
        for cut in args.thresholds:
            runs, pairs = [], []
            for seed in range(args.seeds):
                with tempfile.TemporaryDirectory() as folder:
                    out = Path(folder)
                    pairs.append(write_case(by_intent, seed, args.duplicated, linked, out))
                    runs.append(evaluate(out, linked > 0, cut))
            means = [statistics.fmean(run[name] for run in runs) for name in FIGURES]
            print(
                f"{linked:>6} {cut:>5.2f} {statistics.fmean(pairs):>6.1f} "
                + " ".join(f"{value:>17.3f}" for value in means)
            )


if __name__ == "__main__":
    main()
