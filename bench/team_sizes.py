"""Emoji suggestions at three team sizes: the prior, a shared release, a personal model, both.

Generated workspaces of 50, 400 and 3,000 people, about 200 messages a person (the generator's
Zipf activity gives a few people thousands and most a few dozen), every person saying yes
(bench/consenting_workspace.py caches the import). The emoji snapshot is read through the
product's own gate (public messages, mentions replaced). Then, split by PEOPLE:

- The people are dealt into 10 random folds of 10%; each fold in turn is the test members and
  the shared release is fitted on everyone else (`fit_emoji`: the product's bounds and public
  key domain) at each ε and at the product's default (the plan's ρ for one release). Every
  person is tested once; the examples of all folds are pooled.
- A test member's messages in time order: their first 80% build their personal model
  (`personal_counts`), their last 20% are the examples: each message with a known inline
  emoji, the text without its emoji as the draft, a hit when any of its emoji is in the top 3.

Every method answers the same examples: prior alone; shared (the release); personal alone;
combined (`serving.blend` of the release's top k+10 with the personal model, as served).
"≥ 50" figures keep only people whose personal model learned from 50 or more messages with
emoji; the JSON's `top3_wrote_at_least_50` keeps people who wrote 50 or more public
messages. Figures are exact (no DP on the measurement: a benchmark, not a release record).

Two reference rows are no release at all: the same fit on exact counts (no noise), over the
product's public key domain, and over every key the training members' data holds. They say
how much of the gap to a useful release is the noise, and how much the public domain.
The pooled row: 3 workspaces of 400 people in one org, pooled (`measure_pooled`); the test
people are the first workspace's.

    .venv/bin/python bench/team_sizes.py           # 50, 400 and 3,000 people
    .venv/bin/python bench/team_sizes.py --quick   # 50 and 400 only
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl
from sqlalchemy import select

from askfirst.clock import SystemClock
from askfirst.consent import load_purposes
from askfirst.consent.purposes import BUILT_IN_PURPOSES
from askfirst.privacy.accountant import rho_for_epsilon
from askfirst.privacy.bounding import Bounds, draw_seed
from askfirst.recommenders.contributions import emoji_contributions, message_emoji
from askfirst.recommenders.domains import KeyDomain, emoji_domain
from askfirst.recommenders.emoji import EmojiSuggester
from askfirst.recommenders.features import without_emoji, word_key
from askfirst.recommenders.fitting import EmojiSnapshotFrames, FitResult, fit_emoji
from askfirst.recommenders.personal import PersonalEmoji, personal_counts
from askfirst.recommenders.prior import emoji_prior
from askfirst.store import open_store
from askfirst.store.tables import Channel, Message
from askfirst.training.serving import PERSONAL_CANDIDATES, blend
from askfirst.training.snapshots import read_snapshot
from askfirst.workspace.vocabulary import TOPICS
from consenting_workspace import consenting_copy, workspace_id
from measured import load_average, print_table, timed, write_results

# (people, messages): about 200 messages a person, of which ~80% land in public channels.
SIZES = ((50, 10_000), (400, 80_000), (3_000, 600_000))
QUICK_SIZES = SIZES[:2]
# A pool of 3 workspaces of the middle size: the aim's team size, pooled.
POOLED = (400, 80_000, 3)
EPSILONS = (0.5, 1.0, 2.0, 4.0, 8.0)
DELTA = 1e-6
PURPOSE = "emoji_suggestions"
FOLDS = 10  # of people: each fold is a random 10% held out as test members
PERSONAL_SHARE = 0.8  # of a test member's messages, oldest first, build their personal model
ENOUGH = 50  # messages with emoji a personal model learned from, for the "≥ 50" figures
TOP = 3
METHODS = ("prior", "shared", "personal", "combined")
THRESHOLDS = (1, 10, 25, 50, 100, 500)
# Exact-count references: a ρ whose noise-based cut is far below one member, and no noise.
EXACT_RHO = 1e6
# Bounds loose enough that a domain of "every key seen" misses no key the fit may count.
EVERY_RECORD = Bounds(
    l0=1, records_per_member=10**9, words_per_message=10**4, emoji_per_message=10**3
)
# The aims, at the product's default ε with 400 people.
AIM_PEOPLE, AIM_SHARED_GAIN, AIM_PERSONAL = 400, 0.15, 0.6


@dataclass(frozen=True)
class Setting:
    """One privacy setting of the shared release, or an exact-count reference (no release)."""

    label: str
    epsilon: float | None  # None: exact counts, no noise: what privacy costs, not a release
    rho: float
    every_key_seen: bool = False  # domain: the product's public one, or every key in the data


@dataclass(frozen=True)
class Team:
    """A consenting workspace's emoji snapshot: public messages with their posting time."""

    messages: pl.DataFrame  # message_id, member_id, channel_name, text, posted_at
    channels: tuple[str, ...]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="50 and 400 people only")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    results: dict[str, Any] = {"load_average_start": load_average()}
    sizes = QUICK_SIZES if args.quick else SIZES
    measured, run = timed(lambda: [measure_size(p, m, args.seed) for p, m in sizes])
    results |= {
        "quick": args.quick,
        "seed": args.seed,
        "folds": FOLDS,
        "generator_pairs_in_domain": generator_pairs_in_domain(),
        "sizes": measured,
        "pooled_3_workspaces": measure_pooled(*POOLED, args.seed),
        "aims": aims(measured),
        "run": run.as_dict(),
        "load_average_end": load_average(),
    }
    print_results(measured, results["pooled_3_workspaces"], results["aims"])
    print(f"\nrun time: {run.wall:.0f} s wall, {run.cpu:.0f} s CPU")
    write_results("team_sizes", results)


