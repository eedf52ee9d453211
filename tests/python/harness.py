"""The harness for the Python black-box suites: a real Trent on 127.0.0.1:0 with a temp data dir.

The binary is `$TRENT_BIN`, or `target/debug/trent` under the repository root. Every client is
unmodified: the AWS CLI v1 (run as a subprocess, from the same environment as pytest) and boto3.
Retries are switched off in both, so one call is one request and errors surface as they are.
"""

from __future__ import annotations

import base64
import configparser
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import boto3
import botocore.session
import pytest
from botocore.config import Config

REPO_ROOT = Path(__file__).resolve().parents[2]

# The fixed account and Region the shared server is initialised with: not the defaults, so the
# tests see that the CLI really takes its Region from the config file `trent init` wrote.
REGION = "eu-west-2"
ACCOUNT_ID = "123456789012"

LISTENING = re.compile(r"Trent listening on (https?://127\.0\.0\.1:(\d+))")
START_TIMEOUT = 60.0
STOP_TIMEOUT = 20.0


def trent_bin() -> Path:
    configured = os.environ.get("TRENT_BIN")
    path = Path(configured) if configured else REPO_ROOT / "target" / "debug" / "trent"
    if not path.is_absolute():
        path = (Path.cwd() / path) if configured else (REPO_ROOT / path)
    if not path.is_file():
        pytest.exit(
            f"Trent binary not found at {path}: build it (cargo build -p trent-cli) or set TRENT_BIN",
            returncode=2,
        )
    return path


def aws_cli() -> str:
    """The `aws` next to the interpreter running pytest (the venv's), else the one on PATH."""
    beside = Path(sys.executable).parent / "aws"
    if beside.is_file():
        return str(beside)
    found = shutil.which("aws")
    if not found:
        pytest.exit("the AWS CLI (`aws`) is not installed in this environment", returncode=2)
    return found


