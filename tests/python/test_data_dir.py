"""The data dir: private files whatever the umask or a restore did, and honest admin messages."""

from __future__ import annotations

import os
import stat
from pathlib import Path

from harness import Profile, TrentServer, boto3_client, run_trent


def modes(root: Path) -> dict[str, int]:
    """Every path below `root` (and root itself) with its permission bits; links are skipped."""
    found = {".": stat.S_IMODE(root.stat().st_mode)}
    for path in root.rglob("*"):
        if path.is_symlink():
            continue
        found[str(path.relative_to(root))] = stat.S_IMODE(path.lstat().st_mode)
    return found


def loose(found: dict[str, int], root: Path) -> dict[str, str]:
    return {
        name: oct(mode)
        for name, mode in found.items()
        if mode & (0o077 if (root / name).is_dir() else 0o177)
    }


def test_every_file_is_0600_and_every_dir_0700_under_a_permissive_umask(tmp_path: Path):
    data_dir = tmp_path / "data"
    old = os.umask(0o002)
    try:
        run_trent("init", "--data-dir", str(data_dir))
        server = TrentServer(data_dir).start()
    finally:
        os.umask(old)
    try:
        kms = boto3_client(Profile.read(data_dir), server.endpoint)
        kms.create_key(Description="makes the database write")
        # While serving: the SQLite write-ahead log and shared memory files exist too.
        found = modes(data_dir)
        assert "trent.db-wal" in found and "trent.db-shm" in found, sorted(found)
        assert not loose(found, data_dir), loose(found, data_dir)
    finally:
        server.stop()
    assert not loose(modes(data_dir), data_dir)


def test_a_restored_data_dir_with_loose_modes_is_tightened_at_start_with_a_warning(tmp_path: Path):
    data_dir = tmp_path / "data"
    run_trent("init", "--data-dir", str(data_dir))
    TrentServer(data_dir).start().stop()
    # As a careless copy or restore would leave it.
    os.chmod(data_dir / "trent.db", 0o644)
    os.chmod(data_dir / "audit", 0o755)
    for log in (data_dir / "audit").iterdir():
        if log.is_file():
            os.chmod(log, 0o644)
    server = TrentServer(data_dir).start()
    try:
        assert not loose(modes(data_dir), data_dir), loose(modes(data_dir), data_dir)
    finally:
        server.stop()
    log = server.log()
    assert "trent.db had mode 0644; set to 0600" in log, log
    assert "audit had mode 0755; set to 0700" in log, log


def test_admin_commands_say_a_running_server_applies_changes_within_a_second(tmp_path: Path):
    data_dir = tmp_path / "data"
    run_trent("init", "--data-dir", str(data_dir))
    created = run_trent("admin", "create-account", "--data-dir", str(data_dir), "--account-id", "222233334444")
    assert "within a second" in created.stdout and "restart" not in created.stdout, created.stdout
    key_id = Profile.read(data_dir).access_key_id
    revoked = run_trent("admin", "revoke-key", "--data-dir", str(data_dir), "--access-key-id", key_id)
    assert "within a second" in revoked.stdout and "restart" not in revoked.stdout, revoked.stdout