def privacy_settings() -> list[Setting]:
    plan = BUILT_IN_PURPOSES[PURPOSE].plan
    fixed = [Setting(f"ε={e:g}", e, rho_for_epsilon(e, DELTA)) for e in EPSILONS]
    default = Setting(
        f"default ε={plan.epsilon_release:.2f}", plan.epsilon_release, plan.rho_release
    )
    exact = [
        Setting("exact, public domain", None, EXACT_RHO),
        Setting("exact, every key seen", None, EXACT_RHO, every_key_seen=True),
    ]
    return [*fixed, default, *exact]


def measure_size(people: int, messages: int, seed: int) -> dict[str, Any]:
    """Every method's top-3 on one generated workspace, at every privacy setting."""
    print(f"\n== {people:,} people, {messages:,} messages ==", flush=True)
    team, loading = timed(lambda: read_team(people, messages, seed))
    rng = np.random.default_rng(seed)
    folds = test_folds(team.messages["member_id"].unique().sort().to_list(), rng)
    domain = emoji_domain(team.channels)
    settings = privacy_settings()
    fitted, measuring = timed(lambda: [measure_fold(team, f, settings, domain, rng) for f in folds])
    examples = pl.concat([frame for frame, _ in fitted])
    rows = [summarize(examples, s, [keys[s.label] for _, keys in fitted]) for s in settings]
    enough = examples.filter(pl.col("enough"))
    return {
        "people": people,
        "messages_generated": messages,
        "public_messages_read": team.messages.height,
        "people_with_public_messages": sum(len(fold) for fold in folds),
        "public_channels": len(team.channels),
        "domain_keys": len(domain),
        "per_person": distribution(team.messages),
        "test_people_per_fold": [len(fold) for fold in folds],
        "examples": examples.height,
        "examples_at_least_50": enough.height,
        "people_at_least_50": enough["member_id"].n_unique(),
        "rows": rows,
        "load_seconds": loading.as_dict(),
        "measure_seconds": measuring.as_dict(),
    }


def measure_pooled(people: int, messages: int, workspaces: int, seed: int) -> dict[str, Any]:
    """Top-3 for the people of one workspace when its org pools `workspaces` of that size.

    The pooled snapshot is what `read_snapshot` reads for a pool: each workspace's gated
    frames, concatenated (generated workspaces share no person, so every member is their own
    unit). Test folds are the first workspace's people only; each fold's release is fitted on
    everyone else of the pool, so the examples are the same kind as the single-workspace row.
    """
    print(f"\n== pooled: {workspaces} workspaces of {people:,} people ==", flush=True)
    teams = [read_team(people, messages, seed + k) for k in range(workspaces)]
    # Separate stores number their rows alike: give each workspace its own id range.
    shifted = [
        team.messages.with_columns(
            pl.col("member_id") + k * 10_000_000, pl.col("message_id") + k * 1_000_000_000
        )
        for k, team in enumerate(teams)
    ]
    channels = tuple(dict.fromkeys(name for team in teams for name in team.channels))
    pooled = Team(pl.concat(shifted), channels)
    rng = np.random.default_rng(seed)
    folds = test_folds(shifted[0]["member_id"].unique().sort().to_list(), rng)
    domain = emoji_domain(channels)
    settings = privacy_settings()
    fitted = [measure_fold(pooled, fold, settings, domain, rng) for fold in folds]
    examples = pl.concat([frame for frame, _ in fitted])
    rows = [summarize(examples, s, [keys[s.label] for _, keys in fitted]) for s in settings]
    return {
        "people_per_workspace": people,
        "workspaces": workspaces,
        "people_pooled": pooled.messages["member_id"].n_unique(),
        "public_messages_read": pooled.messages.height,
        "examples": examples.height,
        "rows": rows,
    }


