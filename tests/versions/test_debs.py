"""The .deb that scripts/package.sh built for each Wireshark version:
its control fields and files, read with dpkg-deb (nothing is installed;
tests/versions/test_install.py installs them, in the chroots)."""
import re
import shutil
import subprocess

import pytest

from versions_common import ROOT, VERSIONS, VERSIONS_DIR, missing

pytestmark = pytest.mark.skipif(not shutil.which("dpkg-deb"), reason="needs dpkg-deb")


def project_version():
    m = re.search(r"^project\(connmon VERSION ([0-9.]+)", (ROOT / "CMakeLists.txt").read_text(),
                  re.M)
    return m.group(1)


def deb_for(minor):
    debs = sorted(VERSIONS_DIR.glob(f"connmon_*+ws{minor}_*.deb"))
    if not debs:
        missing(f"connmon_*+ws{minor}_*.deb (Wireshark {minor})")
    return debs[-1]


def field(deb, name):
    return subprocess.run(["dpkg-deb", "--field", str(deb), name], capture_output=True,
                          text=True, check=True).stdout.strip()


@pytest.mark.parametrize("minor", VERSIONS)
def test_control(minor):
    deb = deb_for(minor)
    assert field(deb, "Package") == "connmon"
    assert field(deb, "Version") == f"{project_version()}+ws{minor}"
    arch = field(deb, "Architecture")
    assert deb.name == f"connmon_{project_version()}+ws{minor}_{arch}.deb"
    deps = [d.strip() for d in field(deb, "Depends").split(",")]
    major, mi = minor.split(".")
    lo, hi = f"(>= {minor}.0)", f"(<< {major}.{int(mi) + 1}~)"
    for lib in ("libwireshark", "libwsutil"):
        pinned = [d for d in deps if re.match(lib + r"\d+ ", d)]
        assert len(pinned) == 2 and pinned[0].endswith(lo) and pinned[1].endswith(hi), \
            f"{lib} not pinned to Wireshark {minor}: {deps}"
        assert pinned[0].split()[0] == pinned[1].split()[0]
    assert any(d.startswith("libpcap") for d in deps), deps


@pytest.mark.parametrize("minor", VERSIONS)
def test_files(minor):
    deb = deb_for(minor)
    listing = subprocess.run(["dpkg-deb", "--contents", str(deb)], capture_output=True,
                             text=True, check=True).stdout.splitlines()
    files = {l.split()[-1].lstrip(".") for l in listing if not l.endswith("/")}
    owners = {tuple(l.split()[1].split("/")) for l in listing}
    plugin = [f for f in files if f.endswith("/connmon.so")]
    assert len(plugin) == 1 and re.fullmatch(
        rf"/usr/lib/[^/]+/wireshark/plugins/{re.escape(minor)}/epan/connmon.so", plugin[0]), files
    assert "/usr/bin/connmon" in files
    assert "/usr/share/doc/connmon/copyright" in files
    assert owners == {("root", "root")}, owners
