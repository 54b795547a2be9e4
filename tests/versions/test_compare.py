"""Every connmon value on every bundled capture is the same on every
Wireshark version (4.0, 4.4, 4.6), once version-specific printing is
normalised.

Compares the dumps tests/versions/dump.py made with each version's tshark
and the plugin built against it (see versions_common.py for where they are
found).  Normalised:

* FT_BOOLEAN fields: 4.0 prints 1/0, 4.4 and later True/False -> 1/0.
* Expert infos are compared as (severity, group, message).
* Statistics tree lines: runs of blanks (column widths) -> one blank.
"""
import json
import re
from pathlib import Path

import pytest

from versions_common import ROOT, VERSIONS, VERSIONS_DIR, missing

DUMP_VARIANTS = ["default", "two-pass", "pure-acks-all", "pure-acks-none+max-age"]
PCAPS = ROOT / "pcaps"
CAPTURES = sorted(p.relative_to(PCAPS).as_posix()
                  for p in PCAPS.rglob("*") if p.is_file() and ".pcap" in p.name)
AGG = "\x1f"
_cache = {}


def dump(version):
    if version not in _cache:
        path = VERSIONS_DIR / f"dump-{version}.json"
        _cache[version] = json.loads(path.read_text()) if path.exists() else None
    return _cache[version]


def dumps():
    """{version: dump} of every expected version; fails (CI) or skips when
    one is missing; skips when fewer than two are there."""
    got = {}
    for v in VERSIONS:
        d = dump(v)
        if d is None:
            missing(f"dump-{v}.json (Wireshark {v})")
        got[v] = d
    if len(got) < 2:
        pytest.skip("fewer than two Wireshark versions to compare")
    return got


# ---- normalisation ------------------------------------------------------------

def norm_value(ftype, value):
    if ftype == "FT_BOOLEAN":
        return AGG.join({"True": "1", "False": "0"}.get(v, v) for v in value.split(AGG))
    return value


EXPERT_RE = re.compile(r"^Expert Info \(([^/]+)/([^)]+)\): (.*)$")


def norm_expert(entry):
    m = EXPERT_RE.match(entry)
    return m.groups() if m else (entry,)


def norm_run(d, run):
    types = [t for _f, t in d["fields"]]
    rows = {r[0]: tuple(norm_value(t, v) for t, v in zip(types, r[1:])) for r in run["rows"]}
    expert = {f: [norm_expert(e) for e in es] for f, es in run["expert"].items()}
    return run["rc"], run["frames"], rows, expert


def first_differences(base, other, names, limit=5):
    """Readable description of the first differing frames of two row maps."""
    out = []
    for frame in sorted(set(base) | set(other), key=int):
        a, b = base.get(frame), other.get(frame)
        if a == b:
            continue
        if a is None or b is None:
            out.append(f"frame {frame}: {'absent' if a is None else a} vs "
                       f"{'absent' if b is None else b}")
        else:
            diff = [f"{n}={x!r} vs {y!r}" for n, x, y in zip(names, a, b) if x != y]
            out.append(f"frame {frame}: " + ", ".join(diff))
        if len(out) >= limit:
            out.append("...")
            break
    return out


# ---- tests -----------------------------------------------------------------------

def test_dumps_present():
    got = dumps()
    for v, d in got.items():
        assert d["minor"] == v, f"dump-{v}.json was made by Wireshark {d['wireshark']}"
    assert len(got) == len(VERSIONS)


def test_same_fields():
    """The plugin registers the same connmon fields (names, types, order)
    and expert infos everywhere."""
    got = dumps()
    base_v, base = next(iter(got.items()))
    for v, d in got.items():
        assert d["fields"] == base["fields"], f"fields differ: {base_v} vs {v}"
        assert d["experts"] == base["experts"], f"expert infos differ: {base_v} vs {v}"


def test_same_captures():
    got = dumps()
    for v, d in got.items():
        assert d["captures"] == CAPTURES, f"Wireshark {v} dumped other captures than pcaps/ has"


