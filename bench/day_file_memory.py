"""How much memory one large Slack day file takes to read, and that one over the limit is refused.

Writes exports of one channel whose one day file is of the given sizes (plain ASCII text, or
text with an emoji in every message, which Python holds at 4 bytes a character), as a folder and
as a .zip, under bench/.cache/day-files/. Each is read in its own subprocess (every message
parsed, nothing stored), which reports its peak resident memory before and after the read. Sizes
over the limit (`Limits.max_day_file_bytes`, or --max-day-file-mb) are refused before they are
read. Prints a table and writes bench/results/day_file_memory.json (or --out).

    .venv/bin/python bench/day_file_memory.py                    # 32, 64, 120 and 200 MB
    .venv/bin/python bench/day_file_memory.py --sizes 16 200 --max-day-file-mb 256
"""

from __future__ import annotations

import argparse
import json
import platform
import resource
import subprocess
import sys
import zipfile
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

BENCH = Path(__file__).resolve().parent
CACHE = BENCH / ".cache" / "day-files"
RESULTS = BENCH / "results" / "day_file_memory.json"
MB = 1024**2
TEXTS = {"ascii": "the build is green again, merging now", "emoji": "the build is green 🎉 merging"}


@dataclass
class Measurement:
    text: str  # ascii | emoji
    archive: str  # folder | zip
    day_file_mb: float
    messages: int
    outcome: str  # read | refused (and the error's start)
    peak_before_mb: float  # the subprocess's peak once askfirst is imported, before the read
    peak_after_mb: float
    seconds: float

    @property
    def growth_mb(self) -> float:
        return self.peak_after_mb - self.peak_before_mb


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[32, 64, 120, 200], help="MB")
    parser.add_argument("--max-day-file-mb", type=int, default=None, help="the limit to read with")
    parser.add_argument("--text", choices=[*TEXTS, "both"], default="both")
    parser.add_argument("--out", type=Path, default=RESULTS, help="where the JSON goes")
    parser.add_argument("--child", nargs=2, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(_child(Path(args.child[0]), int(args.child[1]))))
        return
    texts = list(TEXTS) if args.text == "both" else [args.text]
    limit = args.max_day_file_mb
    results = [
        _measure(text, archive, size, limit)
        for text in texts
        for size in args.sizes
        for archive in ("folder", "zip")
    ]
    _print(results)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(
        json.dumps(
            {
                "machine": platform.node(),
                "python": platform.python_version(),
                "max_day_file_mb": limit,
                "measurements": [asdict(m) | {"growth_mb": m.growth_mb} for m in results],
            },
            indent=2,
        )
    )
    print(f"wrote {args.out}")


def _measure(text: str, archive: str, size_mb: int, limit_mb: int | None) -> Measurement:
    folder, messages = _export(text, size_mb)
    path = folder if archive == "folder" else _zipped(folder)
    limit = -1 if limit_mb is None else limit_mb * MB
    command = [sys.executable, __file__, "--child", str(path), str(limit)]
    figures: dict[str, Any] = json.loads(
        subprocess.run(command, capture_output=True, text=True, check=True).stdout
    )
    day_file = folder / "busy" / "2024-01-02.json"
    return Measurement(
        text=text,
        archive=archive,
        day_file_mb=round(day_file.stat().st_size / MB, 1),
        messages=messages,
        **figures,
    )


def _export(text: str, size_mb: int) -> tuple[Path, int]:
    """A one-channel export whose one day file is about `size_mb` MB; made once, then kept."""
    folder = CACHE / f"{text}-{size_mb}mb"
    day_file = folder / "busy" / "2024-01-02.json"
    count_file = folder / "messages.txt"
    if count_file.exists():
        return folder, int(count_file.read_text())
    day_file.parent.mkdir(parents=True, exist_ok=True)
    (folder / "users.json").write_text(json.dumps([{"id": "U1", "name": "ada"}]))
    channel = {"id": "C1", "name": "busy", "members": ["U1"]}
    (folder / "channels.json").write_text(json.dumps([channel]))
    count = 0
    with day_file.open("w", encoding="utf-8") as out:
        out.write("[\n")
        while out.tell() < size_mb * MB:
            ts = f"{1_704_153_600 + count // 1000}.{count % 1000:06d}"
            message = {"type": "message", "user": "U1", "text": f"{TEXTS[text]} {count}", "ts": ts}
            out.write(
                ("" if count == 0 else ",\n") + json.dumps(message, ensure_ascii=False, indent=4)
            )
            count += 1
        out.write("\n]\n")
    count_file.write_text(str(count))
    return folder, count


def _zipped(folder: Path) -> Path:
    path = folder.with_suffix(".zip")
    if not path.exists():
        with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
            for name in ("users.json", "channels.json", "busy/2024-01-02.json"):
                archive.write(folder / name, name)
    return path


def _child(path: Path, limit: int) -> dict[str, Any]:
    """In the subprocess: read every message of the export at `path`; the peaks around it."""
    import time

    from askfirst.workspace.export_archive import ExportError, Limits
    from askfirst.workspace.slack_export import open_export

    limits = Limits() if limit < 0 else Limits(max_day_file_bytes=limit)
    before = _peak_mb()
    started = time.perf_counter()
    try:
        with open_export(path, limits) as export:
            read = sum(1 for day in export.day_files for _ in export.messages(day))
        outcome = f"read {read:,}"
    except ExportError as error:
        outcome = f"refused: {error.problem[:60]}"
    return {
        "outcome": outcome,
        "peak_before_mb": before,
        "peak_after_mb": _peak_mb(),
        "seconds": round(time.perf_counter() - started, 2),
    }


def _peak_mb() -> float:
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)  # KB on Linux


def _print(results: list[Measurement]) -> None:
    print(
        f"{'text':<6} {'archive':<7} {'day MB':>7} {'growth MB':>9} {'x file':>6} {'s':>6}  outcome"
    )
    for m in results:
        ratio = m.growth_mb / m.day_file_mb if m.day_file_mb else 0.0
        print(
            f"{m.text:<6} {m.archive:<7} {m.day_file_mb:>7.1f} {m.growth_mb:>9.1f} {ratio:>6.2f}"
            f" {m.seconds:>6.2f}  {m.outcome}"
        )


if __name__ == "__main__":
    main()
