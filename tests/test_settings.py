"""Settings from the environment: defaults, values, and clear errors for bad ones."""

from __future__ import annotations

from pathlib import Path

import pytest

from askfirst.settings import Settings, load_settings


def test_session_idle_minutes_default_and_read() -> None:
    assert load_settings({}).session_idle_minutes == 30
    assert load_settings({"ASKFIRST_SESSION_IDLE_MINUTES": " 45 "}).session_idle.seconds == 2700


@pytest.mark.parametrize("value", ["half an hour", "1.5", "0", "-5", "721"])
def test_a_bad_session_idle_timeout_is_refused_by_name(value: str) -> None:
    with pytest.raises(ValueError, match="SESSION_IDLE_MINUTES"):
        load_settings({"ASKFIRST_SESSION_IDLE_MINUTES": value})


def test_settings_made_in_code_are_checked_too() -> None:
    with pytest.raises(ValueError, match="from 1 to 720"):
        Settings(data_dir=Path("."), database_url="sqlite://", session_idle_minutes=0)


def test_small_count_threshold_default_read_and_checked() -> None:
    assert load_settings({}).small_count_threshold == 5
    assert load_settings({"ASKFIRST_SMALL_COUNT_THRESHOLD": "10"}).small_count_threshold == 10
    for value in ("0", "five"):
        with pytest.raises(ValueError, match="SMALL_COUNT_THRESHOLD"):
            load_settings({"ASKFIRST_SMALL_COUNT_THRESHOLD": value})


@pytest.mark.parametrize(
    ("variable", "field", "default"),
    [
        ("ASKFIRST_MAX_BODY_BYTES", "max_body_bytes", 65_536),
        ("ASKFIRST_MAX_MESSAGE_BODY_BYTES", "max_message_body_bytes", 1_048_576),
        ("ASKFIRST_SIGNIN_PER_MINUTE", "signin_per_minute", 10),
        ("ASKFIRST_EXPENSIVE_PER_MINUTE", "expensive_per_minute", 30),
    ],
)
def test_request_limits_default_read_and_checked(variable: str, field: str, default: int) -> None:
    assert getattr(load_settings({}), field) == default
    assert getattr(load_settings({variable: "2048"}), field) == 2048
    for value in ("0", "lots", "-1"):
        with pytest.raises(ValueError, match=variable):
            load_settings({variable: value})


def test_allowed_hosts_default_to_none_beyond_loopback() -> None:
    assert load_settings({}).allowed_hosts == ()
