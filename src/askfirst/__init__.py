"""askfirst: chat features trained only on data of members who said yes, with user-level DP."""

from __future__ import annotations

__version__ = "0.1.0"
