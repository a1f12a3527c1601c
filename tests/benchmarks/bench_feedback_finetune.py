"""Benchmark: feedback that fine-tunes, against the knobs, on a case no knob expresses
(run: ``python -m tests.benchmarks.bench_feedback_finetune [--parent-steps N --finetune-steps N]``).

A personality practised on a mix of a clarinet and a violin (FluidR3 renders of the same notes,
``tests/pipelines/_duo_support.py``) judges a performance whose liked regions are the clarinet's
notes and disliked ones the violin's. The same feedback runs twice from the same parent, once
with ``--method auto`` (which chooses the fine-tune, and says why) and once with ``--method
knobs``. Printed: the multi-scale spectral distance of each version's resynthesis of held-out
notes (driven by each recording's own f0 and loudness, through the agent's engine) to the
clarinet and to the violin, before and after, and the seconds each took. The test
(``tests/pipelines/feedback/test_finetune.py``) asserts the direction on a smaller budget; here
nothing is asserted.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

from rich.console import Console
from rich.table import Table

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "pipelines"))
from _duo_support import REGIONS, held_out_distances, render_duo  # noqa: E402


def run(work: Path, parent_steps: int, finetune_steps: int, hidden: int, console: Console) -> dict:
    from instrument_agent.personality.store import PersonalityStore
    from pipelines.practice import PracticeRequest, run_practice

    began = time.perf_counter()
    duo = render_duo(work / "audio", train_seconds=30.0, held_out_seconds=10.0)
    profile = {
        "steps": parent_steps, "hidden_size": hidden, "gru_units": hidden, "n_harmonics": 40, "n_noise_bands": 17,
        "example_seconds": 1.0, "batch_size": 8, "learning_rate": 3e-3, "reverb": False, "f0_method": "yin",
        "holdout_fraction": 0.1, "checkpoint_every": 1000,
    }  # fmt: skip
    home = work / "home"
    parent = run_practice("imitation", PracticeRequest("duo", audio=duo.train, learner_profile=profile), home)
    seconds = {"parent practice": time.perf_counter() - began}
    console.print(f"parent v{parent.version}: held-out loss {parent.metrics.get('eval/spectral_loss', 0):.3f}")
    results = {}
    for method in ("auto", "knobs"):
        started = time.perf_counter()
        request = PracticeRequest(
            "duo",
            performance=duo.performance,
            regions=REGIONS,
            base_version=parent.version,
            feedback_method=method,
            finetune_steps=finetune_steps,
        )
        results[method] = run_practice("feedback", request, home)
        seconds[f"feedback --method {method}"] = time.perf_counter() - started
        console.print(f"--method {method}: {results[method].steps['feedback']['method_reason']}")
    store = PersonalityStore(home)
    figures = {"parent (mix)": held_out_distances(store.get("duo", parent.version), duo)}
    for method, result in results.items():
        chosen = result.steps["feedback"]["method"]
        figures[f"{method} → {chosen}"] = held_out_distances(store.get("duo", result.version), duo)
    return {"figures": figures, "seconds": seconds, "finetune": results["auto"].steps["feedback"]}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--parent-steps", type=int, default=200)
    parser.add_argument("--finetune-steps", type=int, default=150)
    parser.add_argument("--hidden", type=int, default=64, help="decoder width (MLP and GRU)")
    args = parser.parse_args(argv)
    console = Console()
    with tempfile.TemporaryDirectory(prefix="bench-feedback-finetune-") as work:
        out = run(Path(work), args.parent_steps, args.finetune_steps, args.hidden, console)
    base = out["figures"]["parent (mix)"]
    table = Table(title="held-out multi-scale spectral distance (lower = closer)")
    for column in ("version", "to clarinet (liked)", "change", "to violin (disliked)", "change"):
        table.add_column(column, justify="left" if column == "version" else "right")
    for name, d in out["figures"].items():
        table.add_row(
            name,
            f"{d['clarinet']:.3f}",
            f"{100 * (d['clarinet'] / base['clarinet'] - 1):+.1f} %",
            f"{d['violin']:.3f}",
            f"{100 * (d['violin'] / base['violin'] - 1):+.1f} %",
        )
    console.print(table)
    tuned = out["finetune"]
    if "finetune_losses" in tuned:
        losses = tuned["finetune_losses"]
        console.print(
            f"fine-tune on the marked regions: liked {losses['liked_before']:.3f} → {losses['liked_after']:.3f}, "
            f"disliked {losses['disliked_before']:.3f} → {losses['disliked_after']:.3f}; "
            f"weights moved {100 * tuned['drift']:.1f} % of their norm; "
            f"{tuned['training']['steps_run']} steps at {tuned['training']['steps_per_second'] or 0:.2f} steps/s"
        )
    console.print(", ".join(f"{k} {v:.0f} s" for k, v in out["seconds"].items()))


if __name__ == "__main__":
    main()
