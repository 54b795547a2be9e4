"""Helpers shared by the test_crafted_* tests (no fixtures of its own), plus a
check that pcaps/crafted/ is what tools/craft/craft.py writes.

The crafted captures are written by `python3 tools/craft/craft.py` (run it
before pytest: the tshark fixture copies pcaps/ when the session starts).
Every expected value in the test_crafted_* files is derived by hand from
/work/shared/SPEC.md; the reasoning is in the comments beside the values.

Notation of the comments:
  AB = flow A->B (client to server), BA = the reverse flow
  he = high_end, ah = ack_high, rec = records a pending entry
  TS x (t, f, [s,e)) = pending TS entry for TSval x, time t ms, frame f, range
  seq e (t, f) = pending seq entry with end e
"""
import filecmp
import subprocess
import sys
from decimal import Decimal
from pathlib import Path

from lib import fields  # tools/ is on sys.path (conftest.py)

ROOT = Path(__file__).resolve().parents[2]
CRAFT = ROOT / "tools" / "craft" / "craft.py"

# The fields row() below knows, in table order: all but SPEC v4's pathrtd
# (not in the hand-derived expectations yet).
FIELDS = [f for f in fields.FIELDS if f not in fields.pick("pathrtd", "pathrtd.frame")]

# FT_BOOLEAN as the harness reads it on every Wireshark version (4.4+ print
# True/False in -T fields, 4.0 1/0; tools/connmon_tshark.py normalises)
TRUE, FALSE = "1", "0"


def sec(ms_value):
    """A time in milliseconds (int/str) as tshark prints FT_RELATIVE_TIME."""
    v = Decimal(str(ms_value)) / 1000
    s = f"{abs(v):.9f}"
    return ("-" + s) if v < 0 else s


def row(flow, payload, flowbytes, seqgap=None, ts=None, seq=None, minrtd=None, dup=None):
    """Expected connmon fields of one analysed frame.

    ts = (tsrtd ms, frame, pureack bool); seq = (seqrtd ms, frame);
    minrtd in ms; dup = (age ms, num, frame).  Absent fields stay absent."""
    r = {"connmon.payload": str(payload), "connmon.flowbytes": str(flowbytes),
         "connmon.flow": flow}
    if seqgap is not None:
        r["connmon.seqgap"] = str(seqgap)
    if ts is not None:
        r["connmon.tsrtd"] = sec(ts[0])
        r["connmon.tsrtd.frame"] = str(ts[1])
        r["connmon.tsrtd.pureack"] = TRUE if ts[2] else FALSE
    if seq is not None:
        r["connmon.seqrtd"] = sec(seq[0])
        r["connmon.seqrtd.frame"] = str(seq[1])
    if minrtd is not None:
        r["connmon.minrtd"] = sec(minrtd)
    if dup is not None:
        r["connmon.dupack"] = sec(dup[0])
        r["connmon.dupack.num"] = str(dup[1])
        r["connmon.dupack.frame"] = str(dup[2])
    return r


def connmon_table(tshark, pcap, extra=()):
    return tshark.table(pcap, FIELDS, extra)


def assert_frames(got, expected, frames=None):
    """Compares frame by frame (every connmon field, absence included) and
    reports all differing frames at once."""
    frames = frames if frames is not None else sorted(set(got) | set(expected))
    diffs = []
    for f in frames:
        g = got.get(f, {})
        e = expected.get(f, {})
        if g != e:
            keys = sorted(set(g) | set(e))
            d = {k: (e.get(k), g.get(k)) for k in keys if e.get(k) != g.get(k)}
            diffs.append(f"frame {f}: (expected, got) {d}")
    assert not diffs, "\n" + "\n".join(diffs)


def test_crafted_captures_are_current(tmp_path):
    """pcaps/crafted/ holds exactly what craft.py writes (deterministic)."""
    subprocess.run([sys.executable, str(CRAFT), str(tmp_path)], check=True,
                   capture_output=True)
    names = sorted(p.name for p in tmp_path.glob("*.pcap"))
    assert names, "craft.py wrote nothing"
    for name in names:
        committed = ROOT / "pcaps" / "crafted" / name
        assert committed.exists(), f"{name} missing: run python3 tools/craft/craft.py"
        assert filecmp.cmp(tmp_path / name, committed, shallow=False), \
            f"pcaps/crafted/{name} is stale: run python3 tools/craft/craft.py"
