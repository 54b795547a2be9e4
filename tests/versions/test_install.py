"""Installs the .deb from scripts/package.sh with apt, uses it as root,
removes and purges it, and checks nothing is left.

This changes the system (the package puts connmon.so into Wireshark's
system plugin directory, where it would shadow every test build), so it
only runs when asked to: CONNMON_PACKAGE_INSTALL=1, as root.
scripts/versions.sh runs it inside each Debian chroot, with
CONNMON_DEB_DIR pointing at the directory holding the package.
"""
import json
import os
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
CAPTURE = ROOT / "pcaps" / "real" / "ipv4_delay_loss.pcap"

pytestmark = pytest.mark.skipif(
    os.environ.get("CONNMON_PACKAGE_INSTALL") != "1" or os.geteuid() != 0,
    reason="installs a package into the system: runs as root with "
           "CONNMON_PACKAGE_INSTALL=1 (scripts/versions.sh does, in a chroot)")

ENV = {"PATH": "/usr/sbin:/usr/bin:/sbin:/bin", "HOME": "/root", "LC_ALL": "C.UTF-8",
       "TZ": "UTC", "DEBIAN_FRONTEND": "noninteractive"}


def run(*cmd, check=True):
    p = subprocess.run([str(c) for c in cmd], capture_output=True, text=True, env=ENV)
    if check and p.returncode != 0:
        raise AssertionError(f"{' '.join(map(str, cmd))} exited {p.returncode}:\n"
                             f"{p.stdout[-2000:]}\n{p.stderr[-2000:]}")
    return p


def ws_minor():
    v = run("pkg-config", "--modversion", "wireshark").stdout.strip()
    return ".".join(v.split(".")[:2])


def plugin_path():
    d = run("pkg-config", "--variable=plugindir", "wireshark").stdout.strip()
    return Path(d) / "epan" / "connmon.so"


def installed():
    p = run("dpkg-query", "-W", "-f", "${Status}", "connmon", check=False)
    return p.returncode == 0 and "installed" in p.stdout.split()[-1:]


@pytest.fixture(scope="module")
def deb():
    d = Path(os.environ.get("CONNMON_DEB_DIR", "."))
    debs = sorted(d.glob(f"connmon_*+ws{ws_minor()}_*.deb"))
    if not debs:
        pytest.fail(f"no connmon_*+ws{ws_minor()}_*.deb in {d.resolve()} "
                    "(scripts/package.sh --out DIR makes it)")
    return debs[-1].resolve()


@pytest.fixture(scope="module")
def package(deb):
    run("dpkg", "--purge", "connmon", check=False)
    assert not plugin_path().exists(), f"{plugin_path()} exists before installing"
    # apt-get wants a path (./x.deb or /abs/x.deb) to install a file
    run("apt-get", "install", "-y", "-q", str(deb))
    try:
        yield deb
    finally:
        run("dpkg", "--purge", "connmon", check=False)


def test_installed_files(package):
    files = run("dpkg", "-L", "connmon").stdout.split()
    assert str(plugin_path()) in files
    assert "/usr/bin/connmon" in files
    assert plugin_path().is_file() and os.access("/usr/bin/connmon", os.X_OK)


def test_depends_on_this_wireshark_minor(package):
    minor = ws_minor()
    major, mi = minor.split(".")
    dep = run("dpkg-query", "-W", "-f", "${Depends}", "connmon").stdout
    assert f"(>= {minor}.0)" in dep and f"(<< {major}.{int(mi) + 1}~)" in dep, dep
    assert "libpcap" in dep, dep


def test_root_tshark_loads_the_installed_plugin(package):
    """tshark as root loads only the system plugin dir: the package's."""
    plugins = run("tshark", "-G", "plugins").stdout
    line = [l for l in plugins.splitlines() if l.startswith("connmon")]
    assert line and str(plugin_path()) in line[0], plugins


def tshark_tsrtd():
    out = run("tshark", "-r", CAPTURE, "-Y", "connmon.tsrtd", "-T", "fields",
              "-e", "frame.number", "-e", "connmon.tsrtd").stdout
    return [tuple(l.split("\t")) for l in out.splitlines()]


def test_root_tshark_gives_values(package):
    rows = tshark_tsrtd()
    assert len(rows) > 100
    flows = run("tshark", "-r", CAPTURE, "-Y", "connmon", "-T", "fields",
                "-e", "connmon.flow").stdout.split()
    assert "10.201.0.1:57004+10.201.0.2:5001" in flows


def test_installed_cli_agrees_with_tshark(package):
    p = run("/usr/bin/connmon", "--json", "-q", "-r", CAPTURE)
    cli = [(str(o["frame"]), "%.9f" % o["connmon.tsrtd"])
           for o in map(json.loads, p.stdout.splitlines()) if "connmon.tsrtd" in o]
    assert cli == tshark_tsrtd()
    p = run("/usr/bin/connmon", "-m", "-r", CAPTURE)
    assert len(p.stdout.splitlines()) > 100


def test_remove_and_purge_leave_nothing(package):
    files = [f for f in run("dpkg", "-L", "connmon").stdout.split()
             if Path(f).is_file()]
    run("apt-get", "remove", "-y", "-q", "connmon")
    left = [f for f in files if Path(f).exists()]
    assert not left, f"left after apt-get remove: {left}"
    assert not installed()
    # no conffiles: dpkg forgets the package on remove already; purge anyway
    run("dpkg", "--purge", "connmon")
    status = run("dpkg-query", "-W", "-f", "${Status}", "connmon", check=False)
    assert status.returncode != 0 or status.stdout.strip() == "unknown ok not-installed", \
        status.stdout
    assert "\tconnmon\t" not in run("tshark", "-G", "protocols").stdout
