"""Consent where members chat: the commands a member sends the bot in their direct room.

`yes <purpose>`, `no <purpose>`, `status`, `notice <purpose>`, `receipt <purpose>` and `help`.
Answers go through `askfirst.consent.answers` like every other (method `matrix`, journaled in
the transaction that writes the sync); the reply says what is recorded now.
"""

from __future__ import annotations

import json
from collections.abc import Mapping

from sqlalchemy.orm import Session

from askfirst.clock import Clock
from askfirst.consent.answers import grant, withdraw
from askfirst.consent.errors import ConsentError
from askfirst.consent.notices import current_notice, duration_words
from askfirst.consent.purposes import Purpose, find_purpose
from askfirst.consent.receipts import PRIVACY_PATH, member_receipt
from askfirst.consent.status import ConsentStatus, consent_status, current_answers
from askfirst.store.tables import Answer, AnswerMethod, Member

COMMANDS = (
    "yes <purpose> (say yes), no <purpose> (say no, or withdraw a yes), status (your answers), "
    "notice <purpose> (what a yes allows), receipt <purpose> (your consent receipt), help"
)
LONGEST_ECHO = 80  # how much of a command the bot repeats when it does not understand it


class ConsentCommands:
    """Answers one member's commands; `answer` has the shape `RoomWriter` calls."""

    def __init__(self, clock: Clock, purposes: Mapping[str, Purpose]) -> None:
        self.clock = clock
        self.purposes = purposes

    def answer(self, session: Session, member_id: int, text: str) -> str:
        """The bot's reply to `text` from the member, after recording any answer it gives."""
        words = text.split()
        verb = words[0].lower() if words else ""
        try:
            if verb in ("yes", "no") and len(words) == 2:
                return self._answer(session, member_id, words[1], granted=verb == "yes")
            if verb == "status" and len(words) == 1:
                return self._status(session, member_id)
            if verb == "notice" and len(words) == 2:
                return self._notice(session, member_id, words[1])
            if verb == "receipt" and len(words) == 2:
                return self._receipt(session, member_id, words[1])
        except ConsentError as error:
            return f"{error}.\nCommands: {COMMANDS}."
        if verb == "help" and len(words) == 1:
            return self._help()
        shown = text.strip()[:LONGEST_ECHO] or "(an empty message)"
        return f"I did not understand {shown!r}.\n{self._help()}"

    def _answer(self, session: Session, member_id: int, key: str, *, granted: bool) -> str:
        purpose = find_purpose(self.purposes, key)
        record = grant if granted else withdraw
        record(
            session,
            member_id=member_id,
            purpose_key=purpose.key,
            method=AnswerMethod.MATRIX,
            clock=self.clock,
            purposes=self.purposes,
        )
        status = consent_status(
            session, member_id=member_id, purpose_key=purpose.key, purposes=self.purposes
        )
        lines = [f"Recorded. {_status_line(purpose, status)}"]
        if granted:  # what the yes was to, in full: the notice shown now
            lines.append(f"You said yes to this notice:\n{self._notice(session, member_id, key)}")
        if status.answer is Answer.WITHDRAWN:
            lines.append(
                "Your data leaves the served models within "
                f"{duration_words(purpose.withdrawal_deadline)}; "
                "your withdrawal's progress is on your privacy page."
            )
        lines.append(f"Your receipt: send `receipt {purpose.key}`.")
        return "\n".join(lines)

    def _status(self, session: Session, member_id: int) -> str:
        statuses = current_answers(session, member_id, self.purposes)
        return "\n".join(
            _status_line(self.purposes[key], status) for key, status in sorted(statuses.items())
        )

    def _notice(self, session: Session, member_id: int, key: str) -> str:
        purpose = find_purpose(self.purposes, key)
        member = _member(session, member_id)
        shown = current_notice(session, workspace_id=member.workspace_id, purpose=purpose)
        answers = f"answer `yes {key}` or `no {key}`"
        return f"{shown.text}\n\n(notice version {shown.version[:12]}; {answers})"

    def _receipt(self, session: Session, member_id: int, key: str) -> str:
        purpose = find_purpose(self.purposes, key)
        receipt = member_receipt(
            session,
            member_id=member_id,
            purpose_key=purpose.key,
            purposes=self.purposes,
            policy_url=PRIVACY_PATH,
        )
        return f"Your consent receipt for {purpose.title}:\n{json.dumps(receipt, indent=2)}"

    def _help(self) -> str:
        purposes = ", ".join(f"{key} ({p.title})" for key, p in sorted(self.purposes.items()))
        return f"Commands: {COMMANDS}.\nPurposes: {purposes}."


def _status_line(purpose: Purpose, status: ConsentStatus) -> str:
    answer = status.answer.value if status.answer is not None else "not asked"
    since = "" if status.since is None else f" since {status.since:%Y-%m-%d %H:%M} UTC"
    counts = "counts" if status.effective else "does not count"
    return f"{purpose.key}: {answer}{since}; {counts}: {status.reason}"


def _member(session: Session, member_id: int) -> Member:
    member = session.get(Member, member_id)
    if member is None:
        raise ConsentError(f"unknown member id {member_id}")
    return member
