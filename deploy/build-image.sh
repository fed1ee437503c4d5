#!/bin/sh
# Builds parley's container image, reproducibly, without a container engine:
# a static binary, then `parley image` around it. Writes parley.oci.tar (or
# $1) and prints its digest; the same commit and Go toolchain give the same
# digest on any host. Load it with `podman load -i parley.oci.tar`, or push
# it with `skopeo copy oci-archive:parley.oci.tar docker://REGISTRY/parley:TAG`.
# See docs/deploy.md.
set -eu
cd "$(dirname "$0")/.."
out="${1:-parley.oci.tar}"
revision="$(git rev-parse HEAD 2>/dev/null || echo unknown)"
version="$(git describe --tags --always --dirty 2>/dev/null || echo devel)"
# The commit's time, not the clock's: the image's dates are part of its digest.
SOURCE_DATE_EPOCH="${SOURCE_DATE_EPOCH:-$(git log -1 --format=%ct 2>/dev/null || echo 0)}"
export SOURCE_DATE_EPOCH
bin="$(mktemp -d)"
trap 'rm -rf "$bin"' EXIT
CGO_ENABLED=0 go build -trimpath -buildvcs=false -ldflags="-buildid=" -o "$bin/parley" ./cmd/parley
"$bin/parley" image --binary "$bin/parley" --version "$version" --revision "$revision" --out "$out"
