# syntax=docker/dockerfile:1
# vidsvc: `docker build -t vidsvc .` then `docker run -p 8000:8000 vidsvc` (embedded mode: SQLite
# and local disk under the DATA_DIR volume). compose.yaml runs two instances on PostgreSQL, Redis
# and MinIO.
#
# Operators: on SIGTERM vidsvc stops accepting, gives running renders SHUTDOWN_GRACE (20 s) to
# finish, then kills their FFmpeg within KILL_GRACE (5 s) and requeues them. Keep the
# orchestrator's stop grace above SHUTDOWN_GRACE + KILL_GRACE plus a margin (e.g. 40 s for the
# defaults: `docker stop -t 40`, compose `stop_grace_period: 40s`, Kubernetes
# `terminationGracePeriodSeconds: 40`); Docker's own default of 10 s SIGKILLs mid-drain.
#
# The base is pinned to Debian bookworm on purpose: the plain `python:3.13-slim` tag moved to
# trixie (FFmpeg 7.1), while vidsvc's filter graphs are tested against FFmpeg 5.1. The
# `ffmpeg=7:5.1.*` pin fails the build rather than silently changing the FFmpeg major version.

# ---- build: a wheel for vidsvc and for every dependency (no compiler needed at run time) ----
FROM python:3.13-slim-bookworm AS build
WORKDIR /src
COPY pyproject.toml README.md ./
COPY vidsvc/ vidsvc/
RUN pip wheel --no-cache-dir --wheel-dir /wheels ".[postgres,redis,s3]"

# ---- runtime ----
FROM python:3.13-slim-bookworm

RUN apt-get update \
    && apt-get install -y --no-install-recommends \
        "ffmpeg=7:5.1.*" \
        "fonts-dejavu-core=2.37-*" \
        "fontconfig=2.14.*" \
        "fonts-noto-core=20201225-*" \
        "fonts-noto-cjk=1:20220127+*" \
        "fonts-symbola=2.60-*" \
    && rm -rf /var/lib/apt/lists/*

# Installed from the build stage's wheels only (no index), so the runtime stage has exactly the
# set that stage resolved; the bind mount keeps the wheels out of the image's layers.
RUN --mount=type=bind,from=build,source=/wheels,target=/wheels \
    pip install --no-cache-dir --no-index /wheels/*.whl \
    && pip check

RUN groupadd --system --gid 10001 vidsvc \
    && useradd --system --uid 10001 --gid vidsvc --home-dir /var/lib/vidsvc --no-create-home \
        --shell /usr/sbin/nologin vidsvc \
    && install -d -o vidsvc -g vidsvc -m 0750 /var/lib/vidsvc /tmp/vidsvc

# Set after the install so that site-packages was byte-compiled once, at build time.
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    DATA_DIR=/var/lib/vidsvc \
    TMP_DIR=/tmp/vidsvc \
    HOST=0.0.0.0 \
    PORT=8000

WORKDIR /var/lib/vidsvc
VOLUME /var/lib/vidsvc
# Numeric, so that Kubernetes' runAsNonRoot can verify it without reading /etc/passwd.
USER 10001:10001
EXPOSE 8000

# /health is liveness only (/health/detailed checks the backends); urllib because slim has no
# curl. A non-2xx answer or no answer raises, so the command exits non-zero.
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
    CMD ["python", "-c", "import os, urllib.request; urllib.request.urlopen('http://127.0.0.1:%s/health' % os.environ.get('PORT', '8000'), timeout=4)"]

STOPSIGNAL SIGTERM
ENTRYPOINT ["vidsvc"]
CMD ["serve"]
