#!/usr/bin/env bash
# A Debian bookworm base image with Python 3.11, built locally (no image registry needed), for
# `docker build --build-arg BASE=<it>` of deploy/Dockerfile and of deploy/kafka-ci/Dockerfile.
#
# Usage (as root, with a Docker engine): deploy/base-image.sh [IMAGE]   [orchestrator-base:bookworm]
#   Does nothing if IMAGE exists (waits for a build of it already running). Otherwise: debootstrap (minbase, python3, python3-venv,
#   ca-certificates) from the Debian mirror apt is configured with, the host's CA bundle added
#   to the image's trust store (pip and apt inside then verify TLS as the host does), then
#   `docker import`. Prints the image name on stdout.
#
# Environment: DEBIAN_MIRROR overrides the mirror (scripts/debian-mirror); HOST_CA_BUNDLE
# the CA bundle added ([/etc/ssl/certs/ca-certificates.crt]).
set -euo pipefail

IMAGE=${1:-orchestrator-base:bookworm}
SUITE=bookworm
INCLUDE=python3,python3-venv,ca-certificates
CA_BUNDLE=${HOST_CA_BUNDLE:-/etc/ssl/certs/ca-certificates.crt}

say() { echo "base-image: $*" >&2; }

# One build at a time: a second caller (tests/deploy while .ci/run's early build runs) waits
# for the first, then finds the image.
exec 9>"${TMPDIR:-/tmp}/orchestrator-base-image.lock"
flock 9
if docker image inspect "$IMAGE" >/dev/null 2>&1; then
    echo "$IMAGE"
    exit 0
fi
((EUID == 0)) || { say "debootstrap needs root: sudo $0"; exit 1; }
command -v debootstrap >/dev/null || { say "no debootstrap: run scripts/system-deps as root"; exit 1; }

mirror=$("$(dirname "$0")/../scripts/debian-mirror")
root=$(mktemp -d /var/tmp/orchestrator-base.XXXXXX)
trap 'rm -rf "$root"' EXIT
started=$SECONDS
say "debootstrap $SUITE from $mirror into $root"
debootstrap --variant=minbase --include="$INCLUDE" "$SUITE" "$root" "$mirror" \
    >"$root.log" 2>&1 || { tail -n 30 "$root.log" >&2; rm -f "$root.log"; exit 1; }
rm -f "$root.log"
install -m 0644 "$CA_BUNDLE" "$root/usr/local/share/ca-certificates/host-bundle.crt"
chroot "$root" update-ca-certificates >/dev/null 2>&1
rm -rf "$root"/var/cache/apt/archives/*.deb "$root"/var/lib/apt/lists/*
tar -C "$root" -c . | docker import \
    --change 'ENV LANG=C.UTF-8 PIP_CERT=/etc/ssl/certs/ca-certificates.crt' \
    --change 'CMD ["python3"]' - "$IMAGE" >/dev/null
say "$IMAGE built in $((SECONDS - started))s"
echo "$IMAGE"
