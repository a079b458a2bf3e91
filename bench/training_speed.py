"""How fast askfirst trains: end to end on a 1M-message workspace, and its DP core vs peers.

End to end: a generated workspace of 1,000,000 messages (2,000 members), imported into SQLite
once and cached with every person consenting (bench/consenting_workspace.py), then
`askfirst.training.pipeline.train` for both purposes, as `askfirst train all` runs it:
snapshot through the consent gate, DP fit, release, promotion.

Core: the member-level DP count over a public key domain, side by side in one process on the
same input: 1,000,000 (member, key) rows, ~20,000 members (Zipf s = 1.0), ~44,000 distinct keys
(Zipf s = 1.07) of a public domain of 50,000 keys, at most 32 keys per member and 1 per key,
ε = 1 alone at δ = 1e-6 (ρ = `rho_for_epsilon(1, 1e-6)`):

- askfirst: `LocalEngine.bound`, then `NoisyCounts.release` (the discrete Gaussian on every
  key of the domain, `calibrate_domain_gaussian`) and `artifact_of`'s cut, as releases do;
- PipelineDP 0.3.1 LocalBackend, privacy-id count, Gaussian noise, the domain as its public
  partitions;
- the non-private floor: the same bounding and count in Polars, no noise.

Each approach runs `--repeats` times, interleaved; the table shows medians of wall and CPU
time (this process's), and the ratios. Writes bench/results/training_speed.json.

    .venv/bin/pip install -e '.[bench]'          # PipelineDP, once
    .venv/bin/python bench/training_speed.py     # both parts
    .venv/bin/python bench/training_speed.py --core-only
"""

from __future__ import annotations

import argparse
import gc
import statistics
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl

from askfirst.clock import SystemClock
from askfirst.consent import load_purposes
from askfirst.engines import LocalEngine
from askfirst.privacy.accountant import rho_for_epsilon
from askfirst.privacy.bounding import Bounds
from askfirst.privacy.mechanisms import calibrate_domain_gaussian
from askfirst.privacy.noisy_counts import NoisyCounts
from askfirst.recommenders.domains import KeyDomain
from askfirst.recommenders.fitting import artifact_of
from askfirst.store import open_store
from askfirst.training.pipeline import train
from consenting_workspace import PURPOSES, consenting_copy, workspace_id
from measured import Timing, load_average, print_table, timed, write_results

ROWS, MEMBERS, KEY_UNIVERSE = 1_000_000, 20_000, 50_000
MEMBER_ZIPF, KEY_ZIPF = 1.0, 1.07
L0, EPSILON, DELTA = 32, 1.0, 1e-6
RHO = rho_for_epsilon(EPSILON, DELTA)
E2E_MEMBERS, E2E_MESSAGES, E2E_SEED = 2_000, 1_000_000, 1


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--core-only", action="store_true", help="skip the end-to-end part")
    parser.add_argument("--end-to-end-only", action="store_true", help="skip the core part")
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    results: dict[str, Any] = {"load_average_start": load_average()}
    if not args.end_to_end_only:
        results["core"] = core(args.repeats)
    if not args.core_only:
        results["end_to_end"] = end_to_end()
    results["load_average_end"] = load_average()
    write_results("training_speed", results)


def core(repeats: int) -> dict[str, Any]:
    """The DP aggregation of askfirst, PipelineDP and the non-private floor, interleaved."""
    pipeline_dp = _pipeline_dp()
    frame = workload(np.random.default_rng(7))
    rows = list(frame.iter_rows())
    domain = public_domain()
    _, calibration = timed(lambda: calibrate_domain_gaussian(RHO, L0))
    approaches: dict[str, Callable[[np.random.Generator], int]] = {
        "non-private Polars (floor)": lambda rng: non_private(frame, rng),
        "askfirst (Polars + bulk discrete Gaussian)": lambda rng: askfirst(frame, domain, rng),
        "PipelineDP LocalBackend": lambda rng: peer(pipeline_dp, rows, domain),
    }
    runs: dict[str, list[tuple[int, Timing, float]]] = {name: [] for name in approaches}
    rng = np.random.default_rng()
    for repeat in range(repeats):
        for name, run in approaches.items():
            gc.collect()
            load = load_average()
            keys, timing = timed(lambda run=run: run(rng))  # type: ignore[misc]
            runs[name].append((keys, timing, load))
            print(f"  {repeat + 1}/{repeats} {name}: {timing.wall:.2f} s, {keys:,} keys")
    summary = {name: _median(measured) for name, measured in runs.items()}
    _print_core(summary)
    return {
        "workload": {
            "rows": frame.height,
            "members": frame["member_id"].n_unique(),
            "distinct_keys": frame["key"].n_unique(),
            "domain_keys": len(domain),
            "l0": L0,
            "linf": 1,
            "epsilon": EPSILON,
            "delta": DELTA,
            "rho": RHO,
        },
        "askfirst_calibration_seconds_once_per_process": round(calibration.wall, 3),
        "approaches": summary,
        "ratios": _ratios(summary),
    }


