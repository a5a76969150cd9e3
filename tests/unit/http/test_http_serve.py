"""`vidsvc serve` as a process: bad settings stop it with one line; SIGTERM stops it cleanly."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from tests.support.ports import free_port


def env(tmp_path: Path, **extra: str) -> dict[str, str]:
    return {
        **os.environ,
        "DATA_DIR": str(tmp_path / "data"),
        "TMP_DIR": str(tmp_path / "tmp"),
        "LOG_LEVEL": "INFO",
        **extra,
    }


def serve(tmp_path: Path, **extra: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "vidsvc", "serve"],
        env=env(tmp_path, **extra),
        capture_output=True,
        text=True,
        timeout=60,
    )


@pytest.mark.parametrize(
    ("variable", "value"),
    [("PORT", "http"), ("MAX_CONCURRENT_JOBS", "0"), ("DATABASE_URL", "mysql://db/x")],
)
def test_a_bad_setting_is_one_line_naming_it_and_exit_2(
    tmp_path: Path, variable: str, value: str
) -> None:
    done = serve(tmp_path, **{variable: value})
    assert done.returncode == 2, done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and variable in lines[0], done.stderr


def test_serves_json_logs_and_stops_on_sigterm(tmp_path: Path) -> None:
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "vidsvc", "serve"],
        env=env(tmp_path, HOST="127.0.0.1", PORT=str(port), SHUTDOWN_GRACE="1"),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                request = urllib.request.Request(
                    f"http://127.0.0.1:{port}/health", headers={"X-Request-ID": "boot-1"}
                )
                with urllib.request.urlopen(request, timeout=1) as resp:
                    assert json.load(resp) == {"status": "healthy"}
                    break
            except OSError:
                assert proc.poll() is None and time.monotonic() < deadline, proc.stderr
                time.sleep(0.1)
        proc.send_signal(signal.SIGTERM)
        out, err = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 0, err
    lines = [json.loads(line) for line in out.splitlines()]  # every stdout line is JSON
    access = [line for line in lines if line["logger"] == "vidsvc.access"]
    assert any(line["request_id"] == "boot-1" and line["status"] == 200 for line in access)
    assert {"timestamp", "level", "logger", "message", "request_id", "composition_id"} <= set(
        lines[0]
    )


def test_a_missing_allowed_local_dir_stops_serve_with_one_line(tmp_path: Path) -> None:
    done = serve(tmp_path, ALLOWED_LOCAL_DIRS=f"{tmp_path}:{tmp_path / 'missing'}")
    assert done.returncode == 2, done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and "ALLOWED_LOCAL_DIRS" in lines[0], done.stderr
    assert "missing is not an existing directory" in lines[0]
