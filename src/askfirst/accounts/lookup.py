"""Finding a member the way people name them at the command line: by login or by Slack id."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from askfirst.accounts.errors import UnknownAccount
from askfirst.store.tables import Account, Member


def find_member(session: Session, who: str, workspace_id: int | None = None) -> Member:
    """The member whose login, or else whose Slack id, is `who` (in one workspace if given).

    A login names one account anywhere; a Slack id is unique only within a workspace, so one
    found in several needs the workspace named.
    """
    by_login = select(Member).join(Account, Account.member_id == Member.id)
    by_login = by_login.where(Account.login == who)
    by_slack_id = select(Member).where(Member.slack_id == who)
    if workspace_id is not None:
        by_login = by_login.where(Member.workspace_id == workspace_id)
        by_slack_id = by_slack_id.where(Member.workspace_id == workspace_id)
    found = list(session.scalars(by_login)) or list(session.scalars(by_slack_id))
    if not found:
        where = "" if workspace_id is None else " in that workspace"
        raise UnknownAccount(
            f"no member has the login or Slack id {who!r}{where}; check the name "
            "(`askfirst consent show` takes either, e.g. ada or U024BE7LH)"
        )
    if len(found) > 1:
        raise UnknownAccount(f"{len(found)} workspaces have a member {who!r}; add --workspace")
    return found[0]