def workload(rng: np.random.Generator) -> pl.DataFrame:
    """1M (member, key) rows: Zipf-active members, Zipf-popular keys."""
    members = _zipf(rng, MEMBERS, MEMBER_ZIPF, ROWS)
    keys = _zipf(rng, KEY_UNIVERSE, KEY_ZIPF, ROWS)
    return pl.DataFrame({"member_id": members.astype(np.int64), "key": [_key(k) for k in keys]})


def public_domain() -> KeyDomain:
    """Every key the workload can hold, known before any row is read."""
    return KeyDomain(tuple(_key(k) for k in range(KEY_UNIVERSE)))


def askfirst(frame: pl.DataFrame, domain: KeyDomain, rng: np.random.Generator) -> int:
    """A release's core: bound, noise on every domain key, the artifact's cut; keys served."""
    bounds = Bounds(l0=L0, linf=1)
    mechanism = calibrate_domain_gaussian(RHO, L0)
    rows = LocalEngine().bound(frame, bounds, rng).join(domain.frame(), on="key")
    state = NoisyCounts.release(
        len(domain),
        rows["member_id"].to_numpy().astype(np.int64),
        rows["key_index"].to_numpy().astype(np.int64),
        rows["weight"].to_numpy().astype(np.int64),
        scale=mechanism.scale,
    )
    return len(artifact_of("bench", domain, state, mechanism, bounds)["counts"])


def non_private(frame: pl.DataFrame, rng: np.random.Generator) -> int:
    """The floor: one row per (member, key), ≤ L0 random keys per member, members per key."""
    seed = int(rng.integers(2**62))
    priority = pl.struct("member_id", "key").hash(seed).rank("ordinal").over("member_id")
    counts = (
        frame.lazy()
        .unique(["member_id", "key"])
        .filter(priority <= L0)
        .group_by("key")
        .agg(pl.len())
        .collect()
    )
    return counts.height


def peer(pipeline_dp: Any, rows: list[tuple[int, str]], domain: KeyDomain) -> int:
    accountant = pipeline_dp.NaiveBudgetAccountant(total_epsilon=EPSILON, total_delta=DELTA)
    engine = pipeline_dp.DPEngine(accountant, pipeline_dp.LocalBackend())
    params = pipeline_dp.AggregateParams(
        metrics=[pipeline_dp.Metrics.PRIVACY_ID_COUNT],
        noise_kind=pipeline_dp.NoiseKind.GAUSSIAN,
        max_partitions_contributed=L0,
        max_contributions_per_partition=1,
    )
    extractors = pipeline_dp.DataExtractors(
        privacy_id_extractor=lambda row: row[0],
        partition_extractor=lambda row: row[1],
        value_extractor=lambda row: 0,
    )
    released = engine.aggregate(rows, params, extractors, public_partitions=list(domain.keys))
    accountant.compute_budgets()
    return len(list(released))


