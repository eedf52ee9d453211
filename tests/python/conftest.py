"""Fixtures for the Python black-box suites; the harness itself is in `harness.py`."""

from __future__ import annotations

from pathlib import Path

import pytest

from harness import (
    ACCOUNT_ID,
    REGION,
    Aws,
    RequestCounter,
    Trent,
    TrentServer,
    audit_verify,
    boto3_client,
    cli_env,
    run_trent,
    start_trent,
)


@pytest.fixture(scope="session")
def trent(tmp_path_factory: pytest.TempPathFactory):
    """One Trent for the whole session. At the end: stopped, and its audit log verified."""
    data_dir = tmp_path_factory.mktemp("trent") / "data"
    server, profile = start_trent(data_dir)
    t = Trent(server=server, profile=profile, counter=RequestCounter())
    try:
        yield t
    finally:
        server.stop()
    records = audit_verify(data_dir)
    assert records >= t.counter.count, f"{records} audit records for at least {t.counter.count} requests"


@pytest.fixture(scope="session")
def aws(trent: Trent) -> Aws:
    """The AWS CLI with `--endpoint-url` and profile `trent` from the files `trent init` wrote."""
    return Aws(cli_env(trent.profile), trent.endpoint, trent.counter)


@pytest.fixture(scope="session")
def kms(trent: Trent):
    """A boto3 KMS client on the shared server, counting its requests."""
    return boto3_client(trent.profile, trent.endpoint, trent.counter)


@pytest.fixture
def make_server(tmp_path: Path):
    """Starts extra servers for one test (`dev=True` for `trent serve --dev`, `tls=(cert, key)`
    for HTTPS); stops them after."""
    started: list[TrentServer] = []

    def make(*, dev: bool = False, init: bool = True, tls: tuple[Path, Path] | None = None,
             extra_args: list[str] | None = None) -> TrentServer:
        data_dir = tmp_path / f"data{len(started)}"
        if init:
            run_trent("init", "--data-dir", str(data_dir), "--region", REGION, "--account-id", ACCOUNT_ID)
        server = TrentServer(data_dir, dev=dev, tls=tls, extra_args=list(extra_args or []))
        started.append(server)
        return server.start()

    yield make
    for server in started:
        server.stop()
