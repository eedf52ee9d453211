#!/usr/bin/env python3
"""Regenerates crates/wire/model/kms-2014-11-01.json from botocore's KMS service model.

The model is the API contract: operations, members, enums, length limits, patterns.
Documentation strings are stripped to keep the embedded copy small.

    pip download --no-deps -d /tmp/bc botocore && python3 tools/update-kms-model.py /tmp/bc/botocore-*.whl
"""
import gzip
import json
import pathlib
import sys
import zipfile

DROP = {"documentation", "documentationUrl", "deprecatedMessage", "examples", "exception", "fault", "deprecated"}


def strip(o):
    if isinstance(o, dict):
        return {k: strip(v) for k, v in o.items() if k not in DROP}
    if isinstance(o, list):
        return [strip(x) for x in o]
    return o


with zipfile.ZipFile(sys.argv[1]) as wheel:
    model = json.loads(gzip.decompress(wheel.read("botocore/data/kms/2014-11-01/service-2.json.gz")))
model = strip(model)
del model["metadata"]
out = pathlib.Path(__file__).resolve().parent.parent / "crates/wire/model/kms-2014-11-01.json"
out.write_text(json.dumps(model, separators=(",", ":"), sort_keys=True))
print(f"wrote {out}")
