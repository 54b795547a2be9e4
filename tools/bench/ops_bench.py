#!/usr/bin/env python3
"""Does --metrics (or --aggregate) slow packet processing?  Packets/s of
`connmon -r big.pcap` on one core, with and without them.

    tools/bench/ops_bench.py [--packets N] [--reps N] [--build DIR]

The capture is the benchmark's synthetic bulk capture (gencap.py, cached
in --work).  Each run's CPU time is user+sys of the whole process, every
thread included (wait4), and packets/s is packets / CPU time, the best of
--reps runs.  A --metrics run keeps serving after the file ends, so it is
timed up to its "input ended" log line and then stopped with SIGTERM (the
idle server thread adds nothing measurable after that).  "scraped" runs
fetch /metrics ten times a second while the file is read, forty times
Prometheus's usual rate, so any cost of publishing shows up.
"""
import argparse
import os
import re
import signal
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent))
import bench  # noqa: E402  (capture generation and caching)


def run(cmd, scrape=False):
    """(cpu_seconds, wall_seconds_to_end_of_input, scrapes)."""
    t0 = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    wall, scrapes, stop = None, [0], threading.Event()

    def scraper(url):
        while not stop.is_set():
            with urllib.request.urlopen(url, timeout=5) as r:
                r.read()
            scrapes[0] += 1
            stop.wait(0.1)

    threads = []
    metrics = "--metrics" in cmd
    for line in proc.stderr if metrics else []:
        m = re.search(r"serving (http://\S+/metrics)", line)
        if m and scrape and not threads:
            url = m.group(1).replace("*", "127.0.0.1")
            threads.append(threading.Thread(target=scraper, args=(url,), daemon=True))
            threads[0].start()
        if "input ended" in line:
            wall = time.perf_counter() - t0
            stop.set()
            for t in threads:
                t.join()
            proc.send_signal(signal.SIGTERM)
            break
    _pid, status, ru = os.wait4(proc.pid, 0)
    if wall is None:
        wall = time.perf_counter() - t0
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"failed: {' '.join(cmd)}\n{proc.stderr.read()}")
    return ru.ru_utime + ru.ru_stime, wall, scrapes[0]


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--packets", type=int, default=300_000)
    ap.add_argument("--flows", type=int, default=24)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--reps", type=int, default=5)
    ap.add_argument("--work", default=os.path.join(tempfile.gettempdir(), "connmon-bench"))
    ap.add_argument("--build", default=os.environ.get("CONNMON_BUILD_DIR", "build"))
    args = ap.parse_args()

    src, _ = bench.capture(args)
    cli = str(Path(args.build).resolve() / "bin" / "connmon")
    last = subprocess.run([cli, "-q", "--json", "-r", str(src)], capture_output=True,
                          text=True).stdout.rstrip().rsplit("\n", 1)[-1]
    npk = int(last.split('"frame":')[1].split(",")[0])
    m = ["--metrics", "127.0.0.1:0"]
    variants = [
        ("connmon -m -q", [cli, "-r", str(src), "-m", "-q"], False),
        ("connmon -m -q --metrics", [cli, "-r", str(src), "-m", "-q"] + m, False),
        ("connmon -m -q --metrics, scraped 10/s", [cli, "-r", str(src), "-m", "-q"] + m, True),
        ("connmon -q --aggregate 1", [cli, "-r", str(src), "-q", "--aggregate", "1"], False),
        ("connmon -q --aggregate 1 --metrics, /32",
         [cli, "-r", str(src), "-q", "--aggregate", "1", "--prefix4", "32"] + m, True),
    ]
    results = {name: [] for name, _, _ in variants}
    run(variants[0][1])  # warm the page cache
    for _ in range(args.reps):  # interleaved: load changes hit every variant alike
        for name, cmd, scrape in variants:
            results[name].append(run(cmd, scrape))
    print(f"capture: {src} ({npk} packets), best of {args.reps} interleaved runs, "
          f"load average {os.getloadavg()[0]:.2f}")
    print(f"{'command':42} {'CPU s':>7} {'wall s':>7} {'Mpkt/s':>7} {'vs -m':>6} {'scrapes':>7}")
    base = min(r[0] for r in results[variants[0][0]])
    for name, _, _ in variants:
        cpu, wall, scrapes = min(results[name], key=lambda r: r[0])
        print(f"{name:42} {cpu:7.3f} {wall:7.3f} {npk / cpu / 1e6:7.3f} "
              f"{cpu / base:6.3f} {scrapes:7d}")


if __name__ == "__main__":
    main()
