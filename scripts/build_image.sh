#!/usr/bin/env bash
# Build the studio image from the project's Dockerfile without an image registry or network in the build:
#
#   1. a Debian 12 base (python3.11, its venv module, libsndfile) from Debian packages: mmdebstrap -> podman import
#      (made once; kept as localhost/amadeus-base);
#   2. a wheelhouse (.wheelhouse/) of the image's Python dependencies, from the host's pip (its index or cache);
#   3. podman build --build-arg BASE=localhost/amadeus-base with that wheelhouse (pip --no-index inside).
#
#   scripts/build_image.sh [TAG]            TAG defaults to localhost/amadeus-studio:dev
#   EXTRAS=studio scripts/build_image.sh    the full image (TensorFlow, pipelines); default: server
#   PYTHON=/path/to/python                  the host Python whose pip fills the wheelhouse (3.11)
#
# Prints the build's seconds and the image's size. Needs: podman, runc, mmdebstrap, uidmap (Debian packages).
set -euo pipefail
cd "$(dirname "$0")/.."
TAG=${1:-localhost/amadeus-studio:dev}
EXTRAS=${EXTRAS:-server}
PYTHON=${PYTHON:-python3}
BASE=${BASE:-localhost/amadeus-base}
SUITE=${SUITE:-bookworm}
# runc, not crun (hybrid cgroups here); small ulimits: podman's defaults exceed what this kernel allows.
PODMAN=(podman --runtime runc)
LIMITS=(--ulimit nofile=1024:1024 --ulimit nproc=1024:1024)

started=$(date +%s)
if ! "${PODMAN[@]}" image exists "$BASE"; then
  work=$(mktemp -d)
  trap 'rm -rf "$work"' EXIT
  mmdebstrap --variant=apt --include=python3,python3-venv,libsndfile1,ca-certificates,passwd \
    --aptopt='Acquire::Retries "3"' --dpkgopt='path-exclude=/usr/share/doc/*' \
    --dpkgopt='path-exclude=/usr/share/man/*' --dpkgopt='path-exclude=/usr/share/locale/*' \
    "$SUITE" "$work/base.tar"
  "${PODMAN[@]}" import --change 'CMD ["/bin/bash"]' "$work/base.tar" "$BASE" >/dev/null
fi
based=$(date +%s)

# The project's own wheel and every dependency's (pip reuses its cache), plus the build backend.
"$PYTHON" -m pip wheel --quiet --wheel-dir .wheelhouse ".[${EXTRAS}]"
"$PYTHON" -m pip download --quiet --dest .wheelhouse "setuptools>=77" wheel
wheeled=$(date +%s)

"${PODMAN[@]}" build "${LIMITS[@]}" --network none --layers=false \
  --build-arg BASE="$BASE" --build-arg EXTRAS="$EXTRAS" -t "$TAG" -f Dockerfile . >/dev/null
built=$(date +%s)
size=$("${PODMAN[@]}" image inspect "$TAG" --format '{{.Size}}')
echo "image $TAG: $((size / 1000000)) MB; base $((based - started)) s, wheels $((wheeled - based)) s, build $((built - wheeled)) s"
