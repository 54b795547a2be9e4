def test_plugin_registers_fields(tshark):
    out = tshark.run(["-G", "fields"]).stdout
    names = {line.split("\t")[2] for line in out.splitlines() if line.startswith("F\t")}
    for f in ["connmon.tsrtd", "connmon.tsrtd.frame", "connmon.tsrtd.pureack", "connmon.seqrtd",
              "connmon.seqrtd.frame", "connmon.minrtd", "connmon.seqgap", "connmon.dupack",
              "connmon.dupack.num", "connmon.dupack.frame", "connmon.payload",
              "connmon.flowbytes", "connmon.flow"]:
        assert f in names
