#!/usr/bin/env python3
"""Dumps every connmon value of every bundled capture, for one Wireshark.

Run once per Wireshark version (on the host, and in each chroot by
scripts/versions.sh), each time with that version's tshark and the plugin
built against it; tests/versions/test_compare.py then checks that the
dumps agree.  Writes OUT/dump-<major.minor>.json:

    {"wireshark": "4.4.19", "minor": "4.4", "tshark": "<first --version line>",
     "plugin": "<tshark -G plugins line of connmon>",
     "fields": [[abbrev, type], ...],          # every connmon.* field, -G fields
     "experts": [message, ...],                # connmon's expert messages
     "runs": {variant: {capture: {"rc": N, "frames": N,
                                   "rows": [[frame.number, v1, v2, ...], ...],
                                   "expert": {frame: [expert info, ...]}}}},
     "stats": {capture: [lines of -q -z connmon,tree]},
     "cli": {capture: {"rc": N, "lines": [--json lines]}}}

Values are tshark's raw -T fields text (all occurrences, joined by U+001F);
rows are only the frames with a connmon value.  Expert infos are the
`_ws.expert` entries whose message is one of connmon's (Wireshark's own TCP
expert infos changed between versions and are not ours to compare).
Normalising version-specific printing is the comparison's job.

    tests/versions/dump.py --build build --out build-versions
"""
import argparse
import json
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "tools"))

import connmon_tshark  # noqa: E402

AGG = "\x1f"
# variant name -> extra tshark arguments; every variant is compared across versions
VARIANTS = {
    "default": [],
    "two-pass": ["-2"],
    "pure-acks-all": ["-o", "connmon.ts_pure_acks:all"],
    "pure-acks-none+max-age": ["-o", "connmon.ts_pure_acks:none",
                               "-o", "connmon.rtd_max_age:0.5"],
}


def captures(pcaps: Path):
    return sorted(p.relative_to(pcaps).as_posix()
                  for p in pcaps.rglob("*") if p.is_file() and ".pcap" in p.name)


def connmon_fields(ts):
    """[(abbrev, type)] of every connmon field, in registration order."""
    out = ts.run(["-G", "fields"]).stdout
    fields = []
    for line in out.splitlines():
        col = line.split("\t")
        if len(col) >= 5 and col[0] == "F" and col[4] == "connmon":
            fields.append((col[2], col[3], col[1]))
    if not fields:
        raise SystemExit("no connmon fields in tshark -G fields: plugin not loaded?")
    return fields


def tshark_version(ts):
    line = ts.run(["--version"]).stdout.splitlines()[0]
    m = re.search(r"(\d+)\.(\d+)\.(\d+)", line)
    if not m:
        raise SystemExit("cannot read the tshark version from: " + line)
    return line, m.group(0), f"{m.group(1)}.{m.group(2)}"


def dump_run(ts, cap, fields, experts, extra):
    names = [f for f, _t, _n in fields]
    args = ["-r", ts.pcap(cap), "-T", "fields", "-E", "occurrence=a",
            "-E", "aggregator=" + AGG, "-e", "frame.number"]
    for f in names + ["_ws.expert"]:
        args += ["-e", f]
    proc = ts.run(extra + args, check=False)
    rows, expert, frames = [], {}, 0
    for line in proc.stdout.splitlines():
        col = line.split("\t")
        if len(col) != len(names) + 2:
            raise SystemExit(f"{cap}: unexpected -T fields line: {line!r}")
        frames += 1
        values = col[1:-1]
        mine = [e for e in col[-1].split(AGG) if e and any(e.endswith(m) for m in experts)]
        if any(values):
            rows.append([col[0]] + values)
        if mine:
            expert[col[0]] = mine
    return {"rc": proc.returncode, "frames": frames, "rows": rows, "expert": expert,
            "stderr": proc.stderr.strip().splitlines()[-3:]}


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--build", default=None,
                    help="build dir or plugin root (default $CONNMON_BUILD_DIR or build/)")
    ap.add_argument("--out", required=True, help="directory for dump-<minor>.json")
    ap.add_argument("--pcaps", default=str(ROOT / "pcaps"))
    args = ap.parse_args()

    build = connmon_tshark.default_build_dir() if args.build is None else Path(args.build).resolve()
    cli = build / "bin" / "connmon"
    pcaps = Path(args.pcaps).resolve()
    caps = captures(pcaps)
    with connmon_tshark.staged(build, captures=pcaps, prefix="connmon-dump-") as ts:
        ts.require_plugin()
        line, version, minor = tshark_version(ts)
        fields = connmon_fields(ts)
        experts = [n for f, _t, n in fields if f.startswith("connmon.expert.")]
        plugin = [l for l in ts.run(["-G", "plugins"]).stdout.splitlines()
                  if l.startswith("connmon")]
        result = {"wireshark": version, "minor": minor, "tshark": line,
                  "plugin": plugin[0] if plugin else "",
                  "fields": [[f, t] for f, t, _n in fields], "experts": experts,
                  "captures": caps, "runs": {}, "stats": {}, "cli": {}}
        for variant, extra in VARIANTS.items():
            result["runs"][variant] = {c: dump_run(ts, c, fields, experts, extra) for c in caps}
        for c in caps:
            p = ts.run(["-r", ts.pcap(c), "-q", "-z", "connmon,tree"], check=False)
            result["stats"][c] = p.stdout.splitlines()
        if cli.exists():
            for c in caps:
                p = subprocess.run([str(cli), "--json", "-q", "-r", str(pcaps / c)],
                                   capture_output=True, text=True)
                result["cli"][c] = {"rc": p.returncode, "lines": p.stdout.splitlines()}
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    path = out / f"dump-{minor}.json"
    path.write_text(json.dumps(result, indent=None, separators=(",", ":")) + "\n")
    nrows = sum(len(r["rows"]) for r in result["runs"]["default"].values())
    print(f"{path}: Wireshark {version}, {len(caps)} captures x {len(VARIANTS)} variants, "
          f"{len(fields)} connmon fields, {nrows} frames with connmon values (default run)"
          + ("" if cli.exists() else "; no CLI built"))


if __name__ == "__main__":
    main()