def read_team(people: int, messages: int, seed: int) -> Team:
    """The emoji snapshot of a fresh copy of the cached consenting workspace, with times."""
    with tempfile.TemporaryDirectory(prefix="askfirst-bench-") as folder:
        settings = consenting_copy(Path(folder), members=people, messages=messages, seed=seed)
        workspace = workspace_id(settings)
        store = open_store(settings)
        with store.reading() as session:
            _, frames = read_snapshot(
                session,
                workspace_id=workspace,
                purpose_key=PURPOSE,
                at=SystemClock().now(),
                purposes=load_purposes(settings),
            )
            query = (
                select(Message.id, Message.posted_at)
                .join(Channel, Channel.id == Message.channel_id)
                .where(Channel.workspace_id == workspace)
            )
            times = pl.DataFrame(
                session.execute(query).all(),
                schema={"message_id": pl.Int64, "posted_at": pl.Datetime("us", "UTC")},
                orient="row",
            )
        store.engine.dispose()
    return Team(frames.messages.join(times, on="message_id"), frames.channels)


def test_folds(members: list[int], rng: np.random.Generator) -> list[frozenset[int]]:
    """The people dealt at random into `FOLDS` disjoint test sets of about 10% each."""
    shuffled = rng.permutation(np.asarray(members, dtype=np.int64))
    return [frozenset(fold.tolist()) for fold in np.array_split(shuffled, FOLDS)]


def distribution(messages: pl.DataFrame) -> dict[str, Any]:
    """Per person: public messages, and messages with a known inline emoji."""
    written = messages.group_by("member_id").len()
    coded = message_emoji(messages).unique("message_id").group_by("member_id").len()
    with_emoji = written.join(coded, on="member_id", how="left")["len_right"].fill_null(0)
    return {"messages": summary(written["len"]), "messages_with_emoji": summary(with_emoji)}


