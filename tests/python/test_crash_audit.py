"""kill -9 under a write storm: no change without its audit record, nothing acknowledged lost.

Each cycle starts the real `trent serve` on one data dir, lets boto3 clients on several threads
create keys, aliases and IAM users as fast as they can, and kills the server with SIGKILL at a
random moment. Afterwards, on the last start:
- every key, alias and user in the store has a successful audit record of its creation (the
  record written before the answer, or one written at start for a change committed just before
  the kill, marked `trentRecovery`); no record claims a creation that is not in the store;
- every creation a client saw acknowledged is in the store and its full record in the log;
- no record is written twice, and `trent audit verify` accepts the log.

`TRENT_CRASH_CYCLES` sets the number of cycles (default 30; `scripts/soak` runs more).
"""

from __future__ import annotations

import json
import os
import random
import threading
import time
from pathlib import Path

import boto3
import botocore.session
from botocore.config import Config

from harness import Profile, TrentServer, audit_verify, run_trent

CYCLES = int(os.environ.get("TRENT_CRASH_CYCLES", "30"))
WORKERS = 4
NO_RETRIES = Config(retries={"total_max_attempts": 1, "mode": "standard"}, connect_timeout=5, read_timeout=20)


def clients(profile: Profile, endpoint: str, service: str, n: int) -> list:
    core = botocore.session.Session()
    core.set_config_variable("credentials_file", str(profile.credentials_file))
    core.set_config_variable("config_file", str(profile.config_file))
    core.set_config_variable("profile", "trent")
    session = boto3.Session(botocore_session=core)
    return [session.client(service, endpoint_url=endpoint, config=NO_RETRIES) for _ in range(n)]


def audit_records(data_dir: Path) -> list[dict]:
    """Every record of every audit log file, in file order."""
    records = []
    for path in sorted((data_dir / "audit").glob("*.jsonl")):
        with open(path, encoding="utf-8") as f:
            records += [json.loads(line) for line in f if line.strip()]
    return records


class Acknowledged:
    """What clients saw succeed, shared by the worker threads."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.keys: set[str] = set()
        self.aliases: set[str] = set()
        self.users: set[str] = set()
        self.calls = 0

    def add(self, kind: str, value: str) -> None:
        with self.lock:
            getattr(self, kind).add(value)
            self.calls += 1


def storm(kms, iam, tag: str, acked: Acknowledged, stop: threading.Event) -> None:
    n = 0
    while not stop.is_set():
        n += 1
        try:
            key_id = kms.create_key(Description=f"storm {tag}")["KeyMetadata"]["KeyId"]
            acked.add("keys", key_id)
            alias = f"alias/storm-{tag}-{n}"
            kms.create_alias(AliasName=alias, TargetKeyId=key_id)
            acked.add("aliases", alias)
            if n % 3 == 0:
                user = f"storm-{tag}-{n}"
                iam.create_user(UserName=user)
                acked.add("users", user)
        except Exception:  # the server was killed mid-request, or is gone
            if stop.is_set():
                return
            time.sleep(0.01)


def test_kill_9_under_a_write_storm_leaves_no_change_without_its_record(tmp_path: Path):
    data_dir = tmp_path / "data"
    run_trent("init", "--data-dir", str(data_dir))
    profile = Profile.read(data_dir)
    rng = random.Random(int(os.environ.get("TRENT_CRASH_SEED", "0")) or None)
    acked = Acknowledged()
    for cycle in range(CYCLES):
        server = TrentServer(data_dir).start()
        kms = clients(profile, server.endpoint, "kms", WORKERS)
        iam = clients(profile, server.endpoint, "iam", WORKERS)
        stop = threading.Event()
        threads = [
            threading.Thread(target=storm, args=(kms[i], iam[i], f"{cycle}-{i}", acked, stop), daemon=True)
            for i in range(WORKERS)
        ]
        for t in threads:
            t.start()
        time.sleep(rng.uniform(0.15, 0.9))
        assert server.proc is not None
        server.proc.kill()  # SIGKILL: no flush, no graceful shutdown
        server.proc.wait()
        stop.set()
        for t in threads:
            t.join(30)
    assert acked.calls > CYCLES, f"the storm made only {acked.calls} acknowledged changes"

    server = TrentServer(data_dir).start()
    try:
        kms = clients(profile, server.endpoint, "kms", 1)[0]
        iam = clients(profile, server.endpoint, "iam", 1)[0]
        keys = {k["KeyId"] for page in kms.get_paginator("list_keys").paginate() for k in page["Keys"]}
        aliases = {
            a["AliasName"]
            for page in kms.get_paginator("list_aliases").paginate()
            for a in page["Aliases"]
            if a["AliasName"].startswith("alias/storm-")
        }
        users = {
            u["UserName"] for page in iam.get_paginator("list_users").paginate() for u in page["Users"]
        }
    finally:
        server.stop()

    records = audit_records(data_dir)
    event_ids = [r["eventID"] for r in records]
    assert len(event_ids) == len(set(event_ids)), "an audit record was written twice"

    def succeeded(name: str) -> list[dict]:
        return [r for r in records if r["eventName"] == name and "errorCode" not in r]

    create_keys = succeeded("CreateKey")
    recovered = [r for r in create_keys if "trentRecovery" in (r.get("additionalEventData") or {})]
    answered_key_ids = {
        r["responseElements"]["keyMetadata"]["keyId"] for r in create_keys if r.get("responseElements")
    }
    assert len(create_keys) == len(keys), (
        f"{len(keys)} keys in the store but {len(create_keys)} successful CreateKey records "
        f"({len(recovered)} recovered)"
    )
    assert answered_key_ids <= keys, "a record claims a key that does not exist"
    assert acked.keys <= keys, "an acknowledged CreateKey was lost"
    assert acked.keys <= answered_key_ids, "an acknowledged CreateKey has no full record"

    alias_records = {r["requestParameters"]["aliasName"] for r in succeeded("CreateAlias")}
    assert alias_records == aliases, (
        f"aliases without a record: {sorted(aliases - alias_records)[:5]}; "
        f"records without an alias: {sorted(alias_records - aliases)[:5]}"
    )
    assert acked.aliases <= aliases, "an acknowledged CreateAlias was lost"

    user_records = {r["requestParameters"]["userName"] for r in succeeded("CreateUser")}
    assert user_records == users, (
        f"users without a record: {sorted(users - user_records)[:5]}; "
        f"records without a user: {sorted(user_records - users)[:5]}"
    )
    assert acked.users <= users, "an acknowledged CreateUser was lost"

    print(f"cycles={CYCLES} acknowledged={acked.calls} keys={len(keys)} recovered={len(recovered)}")
    assert audit_verify(data_dir) == len(records)
