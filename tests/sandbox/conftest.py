from __future__ import annotations

import pytest


@pytest.fixture(autouse=True)
def _fresh_state(fresh_sandbox_state):
    """Every sandbox test starts from the seed."""
    return fresh_sandbox_state
