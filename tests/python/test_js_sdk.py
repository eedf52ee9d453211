"""The AWS SDK for JavaScript v3 (`@aws-sdk/client-kms`, from npm) against Trent.

`tests/js/kms.mjs` does the checks (create, tag, alias, encrypt, decrypt, typed errors,
GenerateDataKey, ECDSA signing verified offline with node:crypto, HMAC); this test runs it with
Node.js against the shared server. `scripts/test`
installs the package with `npm ci` when npm is present; CI (`CI=true`) requires it.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from harness import Trent, clean_env

JS_DIR = Path(__file__).resolve().parent.parent / "js"


def test_js_sdk_v3_round_trip_and_typed_errors(trent: Trent, kms):
    node = shutil.which("node")
    installed = (JS_DIR / "node_modules" / "@aws-sdk" / "client-kms").is_dir()
    if node is None or not installed:
        if os.environ.get("CI"):
            pytest.fail("CI must run the JavaScript SDK suite: node and `npm ci` in tests/js")
        pytest.skip("Node.js or tests/js/node_modules missing (scripts/test runs `npm ci` when npm is present)")
    env = clean_env()
    env.update({
        "TRENT_ENDPOINT": trent.endpoint,
        "AWS_REGION": trent.profile.region,
        "AWS_ACCESS_KEY_ID": trent.profile.access_key_id,
        "AWS_SECRET_ACCESS_KEY": trent.profile.secret_access_key,
    })
    proc = subprocess.run([node, "kms.mjs"], cwd=JS_DIR, env=env, capture_output=True, text=True,
                          stdin=subprocess.DEVNULL, timeout=120)
    assert proc.returncode == 0, f"stdout: {proc.stdout}\nstderr: {proc.stderr}"
    result = json.loads(proc.stdout.strip().splitlines()[-1])
    assert result["ok"] is True
    # The key the JavaScript SDK made is a real Trent key: boto3 sees it, under its alias.
    described = kms.describe_key(KeyId=result["alias"])["KeyMetadata"]
    assert described["Arn"] == result["keyArn"]
    assert described["Description"] == "made by the JavaScript SDK"