def summary(counts: pl.Series) -> dict[str, Any]:
    values = sorted(counts.to_list())
    at = {f"p{q}": values[min(len(values) - 1, len(values) * q // 100)] for q in (25, 50, 75, 90)}
    return {
        "people": len(values),
        "mean": round(statistics.mean(values), 1),
        "min": values[0],
        **at,
        "max": values[-1],
        "people_with_at_least": {str(t): sum(v >= t for v in values) for t in THRESHOLDS},
    }


def measure_fold(
    team: Team,
    test: frozenset[int],
    settings: list[Setting],
    domain: KeyDomain,
    rng: np.random.Generator,
) -> tuple[pl.DataFrame, dict[str, dict[str, int]]]:
    """One row per example of the fold's test members, a hit column per method and setting;
    and the keys each setting's release holds, by family ("w", "e", "c")."""
    examples, personal = test_examples(team.messages, test)
    rows = examples.select("member_id", "channel_name", "draft", "labels").rows()
    prior = EmojiSuggester.from_artifact(None)
    hits = {
        "prior": [
            hit([s.name for s in prior.suggest(d, channel=c, k=TOP)], y) for _, c, d, y in rows
        ],
        "personal": [hit(top_personal(personal[m], d, c), y) for m, c, d, y in rows],
    }
    keys: dict[str, dict[str, int]] = {}
    for setting in settings:
        fitted = fit_setting(team, test, setting, domain, rng)
        counts = fitted.artifact["counts"]
        keys[setting.label] = dict(Counter(key.partition(":")[0] for key in counts))
        shared = EmojiSuggester.from_artifact(fitted.artifact)
        shared_hits, combined_hits = answer_shared(rows, shared, personal)
        hits[f"shared {setting.label}"] = shared_hits
        hits[f"combined {setting.label}"] = combined_hits
    return examples.with_columns(pl.Series(name, column) for name, column in hits.items()), keys


def fit_setting(
    team: Team,
    test: frozenset[int],
    setting: Setting,
    domain: KeyDomain,
    rng: np.random.Generator,
) -> FitResult:
    """The release fitted on everyone but `test` at `setting` (exact counts for references)."""
    frames = EmojiSnapshotFrames(team.messages, team.channels)
    if setting.epsilon is not None:
        return fit_emoji(frames, rho=setting.rho, rng=rng, holdout_members=test, domain=domain)
    if setting.every_key_seen:
        others = team.messages.filter(~pl.col("member_id").is_in(list(test)))
        seen = emoji_contributions(EmojiSnapshotFrames(others), EVERY_RECORD, draw_seed(rng))
        domain = KeyDomain(tuple(sorted(seen["key"].unique().to_list())))
    return fit_emoji(
        frames, rho=setting.rho, rng=rng, holdout_members=test, domain=domain, noise=no_noise
    )


def no_noise(size: int, scale: float) -> np.ndarray[Any, np.dtype[np.int64]]:
    return np.zeros(size, dtype=np.int64)


def answer_shared(
    rows: list[tuple[Any, ...]], shared: EmojiSuggester, personal: dict[int, PersonalEmoji]
) -> tuple[list[bool], list[bool]]:
    """Hits of the release alone and of the release blended with each member's own model."""
    alone, combined = [], []
    for member, channel, draft, labels in rows:
        candidates = shared.suggest(draft, channel=channel, k=TOP + PERSONAL_CANDIDATES)
        alone.append(hit([s.name for s in candidates[:TOP]], labels))
        blended = blend(candidates, personal[member], draft, k=TOP, channel=channel)
        combined.append(hit([s.name for s in blended], labels))
    return alone, combined


def test_examples(
    messages: pl.DataFrame, test: frozenset[int]
) -> tuple[pl.DataFrame, dict[int, PersonalEmoji]]:
    """Test members' last-20% messages with known inline emoji, and each one's personal model."""
    ordered = (
        messages.filter(pl.col("member_id").is_in(list(test)))
        .sort("member_id", "posted_at", "message_id")
        .with_columns(
            position=pl.int_range(pl.len()).over("member_id"),
            written=pl.len().over("member_id"),
        )
        .with_columns(learned=pl.col("position") < (PERSONAL_SHARE * pl.col("written")).floor())
    )
    personal = {member: PersonalEmoji.from_counts({}, 0) for member in test}
    for (member,), own in ordered.filter("learned").partition_by("member_id", as_dict=True).items():
        counts, used = personal_counts(own.select("message_id", "channel_name", "text"))
        personal[int(member)] = PersonalEmoji.from_counts(counts, used)
    learned_from = {member: model.messages for member, model in personal.items()}
    written = dict(ordered.group_by("member_id").agg(pl.len()).iter_rows())
    examples = (
        message_emoji(ordered.filter(~pl.col("learned")))
        .group_by("message_id", "member_id", "channel_name", "text", maintain_order=True)
        .agg(labels=pl.col("emoji"))
        .with_columns(
            draft=pl.col("text").map_elements(without_emoji, return_dtype=pl.String),
            enough=pl.col("member_id").replace_strict(learned_from, return_dtype=pl.Int64)
            >= ENOUGH,
            wrote_enough=pl.col("member_id").replace_strict(written, return_dtype=pl.Int64)
            >= ENOUGH,
        )
    )
    return examples, personal


def top_personal(model: PersonalEmoji, draft: str, channel: str) -> list[str]:
    """The personal model alone: its top 3 (none when the member wrote no emoji yet)."""
    scores, _ = model.scores(draft, channel)
    return sorted(scores, key=lambda name: (-scores[name], name))[:TOP]


def hit(suggested: Iterable[str], labels: list[str]) -> bool:
    return not set(suggested).isdisjoint(labels)


def summarize(
    examples: pl.DataFrame, setting: Setting, keys: list[dict[str, int]]
) -> dict[str, Any]:
    """Top-3 of every method at `setting`: over examples, per person, and for the ≥ 50 group."""
    columns = {
        "prior": "prior",
        "shared": f"shared {setting.label}",
        "personal": "personal",
        "combined": f"combined {setting.label}",
    }
    enough = examples.filter(pl.col("enough"))
    wrote = examples.filter(pl.col("wrote_enough"))
    families = sorted({family for fold in keys for family in fold})
    return {
        "setting": setting.label,
        "epsilon": None if setting.epsilon is None else round(setting.epsilon, 4),
        "domain": "every key seen" if setting.every_key_seen else "public",
        "rho": setting.rho,
        "keys_released": round(statistics.mean(sum(fold.values()) for fold in keys), 1),
        "keys_released_by_family": {
            f: round(statistics.mean(fold.get(f, 0) for fold in keys), 1) for f in families
        },
        "top3": {method: rate(examples, column) for method, column in columns.items()},
        "top3_per_person": {method: per_person(examples, c) for method, c in columns.items()},
        "top3_at_least_50": {method: rate(enough, column) for method, column in columns.items()},
        # The aim's words read literally: people who wrote 50 or more public messages, with
        # emoji or not (the group above counts only messages the personal model learned from).
        "top3_wrote_at_least_50": {
            method: rate(wrote, column) for method, column in columns.items()
        },
        "top3_pooled_3_workspaces": "not built",
    }


def rate(examples: pl.DataFrame, column: str) -> float | None:
    """Top-3 over examples: people who write more weigh more."""
    if not examples.height:
        return None
    return round(float(examples[column].cast(pl.Float64).sum()) / examples.height, 4)


def per_person(examples: pl.DataFrame, column: str) -> float | None:
    """The mean of each test member's own top-3: heavy writers count once."""
    if not examples.height:
        return None
    rates = examples.group_by("member_id").agg(pl.col(column).cast(pl.Float64).mean())[column]
    return round(float(rates.sum()) / rates.len(), 4)


def generator_pairs_in_domain() -> dict[str, int]:
    """How many of the generator's word→emoji pairs the public key domain can hold at all."""
    domain = emoji_domain(()).index
    canonical = emoji_prior().canonical
    pairs = {
        (word, canonical.get(name, name))
        for topic in TOPICS
        for word, name in topic.emoji_of_word.items()
    }
    return {"pairs": len(pairs), "in_domain": sum(word_key(w, e) in domain for w, e in pairs)}


def aims(sizes: list[dict[str, Any]]) -> dict[str, Any]:
    """The issue's aims, read off the default-setting row of the 400-people workspace."""
    size = next((s for s in sizes if s["people"] == AIM_PEOPLE), None)
    if size is None:
        return {}
    default = next(row for row in size["rows"] if row["setting"].startswith("default"))
    gain = default["top3"]["shared"] - default["top3"]["prior"]
    personal = default["top3_at_least_50"]["personal"]
    wrote = default["top3_wrote_at_least_50"]
    return {
        "setting": default["setting"],
        "keys_released": default["keys_released"],
        "shared_minus_prior": round(gain, 4),
        "shared_beats_prior_by_0_15": gain >= AIM_SHARED_GAIN,
        "personal_at_least_50": personal,
        "personal_reaches_0_6": personal is not None and personal >= AIM_PERSONAL,
        "wrote_at_least_50_personal": wrote["personal"],
        "wrote_at_least_50_combined": wrote["combined"],
    }


def print_results(
    sizes: list[dict[str, Any]], pooled: dict[str, Any], aimed: dict[str, Any]
) -> None:
    print("\nPublic messages per person, and messages with a known inline emoji:")
    print_table(
        ["people", "msgs p50", "p90", "max", "emoji p50", "p90", "max", "≥10", "≥50", "≥100"],
        [distribution_row(size) for size in sizes],
    )
    print("\nHeld-out top-3 (all test examples | people whose personal model has ≥ 50):")
    header = ["people", "setting", "keys", *METHODS, "≥50 shared", "personal", "combined"]
    rows = [table_row(size, row) for size in sizes for row in size["rows"]]
    pooled_label = {"people": f"{pooled['workspaces']} x {pooled['people_per_workspace']} pooled"}
    rows += [table_row(pooled_label, row) for row in pooled["rows"]]
    print_table(header, rows)
    for size in sizes:
        print(
            f"{size['people']:,} people: {len(size['test_people_per_fold'])} folds, "
            f"{sum(size['test_people_per_fold'])} test people, {size['examples']:,} examples "
            f"({size['examples_at_least_50']:,} from {size['people_at_least_50']} people with ≥ 50)"
        )
    if aimed:
        print(f"\naims at {AIM_PEOPLE} people, {aimed['setting']}: {aimed}")


def distribution_row(size: dict[str, Any]) -> list[str]:
    written, coded = size["per_person"]["messages"], size["per_person"]["messages_with_emoji"]
    at_least = coded["people_with_at_least"]
    return [
        f"{size['people']:,}",
        *(f"{written[q]:,}" for q in ("p50", "p90", "max")),
        *(f"{coded[q]:,}" for q in ("p50", "p90", "max")),
        *(str(at_least[t]) for t in ("10", "50", "100")),
    ]


def table_row(size: dict[str, Any], row: dict[str, Any]) -> list[str]:
    def shown(value: float | None) -> str:
        return "-" if value is None else f"{value:.3f}"

    enough = row["top3_at_least_50"]
    people = size["people"]
    return [
        f"{people:,}" if isinstance(people, int) else people,
        row["setting"],
        f"{row['keys_released']:,.0f}",
        *(shown(row["top3"][method]) for method in METHODS),
        *(shown(enough[method]) for method in ("shared", "personal", "combined")),
    ]


if __name__ == "__main__":
    main()
