"""Artifacts of retired releases are deleted: a release no longer served leaves no model behind.

Its noisy counts (the state file beside the artifact, which also lists each member's bounded
contribution) go with it.

Once a release is retired (replaced, refused, or its purpose switched off) nothing reads its
artifact again, so `reconcile` deletes the file after a grace period (a reader that opened it
just before the retirement, such as an audit, finishes first). The release row, its SHA-256
and its journal entries stay: the record of what was released is kept, the model is not.

Only files of releases whose row says retired are touched. A file whose release has not
committed yet (a training writes its artifact inside its transaction) has no row to read and is
left alone; so is every promoted release's file.
"""

from __future__ import annotations

import re
from datetime import timedelta

from sqlalchemy import select

from askfirst.clock import Clock
from askfirst.settings import Settings
from askfirst.store import Store
from askfirst.store.tables import Release, ReleaseStatus
from askfirst.training.artifacts import remove_artifact

GRACE = timedelta(minutes=10)
# The artifact, and the noisy counts kept beside it (`release-<id>.state.npz`).
ARTIFACT_FILE = re.compile(r"release-(\d+)\.(json|state\.npz)")


def remove_retired_artifacts(store: Store, *, clock: Clock, settings: Settings) -> list[int]:
    """Delete the artifact files of releases retired over `GRACE` ago; returns their ids."""
    root = settings.releases_dir
    on_disk = {
        int(found.group(1))
        for path in (root.glob("*/*/release-*") if root.is_dir() else ())
        if (found := ARTIFACT_FILE.fullmatch(path.name)) is not None
    }
    if not on_disk:
        return []
    with store.reading() as session:
        rows = session.execute(
            select(Release.id, Release.artifact_path, Release.state_path).where(
                Release.id.in_(sorted(on_disk)),
                Release.status == ReleaseStatus.RETIRED,
                Release.retired_at <= clock.now() - GRACE,
            )
        ).all()
    for _release_id, *files in rows:
        for relative in files:
            if relative:
                remove_artifact(root, relative)
    return sorted(row.id for row in rows)
