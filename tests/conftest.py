"""Shared fixtures: every test gets its own Amadeus home so nothing touches the user's data."""

from __future__ import annotations

import os

import pytest

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")


@pytest.fixture(autouse=True)
def amadeus_home(tmp_path_factory, monkeypatch):
    """A fresh, empty ``$AMADEUS_HOME`` for each test."""
    home = tmp_path_factory.mktemp("amadeus-home")
    monkeypatch.setenv("AMADEUS_HOME", str(home))
    return home
