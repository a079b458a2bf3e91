"""A live Matrix homeserver as a source of chat data, and a place where members answer consent.

The bot account's sync writes rooms as channels, users as members and timeline events as
messages, reactions, edits and redactions (`askfirst.matrix.room_writer`); a member's direct
room with the bot takes `yes`, `no` and `status` (`askfirst.matrix.consent_commands`).
See docs/matrix.md.
"""
