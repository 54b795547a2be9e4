"""tools/lib, the Python library of the tools and tests: the field table as
fields.py reads it, frames with valid checksums, pcap files that read back
as written."""
import struct

import pytest

from lib import fields, frames, pcap  # tools/ is on sys.path (conftest.py)

KINDS = {"TIME", "FRAME", "FRAME_ACK", "FRAME_DUP_ACK", "BOOL", "INT32", "UINT32", "UINT64",
         "STRING"}


def test_fields_table_shape():
    assert len(fields.FIELDS) >= 13 and len(fields.EXPERTS) >= 3
    assert len(set(fields.ALL)) == len(fields.ALL)
    assert all(n.startswith("connmon.") for n in fields.ALL)
    assert all(n.startswith("connmon.expert.") for n in fields.EXPERTS)
    assert set(fields.KINDS.values()) <= KINDS
    assert fields.FIELDS[0] == "connmon.tsrtd" and fields.KINDS["connmon.tsrtd"] == "TIME"
    assert fields.pick("flow", "connmon.payload") == ["connmon.flow", "connmon.payload"]
    assert "connmon.minrtd" in fields.of_kind("TIME")
    with pytest.raises(KeyError):
        fields.pick("no.such.field")
    assert all(e.group and e.severity and e.summary for e in fields.EXPERT_ROWS)


def test_fields_parse_rejects_a_bad_row(tmp_path):
    bad = tmp_path / "fields.def"
    bad.write_text('CM_FIELD(A, "connmon.a", TIME, "A")\n')
    with pytest.raises(ValueError):
        fields.parse(bad)


def test_plugin_registers_exactly_the_table(tshark):
    out = tshark.run(["-G", "fields"]).stdout
    names = {line.split("\t")[2] for line in out.splitlines()
             if line.startswith("F\t") and line.split("\t")[2].startswith("connmon.")}
    assert set(fields.FIELDS) <= names
    assert names <= set(fields.ALL)


def test_frames_checksums():
    seg = frames.tcp("10.0.0.1", "10.0.0.2", 40000, 80, 1, 2, "PA", 512,
                     frames.ts_opts(7, 9), b"hello")
    ip = frames.ipv4("10.0.0.1", "10.0.0.2", 6, seg, ident=5)
    assert frames.csum(ip[:20]) == 0
    assert frames.csum(frames.pseudo4("10.0.0.1", "10.0.0.2", 6, len(seg)) + seg) == 0
    seg6 = frames.tcp("2001:db8::1", "2001:db8::2", 1, 2, 3, 4, "S", 5,
                      frames.syn_opts(1, 0), v6=True)
    assert len(seg6) == 40 and seg6[12] >> 4 == 10
    assert frames.csum(frames.pseudo6("2001:db8::1", "2001:db8::2", 6, len(seg6)) + seg6) == 0
    assert frames.tcp(b"\0" * 4, b"\0" * 4, 1, 2, 3, 4, 0, 5, checksum=False)[16:18] == b"\0\0"
    assert len(frames.ether(b"", 0x0800, vlan=100)) == 18
    assert len(frames.sll(b"", 0x0800)) == 16 and len(frames.sll2(b"", 0x0800)) == 20


@pytest.mark.parametrize("nanos", [True, False])
def test_pcap_round_trip(tmp_path, nanos):
    recs = [(1_700_000_000_123_456_000, b"\x01\x02\x03", 60),
            (1_700_000_001_000_001_000, b"\xff" * 10, 10)]
    path = tmp_path / "x.pcap"
    assert pcap.write_records(path, pcap.DLT_EN10MB, iter(recs), snaplen=128, nanos=nanos) == 2
    back, linktype, got_nanos = pcap.read_pcap(path)
    assert (back, linktype, got_nanos) == (recs, pcap.DLT_EN10MB, nanos)
    assert struct.unpack("<I", path.read_bytes()[16:20])[0] == 128