def test_plugin_described_alike():
    """tshark -G plugins: same connmon version and plugin type everywhere
    (4.4 and later list a plugin without plugin_describe() as 'unknown')."""
    got = dumps()
    desc = {}
    for v, d in got.items():
        col = [c.strip() for c in d["plugin"].split("\t")]
        assert len(col) >= 3, f"Wireshark {v}: no connmon in tshark -G plugins: {d['plugin']!r}"
        desc[v] = (col[1], col[2])
    assert len(set(desc.values())) == 1, desc


@pytest.mark.parametrize("variant", DUMP_VARIANTS)
@pytest.mark.parametrize("capture", CAPTURES)
def test_fields_identical(capture, variant):
    """-T fields of every connmon field and connmon's expert infos, per frame."""
    got = dumps()
    base_v = next(iter(got))
    base = got[base_v]
    names = [f for f, _t in base["fields"]]
    if capture not in base["runs"][variant]:
        pytest.fail(f"{capture} not in Wireshark {base_v}'s dump")
    b_rc, b_frames, b_rows, b_exp = norm_run(base, base["runs"][variant][capture])
    assert b_rows, f"no connmon values at all in {capture} on {base_v}"
    problems = []
    for v, d in got.items():
        if v == base_v:
            continue
        run = d["runs"][variant].get(capture)
        if run is None:
            problems.append(f"{v}: {capture} not dumped")
            continue
        rc, frames, rows, exp = norm_run(d, run)
        if frames != b_frames:
            problems.append(f"{v}: {frames} frames, {base_v}: {b_frames}")
        if rows != b_rows:
            problems.append(f"{v} vs {base_v}: {len(rows)} vs {len(b_rows)} frames with values")
            problems += ["  " + x for x in first_differences(b_rows, rows, names)]
        if exp != b_exp:
            diff = [f"frame {f}: {b_exp.get(f)} vs {exp.get(f)}"
                    for f in sorted(set(exp) | set(b_exp), key=int)
                    if exp.get(f) != b_exp.get(f)][:5]
            problems.append(f"{v} vs {base_v}: connmon expert infos differ")
            problems += ["  " + x for x in diff]
    assert not problems, f"{capture} ({variant}):\n" + "\n".join(problems)


def norm_stats(lines):
    return [" ".join(l.split()) for l in lines if l.strip()]


@pytest.mark.parametrize("capture", CAPTURES)
def test_stats_identical(capture):
    """tshark -q -z connmon,tree."""
    got = dumps()
    base_v = next(iter(got))
    base = norm_stats(got[base_v]["stats"].get(capture, []))
    assert any(l.startswith("Packets ") for l in base), f"no stats tree on {base_v}"
    for v, d in got.items():
        other = norm_stats(d["stats"].get(capture, []))
        diff = [f"{a!r} vs {b!r}" for a, b in zip(base, other) if a != b][:5]
        assert other == base, (f"{capture}: stats tree of {v} differs from {base_v} "
                               f"({len(other)} vs {len(base)} lines):\n" + "\n".join(diff))


@pytest.mark.parametrize("capture", CAPTURES)
def test_cli_identical(capture):
    """The command line built on each system (libpcap differs) prints the
    same --json."""
    got = dumps()
    base_v = next(iter(got))
    base = got[base_v]["cli"].get(capture)
    if base is None:
        pytest.fail(f"no command-line output for {capture} in Wireshark {base_v}'s dump")
    for v, d in got.items():
        other = d["cli"].get(capture)
        assert other is not None, f"no command-line output for {capture} from {v}"
        assert other["rc"] == base["rc"], f"{capture}: exit status {other['rc']} on {v}, " \
                                          f"{base['rc']} on {base_v}"
        diff = [f"{a} vs {b}" for a, b in zip(base["lines"], other["lines"]) if a != b][:3]
        assert other["lines"] == base["lines"], f"{capture}: {v} vs {base_v}:\n" + "\n".join(diff)