def end_to_end() -> dict[str, Any]:
    """`train` for both purposes on a fresh copy of the cached 1M-message workspace."""
    with tempfile.TemporaryDirectory(prefix="askfirst-bench-") as folder:
        settings = consenting_copy(
            Path(folder), members=E2E_MEMBERS, messages=E2E_MESSAGES, seed=E2E_SEED
        )
        workspace = workspace_id(settings)
        purposes = load_purposes(settings)
        store = open_store(settings)
        trained: dict[str, Any] = {}
        load = load_average()
        for key in PURPOSES:
            outcome, timing = timed(
                lambda key=key: train(  # type: ignore[misc]
                    store,
                    workspace_id=workspace,
                    purpose_key=key,
                    settings=settings,
                    clock=SystemClock(),
                    purposes=purposes,
                )
            )
            trained[key] = {
                **timing.as_dict(),
                "members": outcome.release.member_count,
                "keys_released": outcome.release.utility.get("keys_released"),
                "promoted": outcome.promoted,
            }
            print(f"  trained {key}: {timing.wall:.1f} s", flush=True)
        store.engine.dispose()
    total = sum(row["wall_seconds"] for row in trained.values())
    print_table(
        ["purpose", "wall s", "CPU s", "members", "keys released"],
        [
            [
                key,
                f"{row['wall_seconds']:.1f}",
                f"{row['cpu_seconds']:.1f}",
                str(row["members"]),
                str(row["keys_released"]),
            ]
            for key, row in trained.items()
        ],
    )
    print(f"both purposes: {total:.1f} s (aim: under 30 s)")
    return {
        "workspace": {"members": E2E_MEMBERS, "messages": E2E_MESSAGES, "seed": E2E_SEED},
        "purposes": trained,
        "both_purposes_wall_seconds": round(total, 2),
        "load_average_before": load,
    }


def _pipeline_dp() -> Any:
    try:
        import pipeline_dp
    except ImportError:
        raise SystemExit(
            "PipelineDP is not installed; it is the peer this benchmark compares against.\n"
            "Install the bench extra:  .venv/bin/pip install -e '.[bench]'\n"
            "or run the end-to-end part alone:  bench/training_speed.py --end-to-end-only"
        ) from None
    return pipeline_dp


def _key(rank: int) -> str:
    return f"w:word{rank}|emoji"


def _zipf(rng: np.random.Generator, size: int, exponent: float, draws: int) -> np.ndarray:
    weights = 1.0 / np.arange(1, size + 1) ** exponent
    return rng.choice(size, size=draws, p=weights / weights.sum())


def _median(measured: list[tuple[int, Timing, float]]) -> dict[str, Any]:
    return {
        "wall_seconds": round(statistics.median(t.wall for _, t, _ in measured), 3),
        "cpu_seconds": round(statistics.median(t.cpu for _, t, _ in measured), 3),
        "keys_released": round(statistics.median(keys for keys, _, _ in measured)),
        "runs": [{**t.as_dict(), "keys": keys, "load": load} for keys, t, load in measured],
    }


def _ratios(summary: dict[str, dict[str, Any]]) -> dict[str, float]:
    ours = summary["askfirst (Polars + bulk discrete Gaussian)"]
    peer_run = summary["PipelineDP LocalBackend"]
    floor = summary["non-private Polars (floor)"]
    return {
        f"{name}_{clock}": round(numerator[f"{clock}_seconds"] / denominator[f"{clock}_seconds"], 2)
        for name, numerator, denominator in (
            ("pipeline_dp_over_askfirst", peer_run, ours),
            ("askfirst_over_floor", ours, floor),
        )
        for clock in ("wall", "cpu")
    }


def _print_core(summary: dict[str, dict[str, Any]]) -> None:
    print()
    print_table(
        ["approach", "wall s", "CPU s", "keys out (askfirst: over the cut)"],
        [
            [
                name,
                f"{row['wall_seconds']:.2f}",
                f"{row['cpu_seconds']:.2f}",
                f"{row['keys_released']:,}",
            ]
            for name, row in summary.items()
        ],
    )
    ratios = _ratios(summary)
    print(
        f"PipelineDP / askfirst: {ratios['pipeline_dp_over_askfirst_wall']}x wall, "
        f"{ratios['pipeline_dp_over_askfirst_cpu']}x CPU (aim ≥ 10x); "
        f"askfirst / floor: {ratios['askfirst_over_floor_wall']}x wall, "
        f"{ratios['askfirst_over_floor_cpu']}x CPU (aim ≤ 2x)"
    )


if __name__ == "__main__":
    main()
