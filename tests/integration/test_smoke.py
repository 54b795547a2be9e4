from lib import fields  # tools/ is on sys.path (conftest.py)


def test_plugin_registers_fields(tshark):
    out = tshark.run(["-G", "fields"]).stdout
    names = {line.split("\t")[2] for line in out.splitlines() if line.startswith("F\t")}
    for f in fields.FIELDS:
        assert f in names
