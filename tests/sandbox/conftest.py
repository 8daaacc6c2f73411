from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

# The emulated service's clock in these tests: a fixed moment (noon in China), frozen, so that
# the dates it files sends under are known and receipts arrive only when a test advances it.
SERVICE_NOW = datetime(2026, 12, 1, 12, 0, 0, tzinfo=timezone(timedelta(hours=8)))
SERVICE_DATE = "20261201"


@pytest.fixture(autouse=True)
def _fresh_state(fresh_sandbox_state):
    """Every sandbox test starts from the seed, at SERVICE_NOW."""
    fresh_sandbox_state.alibaba.state.set_clock(SERVICE_NOW, frozen=True)
    return fresh_sandbox_state
