# The Amadeus studio image: the Practice operator, the gRPC studio server and practice Jobs.
# Containerfile-compatible (Docker, Podman, Buildah); one stage, no compiler: every dependency
# installs from a wheel.
#
#   docker build -t ghcr.io/amadeus/studio:0.1.0 .                        # python:3.11-slim, wheels from PyPI
#   scripts/build_image.sh                                               # offline: a Debian base + a wheelhouse
#   podman build --build-arg BASE=localhost/amadeus-base --build-arg EXTRAS=server -t amadeus-studio .
#
# Build arguments:
#   BASE    the base image: any Debian-like image with python3 (3.11 or 3.12) and its venv module
#           (default python:3.11-slim; scripts/build_image.sh makes localhost/amadeus-base with mmdebstrap)
#   EXTRAS  the package extras: studio (everything: training, pipelines, operator, server) or server
#           (the gRPC studio server alone, without TensorFlow: what the image test builds)
# When .wheelhouse/ holds wheels (scripts/build_image.sh fills it), pip installs from it alone
# (--no-index): the build needs no network.
#
# Entry points (the Helm chart sets them per container):
#   amadeus operator run --namespace NS [--metrics-port 9090 --health-port 8080]
#   amadeus studio serve --port 50051 --metrics-port 9091 [--database postgresql://...]
#   amadeus practice <imitation|tuning|feedback> ...        (Jobs of the job backend, KFP components)
#
# Runs as the non-root user 10001 and works with a read-only root filesystem:
# everything it writes goes to /tmp (an emptyDir in the chart).

ARG BASE=python:3.11-slim
FROM ${BASE}
ARG EXTRAS=studio
ENV PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_NO_CACHE_DIR=1 PIP_ROOT_USER_ACTION=ignore
RUN if ! ldconfig -p | grep -q libsndfile.so.1; then \
      apt-get update && apt-get install -y --no-install-recommends libsndfile1 && rm -rf /var/lib/apt/lists/*; \
    fi \
 && if command -v useradd >/dev/null; then \
      groupadd --gid 10001 amadeus \
      && useradd --uid 10001 --gid 10001 --no-create-home --home-dir /tmp --shell /usr/sbin/nologin amadeus; \
    else \
      echo "amadeus:x:10001:10001::/tmp:/usr/sbin/nologin" >> /etc/passwd && echo "amadeus:x:10001:" >> /etc/group; \
    fi
WORKDIR /src
COPY .wheelhouse /wheels
COPY pyproject.toml README.md ./
COPY instrument_agent ./instrument_agent
COPY pipelines ./pipelines
COPY studio_operator ./studio_operator
COPY protos ./protos
RUN python3 -m venv /opt/amadeus \
 && if ls /wheels/*.whl >/dev/null 2>&1; then offline="--no-index --find-links /wheels"; else offline=""; fi \
 && /opt/amadeus/bin/pip install $offline ".[${EXTRAS}]" \
 && rm -rf /src /wheels /root/.cache \
 && find /opt/amadeus -name __pycache__ -prune -exec rm -rf {} + \
 && /opt/amadeus/bin/python -m compileall -q /opt/amadeus/lib
ENV PATH=/opt/amadeus/bin:$PATH \
    HOME=/tmp \
    AMADEUS_HOME=/tmp/amadeus \
    PYTHONUNBUFFERED=1 \
    TF_CPP_MIN_LOG_LEVEL=2 \
    MPLCONFIGDIR=/tmp/matplotlib
USER 10001:10001
WORKDIR /tmp
EXPOSE 50051 9090 9091 8080
ENTRYPOINT ["amadeus"]
CMD ["--help"]
