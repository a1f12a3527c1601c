# The Amadeus studio image: the Practice operator, the gRPC studio server and practice Jobs.
#
#   docker build -t ghcr.io/amadeus/studio:0.1.0 .
#   docker run --rm ghcr.io/amadeus/studio:0.1.0 amadeus --help
#
# Entry points (the Helm chart sets them per container):
#   amadeus operator run --namespace NS [--metrics-port 9090 --health-port 8080]
#   amadeus studio serve --port 50051 --metrics-port 9091
#   amadeus practice <imitation|tuning|feedback> ...        (Jobs of the job backend, KFP components)
#
# Runs as the non-root user 10001 and works with a read-only root filesystem:
# everything it writes goes to /tmp (an emptyDir in the chart).

FROM python:3.11-slim AS build
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
RUN apt-get update \
 && apt-get install -y --no-install-recommends build-essential libsndfile1 \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY pyproject.toml README.md ./
COPY instrument_agent ./instrument_agent
COPY pipelines ./pipelines
COPY studio_operator ./studio_operator
COPY protos ./protos
RUN python -m venv /opt/amadeus \
 && /opt/amadeus/bin/pip install ".[studio]"

FROM python:3.11-slim
RUN apt-get update \
 && apt-get install -y --no-install-recommends libsndfile1 \
 && rm -rf /var/lib/apt/lists/* \
 && groupadd --gid 10001 amadeus \
 && useradd --uid 10001 --gid 10001 --no-create-home --home-dir /tmp --shell /usr/sbin/nologin amadeus
COPY --from=build /opt/amadeus /opt/amadeus
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
