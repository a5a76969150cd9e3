"""Settings: every knob of docs/contract.md §5, read once from a mapping.

Tests never touch os.environ.

A leaf module: imports only vidsvc.errors.
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

from vidsvc.errors import ConfigError

X264_PRESETS = (
    "ultrafast",
    "superfast",
    "veryfast",
    "faster",
    "fast",
    "medium",
    "slow",
    "slower",
    "veryslow",
)
TMP_DEFAULT = Path(tempfile.gettempdir()) / "vidsvc"
_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}


def _bool(raw: str) -> bool:
    low = raw.strip().lower()
    if low in _TRUE:
        return True
    if low in _FALSE:
        return False
    raise ValueError("expected true or false")


def _int(lo: int, hi: int) -> Callable[[str], int]:
    def parse(raw: str) -> int:
        value = int(raw)
        if not lo <= value <= hi:
            raise ValueError(f"expected an integer from {lo} to {hi}")
        return value

    return parse


def _float(lo: float, hi: float) -> Callable[[str], float]:
    def parse(raw: str) -> float:
        value = float(raw)
        if not lo <= value <= hi:  # also refuses NaN
            raise ValueError(f"expected a number from {lo} to {hi}")
        return value

    return parse


def _csv(raw: str) -> tuple[str, ...]:
    return tuple(part.strip() for part in raw.split(",") if part.strip())


def _dirs(raw: str) -> tuple[Path, ...]:
    """Existing directories, separated by ',' or ':' (as in PATH): a colon list used to allow
    nothing at all, and a missing directory would refuse every file under it until a restart."""
    parts = [part.strip() for part in raw.replace(":", ",").split(",") if part.strip()]
    dirs = tuple(Path(p).expanduser().resolve() for p in parts)
    for given, path in zip(parts, dirs, strict=True):
        if not path.is_dir():
            raise ValueError(f"{given} is not an existing directory")
    return dirs


def _dir_or_empty(raw: str) -> str:
    if raw and not Path(raw).expanduser().is_dir():
        raise ValueError(f"{raw} is not an existing directory")
    return str(Path(raw).expanduser().resolve()) if raw else ""


def _choice(*options: str) -> Callable[[str], str]:
    def parse(raw: str) -> str:
        if raw not in options:
            raise ValueError(f"expected one of {', '.join(options)}")
        return raw

    return parse


def _str(raw: str) -> str:
    return raw


def _setting(env: str, parse: Callable[[str], Any], default: Any) -> Any:
    return field(default=default, metadata={"env": env, "parse": parse})


@dataclass(frozen=True, slots=True, kw_only=True)
class Settings:
    """All configuration: `Settings.from_env(mapping)`. Defaults are the embedded mode."""

    environment: str = _setting("ENVIRONMENT", _str, "development")
    log_level: str = _setting("LOG_LEVEL", _choice("DEBUG", "INFO", "WARNING", "ERROR"), "INFO")
    host: str = _setting("HOST", _str, "127.0.0.1")
    port: int = _setting("PORT", _int(1, 65535), 8000)
    data_dir: Path = _setting("DATA_DIR", Path, Path("data"))
    public_base_url: str = _setting("PUBLIC_BASE_URL", _str, "")
    # backends (later issues select them by URL; empty means the embedded default)
    database_url: str = _setting("DATABASE_URL", _str, "")
    db_pool_size: int = _setting("DB_POOL_SIZE", _int(1, 200), 10)
    redis_url: str = _setting("REDIS_URL", _str, "")
    redis_max_connections: int = _setting("REDIS_MAX_CONNECTIONS", _int(1, 10000), 50)
    redis_prefix: str = _setting("REDIS_PREFIX", _str, "vidsvc:")  #: keys and channels
    aws_region: str = _setting("AWS_REGION", _str, "us-east-1")
    aws_s3_bucket: str = _setting("AWS_S3_BUCKET", _str, "")
    aws_access_key_id: str = _setting("AWS_ACCESS_KEY_ID", _str, "")
    aws_secret_access_key: str = _setting("AWS_SECRET_ACCESS_KEY", _str, "")
    aws_endpoint_url: str = _setting("AWS_ENDPOINT_URL", _str, "")
    # FFmpeg
    ffmpeg_bin: str = _setting("FFMPEG_BIN", _str, "ffmpeg")
    ffprobe_bin: str = _setting("FFPROBE_BIN", _str, "ffprobe")
    default_crf: int = _setting("DEFAULT_CRF", _int(0, 51), 21)
    x264_preset: str = _setting("X264_PRESET", _choice(*X264_PRESETS), "medium")
    # 0: vidsvc picks x264's threads per job from the cores and the renders running (see
    # media/threads.py); N: exactly N; "auto" (-1): no -threads at all, FFmpeg's own choice.
    ffmpeg_threads: int = _setting(
        "FFMPEG_THREADS", lambda raw: -1 if raw.strip() == "auto" else _int(0, 64)(raw), 0
    )
    tmp_dir: Path = _setting("TMP_DIR", Path, TMP_DEFAULT)
    keep_temp_files: bool = _setting("KEEP_TEMP_FILES", _bool, False)
    run_ffprobe_validation: bool = _setting("RUN_FFPROBE_VALIDATION", _bool, True)
    job_timeout: float = _setting("JOB_TIMEOUT", _float(1, 86400), 300.0)
    kill_grace: float = _setting("KILL_GRACE", _float(0.1, 60), 5.0)
    probe_timeout: float = _setting("PROBE_TIMEOUT", _float(1, 600), 30.0)
    download_timeout: float = _setting("DOWNLOAD_TIMEOUT", _float(1, 3600), 120.0)
    # inputs
    allowed_s3_buckets: tuple[str, ...] = _setting("ALLOWED_S3_BUCKETS", _csv, ())
    allowed_url_hosts: tuple[str, ...] = _setting("ALLOWED_URL_HOSTS", _csv, ())
    allowed_local_dirs: tuple[Path, ...] = _setting("ALLOWED_LOCAL_DIRS", _dirs, ())
    # limits (docs/reliability.md §0.3)
    max_duration_seconds: float = _setting("MAX_DURATION_SECONDS", _float(1, 86400), 180.0)
    #: an animated image (output.format gif, webp): its longest length and longest side
    animated_max_seconds: float = _setting("ANIMATED_MAX_SECONDS", _float(1, 3600), 60.0)
    animated_max_side: int = _setting("ANIMATED_MAX_SIDE", _int(16, 7680), 1080)
    max_clips: int = _setting("MAX_CLIPS", _int(1, 10000), 200)
    max_overlays: int = _setting("MAX_OVERLAYS", _int(0, 10000), 100)
    max_text_chars: int = _setting("MAX_TEXT_CHARS", _int(1, 100000), 500)
    max_input_pixels: int = _setting("MAX_INPUT_PIXELS", _int(1, 1 << 31), 3840 * 2160)
    max_input_seconds: float = _setting("MAX_INPUT_SECONDS", _float(1, 864000), 3600.0)
    max_input_bytes: int = _setting("MAX_INPUT_BYTES", _int(1, 1 << 42), 2 << 30)
    max_input_streams: int = _setting("MAX_INPUT_STREAMS", _int(1, 1000), 8)
    # limits on each FFmpeg child (RLIMIT_AS / RLIMIT_CPU / RLIMIT_FSIZE; 0 = derived default)
    ffmpeg_max_memory_mb: int = _setting("FFMPEG_MAX_MEMORY_MB", _int(0, 1 << 22), 0)
    ffmpeg_max_cpu_seconds: int = _setting("FFMPEG_MAX_CPU_SECONDS", _int(0, 1 << 31), 0)
    max_output_bytes: int = _setting("MAX_OUTPUT_BYTES", _int(1 << 20, 1 << 42), 4 << 30)
    #: the resident memory all renders of this instance may hold together (estimated before
    #: each starts: graph/memory.py); 0 = 75 % of the machine's (media/memory_gate.py)
    render_memory_mb: int = _setting("RENDER_MEMORY_MB", _int(0, 1 << 22), 0)
    #: a timeline of more clips makes its pictures by parts of this many (graph/parts.py), so
    #: a render's memory stays flat in its clip count; 0 = always one FFmpeg
    render_part_clips: int = _setting("RENDER_PART_CLIPS", _int(0, 10000), 8)
    # long form across instances (docs/rendering.md#split-renders): a composition of at least
    # SPLIT_MIN_SECONDS is rendered as parts of about CHUNK_SECONDS (at most SPLIT_MAX_PARTS)
    # that any instance claims, when SPLIT_MIN_INSTANCES or more instances are live
    split_renders: bool = _setting("SPLIT_RENDERS", _bool, True)
    split_min_seconds: float = _setting("SPLIT_MIN_SECONDS", _float(20, 86400), 120.0)
    chunk_seconds: float = _setting("CHUNK_SECONDS", _float(20, 3600), 30.0)
    split_max_parts: int = _setting("SPLIT_MAX_PARTS", _int(2, 64), 16)
    split_min_instances: int = _setting("SPLIT_MIN_INSTANCES", _int(1, 1000), 2)
    #: at most this many of one split's parts (the sound among them) queued or running at
    #: once, the rest inserted as parts finish, leaving slots to other work; 0 = no cap
    split_parts_in_flight: int = _setting("SPLIT_PARTS_IN_FLIGHT", _int(0, 1000), 0)
    #: added to each child's niceness, so the API's event loop wins the CPU over the renders
    ffmpeg_nice: int = _setting("FFMPEG_NICE", _int(0, 19), 10)
    # per-client rate limit on POSTs (token bucket; 0 turns it off)
    rate_limit_per_minute: int = _setting("RATE_LIMIT_PER_MINUTE", _int(0, 1000000), 60)
    rate_limit_burst: int = _setting("RATE_LIMIT_BURST", _int(1, 1000000), 20)
    trust_forwarded_for: bool = _setting("TRUST_FORWARDED_FOR", _bool, False)
    # service (used from the embedded-service issue on)
    max_concurrent_jobs: int = _setting("MAX_CONCURRENT_JOBS", _int(1, 256), 5)
    max_queued_jobs: int = _setting("MAX_QUEUED_JOBS", _int(1, 1000000), 100)
    instance_id: str = _setting("INSTANCE_ID", _str, "")  #: empty: hostname-pid
    lease_seconds: float = _setting("LEASE_SECONDS", _float(1, 3600), 30.0)
    heartbeat_seconds: float = _setting("HEARTBEAT_SECONDS", _float(0.1, 600), 10.0)
    reaper_interval: float = _setting("REAPER_INTERVAL", _float(0.1, 3600), 10.0)
    max_attempts: int = _setting("MAX_ATTEMPTS", _int(1, 100), 3)
    shutdown_grace: float = _setting("SHUTDOWN_GRACE", _float(0, 3600), 20.0)
    ws_heartbeat: float = _setting("WS_HEARTBEAT", _float(0.5, 600), 20.0)
    ws_send_queue_max: int = _setting("WS_SEND_QUEUE_MAX", _int(1, 100000), 64)
    ws_max_conn_per_ip: int = _setting("WS_MAX_CONN_PER_IP", _int(1, 100000), 20)
    ws_max_connections: int = _setting("WS_MAX_CONNECTIONS", _int(1, 1000000), 500)
    max_body_bytes: int = _setting("MAX_BODY_BYTES", _int(1024, 1 << 30), 1 << 20)
    download_url_ttl: int = _setting("DOWNLOAD_URL_TTL", _int(1, 7 * 86400), 3600)
    signing_key: str = _setting("SIGNING_KEY", _str, "")  #: empty: a key kept in DATA_DIR
    result_ttl: int = _setting("RESULT_TTL", _int(0, 1 << 31), 86400)
    internal_api_token: str = _setting("INTERNAL_API_TOKEN", _str, "")
    allowed_callback_hosts: tuple[str, ...] = _setting("ALLOWED_CALLBACK_HOSTS", _csv, ())
    callback_secret: str = _setting("CALLBACK_SECRET", _str, "")
    callback_timeout: float = _setting("CALLBACK_TIMEOUT", _float(0.1, 300), 10.0)
    callback_max_attempts: int = _setting("CALLBACK_MAX_ATTEMPTS", _int(1, 20), 5)
    enable_dev_api: bool = _setting("ENABLE_DEV_API", _bool, False)
    enable_render_cache: bool = _setting("ENABLE_RENDER_CACHE", _bool, True)
    enable_metrics: bool = _setting("ENABLE_METRICS", _bool, True)
    enable_beat_detection: bool = _setting("ENABLE_BEAT_DETECTION", _bool, False)
    enable_gpu_encoding: bool = _setting("ENABLE_GPU_ENCODING", _bool, False)
    #: NVENC encodes this process runs at once (consumer cards refuse sessions over their cap)
    nvenc_max_sessions: int = _setting("NVENC_MAX_SESSIONS", _int(1, 64), 3)
    enable_4k_output: bool = _setting("ENABLE_4K_OUTPUT", _bool, False)
    # The web console at /: off -> 404. Its playground offers the sample specs in
    # CONSOLE_SAMPLES_DIR (empty: the repository's sample_specs/ when it is there).
    enable_console: bool = _setting("ENABLE_CONSOLE", _bool, True)
    console_samples_dir: str = _setting("CONSOLE_SAMPLES_DIR", _dir_or_empty, "")

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> Settings:
        """Parse every known variable; a bad one raises ConfigError naming it."""
        values: dict[str, Any] = {}
        for f in fields(cls):
            name = f.metadata["env"]
            if name not in env:
                continue
            try:
                values[f.name] = f.metadata["parse"](env[name])
            except ValueError as exc:
                raise ConfigError(f"{name}={env[name]!r} is invalid: {exc}") from None
        return cls(**values)
