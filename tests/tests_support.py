"""Markers shared by the test modules."""
import os

import pytest

PG_ONLY = pytest.mark.skipif(
    not os.environ.get("ARCHIVE_TEST_DATABASE_URL", "").startswith("postgresql"),
    reason="needs PostgreSQL (the PostgreSQL leg of `make test` runs it)")
