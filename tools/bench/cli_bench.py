#!/usr/bin/env python3
"""Command-line speed: packets/s and CPU time of `connmon -r big.pcap -m -q`
next to tshark with the plugin on the same capture, in one run.

    tools/bench/cli_bench.py [--packets N] [--reps N] [--keep] [--build DIR]
                             [--compare NAME=COMMAND ...]

The capture is the benchmark's synthetic bulk capture (gencap.py, cached
with --keep).  CPU time is user+sys of the child (wait4), the best of
--reps runs (the least disturbed by other load on a shared machine), and
packets/s is packets divided by that CPU time.  --compare adds other tools
run on the same file, e.g. --compare 'pping=pping -r {pcap} -m -q'.
"""
import argparse
import os
import shlex
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent))
import bench  # noqa: E402  (capture generation and caching)
import connmon_tshark  # noqa: E402


def measure(cmd, env=None):
    """(cpu_seconds, wall_seconds) of one run, stdout to /dev/null."""
    t0 = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env)
    _pid, status, ru = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - t0
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"failed: {' '.join(cmd)}\n{proc.stderr.read().decode()}")
    return ru.ru_utime + ru.ru_stime, wall


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--packets", type=int, default=150_000)
    ap.add_argument("--flows", type=int, default=24)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--reps", type=int, default=5)
    ap.add_argument("--keep", action="store_true")
    ap.add_argument("--work", default=os.path.join(tempfile.gettempdir(), "connmon-bench"))
    ap.add_argument("--build", default=os.environ.get("CONNMON_BUILD_DIR", "build"),
                    help="build dir with bin/connmon and plugins/ (default build)")
    ap.add_argument("--compare", action="append", default=[], metavar="NAME=COMMAND",
                    help="another command to time; {pcap} is replaced by the capture")
    args = ap.parse_args()

    src, _ = bench.capture(args)
    cli = Path(args.build).resolve() / "bin" / "connmon"
    if not cli.exists():
        raise SystemExit(f"{cli} not built")
    # packets in the file: the last frame number of the CLI's JSON output
    last = subprocess.run(f"{shlex.quote(str(cli))} --json -q -r {shlex.quote(str(src))} | tail -1",
                          shell=True, capture_output=True, text=True).stdout
    npk = int(last.split('"frame":')[1].split(",")[0]) if last else 0

    rows = []
    with connmon_tshark.staged(args.build, prefix="connmon-clibench-") as ts:
        ts.require_plugin()
        pcap = ts.stage_file(src)
        runs = [
            ("connmon -m -q", [str(cli), "-r", str(src), "-m", "-q"], None),
            ("connmon --json -q", [str(cli), "-r", str(src), "--json", "-q"], None),
            ("tshark + plugin, -q -z conv,tcp", ts.command(["-r", pcap, "-q", "-z", "conv,tcp"]),
             ts.env),
            ("tshark + plugin, -T fields connmon.*",
             ts.command(["-r", pcap, "-T", "fields", "-e", "frame.time_epoch", "-e",
                         "connmon.tsrtd", "-e", "connmon.seqrtd", "-e", "connmon.seqgap",
                         "-e", "connmon.dupack", "-e", "connmon.payload", "-e",
                         "connmon.flowbytes", "-e", "connmon.flow"]), ts.env),
        ]
        for spec in args.compare:
            name, _, command = spec.partition("=")
            runs.append((name, shlex.split(command.replace("{pcap}", str(src))), None))
        for name, cmd, env in runs:
            measure(cmd, env)  # warm the page cache
            best = min((measure(cmd, env) for _ in range(args.reps)), key=lambda r: r[0])
            rows.append((name, cmd, best))

    print(f"capture: {src} ({npk} packets, {src.stat().st_size / 1e6:.1f} MB), best of "
          f"{args.reps} runs, load average {os.getloadavg()[0]:.2f}")
    print(f"{'command':40} {'CPU s':>8} {'wall s':>8} {'Mpkt/s (CPU)':>13}")
    for name, cmd, (cpu, wall) in rows:
        print(f"{name:40} {cpu:8.3f} {wall:8.3f} {npk / cpu / 1e6:13.3f}")
    print("\ncommands:")
    for name, cmd, _ in rows:
        print(f"  {name}: {' '.join(shlex.quote(c) for c in cmd)}")


if __name__ == "__main__":
    main()