def clean_env() -> dict[str, str]:
    """The process environment without any AWS_* setting that could leak in from outside."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env["AWS_EC2_METADATA_DISABLED"] = "true"
    env["AWS_MAX_ATTEMPTS"] = "1"
    env["AWS_RETRY_MODE"] = "standard"
    env["AWS_PAGER"] = ""
    return env


def run_trent(*args: str, check: bool = True, timeout: float = 120) -> subprocess.CompletedProcess:
    proc = subprocess.run(
        [str(trent_bin()), *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        stdin=subprocess.DEVNULL,
    )
    if check and proc.returncode != 0:
        raise AssertionError(
            f"trent {' '.join(args)} exited {proc.returncode}\nstdout: {proc.stdout}\nstderr: {proc.stderr}"
        )
    return proc


def audit_verify(data_dir: Path) -> int:
    """Runs `trent audit verify`; fails unless it exits 0. Returns the record count."""
    proc = run_trent("audit", "verify", "--data-dir", str(data_dir), check=False)
    assert proc.returncode == 0, (
        f"trent audit verify exited {proc.returncode}\nstdout: {proc.stdout}\nstderr: {proc.stderr}"
    )
    m = re.search(r"audit log OK: (\d+) records", proc.stdout)
    assert m, f"unexpected `trent audit verify` output: {proc.stdout!r}"
    return int(m.group(1))


@dataclass
class TrentServer:
    """A running `trent serve`, started by `start()` and ended by `stop()` (SIGINT, then SIGKILL)."""

    data_dir: Path
    dev: bool = False
    # (certificate PEM, private key PEM) for `--tls-cert` / `--tls-key`: serve HTTPS.
    tls: tuple[Path, Path] | None = None
    # More `trent serve` arguments (e.g. `--regions`).
    extra_args: list[str] = field(default_factory=list)
    endpoint: str = ""
    port: int = 0
    proc: subprocess.Popen | None = None
    stdout_lines: list[str] = field(default_factory=list)
    _stderr_path: Path | None = None

    def start(self) -> "TrentServer":
        args = [str(trent_bin()), "serve", "--data-dir", str(self.data_dir), "--listen", "127.0.0.1:0"]
        if self.dev:
            args.append("--dev")
        if self.tls:
            args += ["--tls-cert", str(self.tls[0]), "--tls-key", str(self.tls[1])]
        args += self.extra_args
        self._stderr_path = self.data_dir.parent / f"{self.data_dir.name}.stderr.log"
        stderr = open(self._stderr_path, "wb")
        env = clean_env()
        env.setdefault("TRENT_LOG", "info")
        self.proc = subprocess.Popen(
            args,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=stderr,
            env=env,
            text=True,
            bufsize=1,
        )
        stderr.close()
        found = threading.Event()

        def pump() -> None:
            assert self.proc is not None and self.proc.stdout is not None
            for line in self.proc.stdout:
                self.stdout_lines.append(line.rstrip("\n"))
                m = LISTENING.search(line)
                if m and not found.is_set():
                    self.endpoint, self.port = m.group(1), int(m.group(2))
                    found.set()
            found.set()  # EOF: the process is gone; start() reports it.

        threading.Thread(target=pump, name=f"trent-stdout-{self.data_dir.name}", daemon=True).start()
        deadline = time.monotonic() + START_TIMEOUT
        while not found.wait(0.1):
            if time.monotonic() > deadline:
                self.stop()
                raise AssertionError(f"trent serve printed no listening line in {START_TIMEOUT}s: {self.log()}")
        if not self.endpoint:
            self.stop()
            raise AssertionError(f"trent serve exited before listening: {self.log()}")
        return self

    def stop(self) -> int | None:
        """Ends the server gracefully (SIGINT flushes the audit log); returns its exit code."""
        if self.proc is None:
            return None
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)
            try:
                self.proc.wait(STOP_TIMEOUT)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        return self.proc.returncode

    def log(self) -> str:
        err = self._stderr_path.read_text(errors="replace") if self._stderr_path and self._stderr_path.exists() else ""
        return "\nstdout:\n" + "\n".join(self.stdout_lines) + "\nstderr:\n" + err[-8000:]


@dataclass
class Profile:
    """What `trent init` wrote: the credentials and config files of AWS profile `trent`."""

    data_dir: Path
    access_key_id: str
    secret_access_key: str
    region: str

    @property
    def credentials_file(self) -> Path:
        return self.data_dir / "credentials"

    @property
    def config_file(self) -> Path:
        return self.data_dir / "config"

    @classmethod
    def read(cls, data_dir: Path) -> "Profile":
        creds = configparser.ConfigParser()
        creds.read(data_dir / "credentials")
        config = configparser.ConfigParser()
        config.read(data_dir / "config")
        return cls(
            data_dir=data_dir,
            access_key_id=creds["trent"]["aws_access_key_id"],
            secret_access_key=creds["trent"]["aws_secret_access_key"],
            region=config["profile trent"]["region"],
        )


class Aws:
    """Runs the unmodified AWS CLI against one Trent. `env` is the CLI's whole environment."""

    def __init__(self, env: dict[str, str], endpoint: str | None, counter: "RequestCounter | None" = None):
        self.env = env
        self.endpoint = endpoint
        self.counter = counter

    def run(self, *args: str, endpoint: bool = True, output: str = "json", check: bool = False,
            env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
        cmd = [aws_cli()]
        if endpoint and self.endpoint:
            cmd += ["--endpoint-url", self.endpoint]
        cmd += [*args, "--output", output]
        proc = subprocess.run(cmd, capture_output=True, text=True, env=env or self.env,
                              stdin=subprocess.DEVNULL, timeout=120)
        if self.counter is not None:
            self.counter()  # at least one request per invocation (retries are off)
        if check and proc.returncode != 0:
            raise AssertionError(
                f"{' '.join(cmd[1:])} exited {proc.returncode}\nstdout: {proc.stdout}\nstderr: {proc.stderr}"
            )
        return proc

    def json(self, *args: str, **kw) -> dict:
        """Runs a command that must succeed and returns its JSON output."""
        proc = self.run(*args, check=True, **kw)
        return json.loads(proc.stdout) if proc.stdout.strip() else {}

    def text(self, *args: str, **kw) -> str:
        """Runs a command that must succeed with `--output text` and returns its output, stripped."""
        return self.run(*args, output="text", check=True, **kw).stdout.strip()

    def fails(self, *args: str, **kw) -> subprocess.CompletedProcess:
        """Runs a command that must fail and returns it, for a look at stderr."""
        proc = self.run(*args, **kw)
        assert proc.returncode != 0, f"{' '.join(args)} unexpectedly succeeded: {proc.stdout}"
        return proc


def cli_env(profile: Profile) -> dict[str, str]:
    env = clean_env()
    env["AWS_SHARED_CREDENTIALS_FILE"] = str(profile.credentials_file)
    env["AWS_CONFIG_FILE"] = str(profile.config_file)
    env["AWS_PROFILE"] = "trent"
    return env


class RequestCounter:
    """A lower bound on the requests sent: boto3's `before-send` events and AWS CLI invocations."""

    def __init__(self) -> None:
        self.count = 0

    def __call__(self, **_: object) -> None:
        self.count += 1


def boto3_client(profile: Profile, endpoint: str, counter: RequestCounter | None = None,
                 verify: str | bool | None = None, region: str | None = None):
    """A KMS client that finds its credentials and Region through profile `trent` in the files
    (`verify`: a CA bundle to trust for HTTPS, as boto3 takes it; `region`: another Region than
    the profile's)."""
    core = botocore.session.Session()
    core.set_config_variable("credentials_file", str(profile.credentials_file))
    core.set_config_variable("config_file", str(profile.config_file))
    core.set_config_variable("profile", "trent")
    session = boto3.Session(botocore_session=core)
    client = session.client(
        "kms",
        region_name=region,
        endpoint_url=endpoint,
        verify=verify,
        config=Config(retries={"total_max_attempts": 1, "mode": "standard"}, connect_timeout=10, read_timeout=60),
    )
    if counter is not None:
        client.meta.events.register("before-send.kms", counter)
    return client


@dataclass
class Trent:
    """The shared server, its profile, and the clients pointed at it."""

    server: TrentServer
    profile: Profile
    counter: RequestCounter

    @property
    def endpoint(self) -> str:
        return self.server.endpoint

    @property
    def data_dir(self) -> Path:
        return self.server.data_dir

    @property
    def env(self) -> dict[str, str]:
        """The environment for the AWS CLI: profile files, profile name, and the KMS endpoint."""
        env = cli_env(self.profile)
        env["AWS_ENDPOINT_URL_KMS"] = self.endpoint
        return env


def start_trent(data_dir: Path, *, region: str = REGION, account_id: str = ACCOUNT_ID) -> tuple[TrentServer, Profile]:
    run_trent("init", "--data-dir", str(data_dir), "--region", region, "--account-id", account_id)
    server = TrentServer(data_dir).start()
    return server, Profile.read(data_dir)


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def unb64(text: str) -> bytes:
    return base64.b64decode(text, validate=True)
