"""Shared settings of the cross-version tests (imported by test_*.py).

The per-version results (dump-<X.Y>.json from tests/versions/dump.py and
connmon_*+ws<X.Y>_*.deb from scripts/package.sh) are made by
scripts/versions.sh, on the host and in one Debian chroot per Wireshark
version (.ci/run does all of it), in one directory:

  CONNMON_VERSIONS_DIR   that directory.  Setting it is "CI mode": every
                         version in CONNMON_VERSIONS must be there, and a
                         missing one fails the tests.  Unset, build-versions/
                         in the checkout is used and missing versions are
                         skipped (with the reason).
  CONNMON_VERSIONS       the Wireshark minor versions to expect
                         (default "4.0 4.4 4.6").
"""
import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
CI_MODE = bool(os.environ.get("CONNMON_VERSIONS_DIR"))
VERSIONS_DIR = Path(os.environ.get("CONNMON_VERSIONS_DIR") or ROOT / "build-versions")
VERSIONS = os.environ.get("CONNMON_VERSIONS", "4.0 4.4 4.6").split()


def missing(what: str):
    """A required per-version result is missing: fail in CI mode, else skip."""
    msg = (f"{what} not in {VERSIONS_DIR} (made by scripts/versions.sh; "
           f".ci/run makes all of them)")
    if CI_MODE:
        pytest.fail(msg + " [CONNMON_VERSIONS_DIR is set, so this is an error]",
                    pytrace=False)
    pytest.skip(msg)
