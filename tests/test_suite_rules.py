"""Rules for the test suite itself: tests build their data (tests/factories.py) and use public APIs.

A ratchet: the files still loading the demo county are listed and the list may only shrink."""
import re
from pathlib import Path

TESTS = Path(__file__).resolve().parent

# The demo tests (the browser flows load the demo through their own fixtures).
DEMO_ALLOWED = {"test_demo.py"}
# (the demo fixtures as a test or fixture parameter, or the demo loader called directly)
DEMO_FIXTURE = re.compile(r"def \w+\([^)]*\bdemo\b|\bload_demo\(")
# Our modules' private state, and the minio client's multipart internals (S3Store.multipart_uploads lists them).
# (test_storage_contract reads the minio client's credential provider: minio has no public getter and the
# moto peer accepts any key, so the URL decoding of credentials cannot be observed otherwise.)
PRIVATE_STATE = re.compile(r"__dict__|\._shared\b|\._EXTENDERS\b|\._REGISTRY\b|\.client\._\w*multipart")


def _test_files():
    return sorted(p for p in TESTS.glob("test_*.py") if p.name != Path(__file__).name)


# conftest's `app` (and `browser`, `api` over it) is built on the demo county, unless the file defines its own
DEMO_APP = re.compile(r"def test\w*\([^)]*\b(app|browser|api)\b")


def _loads_demo(text: str) -> bool:
    return bool(DEMO_FIXTURE.search(text) or (DEMO_APP.search(text) and "def app(" not in text))


def test_only_the_listed_files_load_the_demo_county():
    users = {p.name for p in _test_files() if _loads_demo(p.read_text(encoding="utf-8"))}
    assert users <= DEMO_ALLOWED, f"build the data with the `make`/`county` fixtures instead: {users - DEMO_ALLOWED}"


def test_no_test_reads_private_state():
    found = [f"{p.name}:{n}: {line.strip()}" for p in _test_files()
             for n, line in enumerate(p.read_text(encoding="utf-8").splitlines(), 1) if PRIVATE_STATE.search(line)]
    assert found == [], "use a public API (see Runtime.close, S3Store.multipart_uploads):\n" + "\n".join(found)
