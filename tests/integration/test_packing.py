"""Idle connections packed (engine/conn_pack.c, cm_config.pack_idle_ns,
connmon --packIdle) never change a value: every bundled capture gives the
same per-packet JSON and the same --flows records whether connections are
packed after every packet, after the default 0.1 s, or never.  The engine's
own differential test (tests/unit/test_random.c) and the packet-path fuzz
target check the same on random and mutated input."""
import pytest

from conftest import PCAPS
from test_flows import cli

ALL_PCAPS = sorted(str(p.relative_to(PCAPS)) for p in PCAPS.rglob("*.pcap*"))


def run_both(pcap, *extra):
    outs = {}
    for pack in ("never", "0", None):
        args = ["-r", PCAPS / pcap, *extra] + (["--packIdle", pack] if pack else [])
        outs[pack] = cli(*args).stdout
    return outs


@pytest.mark.parametrize("pcap", ALL_PCAPS)
def test_packing_keeps_every_value(pcap):
    outs = run_both(pcap, "--json", "--flowMaxIdle", "0")
    assert outs["never"], "no output"
    assert outs["0"] == outs["never"]
    assert outs[None] == outs["never"]


@pytest.mark.parametrize("pcap", ALL_PCAPS)
def test_packing_keeps_flow_records(pcap):
    outs = run_both(pcap, "--flows", "-")
    assert outs["0"] == outs["never"]


def test_packing_happens_and_is_counted():
    """-v says how often connections were packed and unpacked: on a real
    capture with --packIdle 0 every packet packs its connection again."""
    pcap = PCAPS / ALL_PCAPS[0]
    err = cli("-r", pcap, "-m", "-v", "--packIdle", "0").stderr
    line = next(x for x in err.splitlines() if x.startswith("engine: "))
    # engine: N connections (H not packed), B bytes; packed P times, unpacked U
    words = line.replace("(", " ").replace(",", " ").split()
    held, hot = int(words[1]), int(words[3])
    packed, unpacked = int(words[-4]), int(words[-1])
    assert hot == 0 and held > 0
    assert packed > 0 and unpacked == packed - held
    err = cli("-r", pcap, "-m", "-v", "--packIdle", "never").stderr
    line = next(x for x in err.splitlines() if x.startswith("engine: "))
    assert line.endswith("packed 0 times, unpacked 0")


@pytest.mark.parametrize("bad", ["-1", "x", "1e99999", ""])
def test_bad_pack_idle_is_refused(bad):
    proc = cli("-r", PCAPS / ALL_PCAPS[0], "--packIdle", bad, check=False)
    assert proc.returncode == 2
    assert "--packIdle" in proc.stderr
