"""Every phase of .ci/run passed (host suite, chroot setup, each chroot's
suite, dumps and package tests), so that the summary line of the pytest run
that ends .ci/run speaks for the whole run.  .ci/run writes one line per
phase to CONNMON_VERSIONS_DIR/phases.tsv: name, exit status, seconds."""
import pytest

from versions_common import CI_MODE, VERSIONS_DIR


def phases():
    path = VERSIONS_DIR / "phases.tsv"
    if not path.exists():
        return [pytest.param(None, marks=pytest.mark.skipif(
            not CI_MODE, reason=f"no {path}: written by .ci/run"))]
    return [tuple(line.split("\t")[:2]) for line in path.read_text().splitlines() if line]


@pytest.mark.parametrize("phase", phases(), ids=lambda p: p[0] if p else "phases.tsv")
def test_phase_passed(phase):
    if phase is None:
        pytest.fail(f"{VERSIONS_DIR / 'phases.tsv'} missing: .ci/run records its phases there",
                    pytrace=False)
    name, rc = phase
    logs = sorted(VERSIONS_DIR.glob("*.log"))
    assert rc == "0", (f".ci/run phase '{name}' exited {rc}; its output is above, "
                       f"logs: {' '.join(str(l) for l in logs)}")
