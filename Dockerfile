# KIMgraph production image.
#
#   docker build -t kimgraph .
#   docker run -d -p 8000:8000 -v kimgraph-data:/var/lib/kimgraph kimgraph
#
# Stage 1 builds wheels of every dependency and of the project, then installs
# them into /opt/venv; stage 2 copies only that venv onto a clean slim image.
# Every runtime dependency ships wheels for CPython 3.11 (amd64 and arm64), so
# no compiler is needed and `--only-binary=:all:` makes sure none is tried.

# Both stages use the same base (the venv's interpreter path must match); the
# tag is spelled out, not an ARG, so that hadolint checks it. Pin a digest
# (python:3.11-slim-bookworm@sha256:...) for byte-for-byte reproducible builds.

# --------------------------------------------------------------------------
FROM python:3.11-slim-bookworm AS builder

ENV PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PYTHONDONTWRITEBYTECODE=1

WORKDIR /src

# Dependencies first, from pyproject.toml alone, so that this layer stays
# cached while only the source changes.
COPY pyproject.toml constraints.txt ./
RUN python -c "import pathlib, tomllib; deps = tomllib.loads(pathlib.Path('pyproject.toml').read_text())['project']['dependencies']; pathlib.Path('/tmp/requirements.txt').write_text('\n'.join(deps) + '\n')" \
    && pip wheel --no-cache-dir --only-binary=:all: --wheel-dir=/wheels -c constraints.txt -r /tmp/requirements.txt

# The project itself (.dockerignore keeps tests, caches, databases, .git out).
COPY . .
RUN pip wheel --no-cache-dir --no-deps --wheel-dir=/wheels . \
    && python -m venv /opt/venv \
    && /opt/venv/bin/pip install --no-cache-dir --no-index --find-links=/wheels /wheels/*.whl

# Smoke test of the installed wheel: the schema builds, and the migrations and
# the bundled seed regions load into a scratch SQLite file, exactly as
# `kimgraph serve` does on first start. The directory must exist (Tortoise
# hangs, rather than fails, when SQLite cannot open the file), and `timeout`
# turns any such hang into a failed build.
RUN /opt/venv/bin/kimgraph schema > /dev/null \
    && mkdir /tmp/smoke \
    && timeout 300 /opt/venv/bin/python -c "import asyncio; from kimgraph.cli import prepare_database; from kimgraph.settings import Settings; asyncio.run(prepare_database(Settings(database_url='sqlite:///tmp/smoke/kimgraph.db')))" \
    && rm -rf /tmp/smoke

# --------------------------------------------------------------------------
FROM python:3.11-slim-bookworm AS runtime

LABEL org.opencontainers.image.title="kimgraph" \
      org.opencontainers.image.description="Real-time GraphQL server for Indonesia's Kelompok Informasi Masyarakat (KIM)" \
      org.opencontainers.image.licenses="MIT"

# Fixed ids, so that volume ownership survives image rebuilds; a bind-mounted
# host directory must be writable by 10001:10001.
RUN groupadd --system --gid 10001 kimgraph \
    && useradd --system --no-log-init --uid 10001 --gid kimgraph \
        --home-dir /var/lib/kimgraph --no-create-home \
        --shell /usr/sbin/nologin kimgraph \
    && install -d -o kimgraph -g kimgraph -m 0750 /var/lib/kimgraph

COPY --from=builder /opt/venv /opt/venv

# Three slashes: Tortoise reads `sqlite://` + the path, so this is the absolute
# /var/lib/kimgraph/kimgraph.db (its -wal and -shm files sit beside it).
ENV PATH="/opt/venv/bin:${PATH}" \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    KIMGRAPH_DATABASE_URL=sqlite:///var/lib/kimgraph/kimgraph.db

WORKDIR /var/lib/kimgraph
VOLUME ["/var/lib/kimgraph"]

# Numeric, so that Kubernetes' runAsNonRoot can check it.
USER 10001:10001

EXPOSE 8000

# /healthz answers once uvicorn listens (after migrations and the seed load);
# /readyz also checks the database. Keep the port in step with CMD.
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
    CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/healthz', timeout=4)"]

ENTRYPOINT ["kimgraph"]
CMD ["serve", "--host", "0.0.0.0", "--port", "8000"]
