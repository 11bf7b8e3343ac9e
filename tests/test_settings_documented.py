"""Every setting the service reads is documented in the README (as datasette does)."""
import re
from pathlib import Path

from archive_service.settings import SETTINGS

ROOT = Path(__file__).resolve().parents[1]


def test_every_setting_is_documented():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    missing = [name for name in SETTINGS if name not in readme]
    assert not missing, f"undocumented settings: {missing}"


def test_code_reads_no_unlisted_setting():
    used = set()
    for path in (ROOT / "archive_service").rglob("*.py"):
        used |= set(re.findall(r"\b(ARCHIVE_[A-Z_]+)\b", path.read_text(encoding="utf-8")))
    assert used <= set(SETTINGS), f"settings read but not listed: {used - set(SETTINGS)}"


def test_readme_starts_with_the_two_commands():
    head = (ROOT / "README.md").read_text(encoding="utf-8")[:1500]
    assert "make run" in head and "make test" in head
