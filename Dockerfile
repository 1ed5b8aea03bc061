# FakeMaestro as a CI sidecar (docs/sidecar.md).
#
#   docker build -t fakemaestro .
#   docker run --rm -p 8000:8000 -v "$PWD/scenarios:/scenarios:ro" \
#       -e FAKEMAESTRO_SCENARIO=ci.yaml fakemaestro
#
# Configuration is the `fakemaestro serve` flags as FAKEMAESTRO_* environment variables
# (FAKEMAESTRO_SCENARIO, _SEED, _PROFILE, _QUIRKS, _ADMIN_TOKEN, _PORT, ...); relative
# scenario paths resolve in /scenarios, where your scenario files are mounted. The
# scenario library ships in /opt/fakemaestro/scenarios.
#
# BASE_IMAGE is any Debian-like image with python3 (>= 3.11) and its venv module: the
# default, or the debootstrapped Debian that .ci/docker-smoke builds where no registry
# image can be pulled. Build arguments:
#   EXTRAS=fast     also install the optional faster server (FAKEMAESTRO_SERVER=uvicorn)
#   HTTPS_PROXY...  Docker's predefined proxy arguments reach pip in the build stage only
# Certificates (*.crt) placed in .ci/build-ca/ (git-ignored) are trusted by pip in the
# build stage only, for a TLS-intercepting proxy; the final image never contains them.
ARG BASE_IMAGE=python:3.12-slim

FROM ${BASE_IMAGE} AS build
LABEL fakemaestro.stage=build
ARG EXTRAS=
COPY .ci/build-ca/ /tmp/build-ca/
COPY pyproject.toml README.md /src/
COPY fakemaestro/ /src/fakemaestro/
RUN set -eu; \
    if ls /tmp/build-ca/*.crt >/dev/null 2>&1; then \
        cat $(ls /etc/ssl/certs/ca-certificates.crt 2>/dev/null) /tmp/build-ca/*.crt > /tmp/build-ca/bundle.pem; \
        export PIP_CERT=/tmp/build-ca/bundle.pem SSL_CERT_FILE=/tmp/build-ca/bundle.pem; \
    fi; \
    python3 -m venv /opt/fakemaestro; \
    /opt/fakemaestro/bin/pip install --no-cache-dir --disable-pip-version-check --no-warn-script-location \
        "/src${EXTRAS:+[$EXTRAS]}"; \
    /opt/fakemaestro/bin/python -m pip uninstall -q -y pip setuptools; \
    /opt/fakemaestro/bin/fakemaestro --version

FROM ${BASE_IMAGE}
# the same base as the build stage, so the venv's python3 link resolves
COPY --from=build /opt/fakemaestro /opt/fakemaestro
COPY scenarios/ /opt/fakemaestro/scenarios/
RUN useradd --system --uid 10001 --user-group --home-dir /nonexistent --no-create-home \
        --shell /usr/sbin/nologin fakemaestro \
    && mkdir -p /scenarios
ENV PATH=/opt/fakemaestro/bin:$PATH \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    FAKEMAESTRO_HOST=0.0.0.0 \
    FAKEMAESTRO_PORT=8000
WORKDIR /scenarios
USER 10001:10001
EXPOSE 8000
# stdlib only (the image has no curl); no proxy, whatever the environment says
HEALTHCHECK --interval=5s --timeout=3s --start-period=10s --retries=3 \
    CMD ["/opt/fakemaestro/bin/python", "-c", "import os, urllib.request as u; h = os.environ.get('FAKEMAESTRO_HOST') or '127.0.0.1'; h = {'0.0.0.0': '127.0.0.1', '::': '::1'}.get(h, h); h = '[%s]' % h if ':' in h else h; u.build_opener(u.ProxyHandler({})).open('http://%s:%s/_fakemaestro/health' % (h, os.environ.get('FAKEMAESTRO_PORT') or '8000'), timeout=2)"]
ENTRYPOINT ["fakemaestro"]
CMD ["serve"]
