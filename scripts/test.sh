#!/usr/bin/env bash
# The one test command: installs what the tests need, builds, runs the whole suite.
# Usage: ./scripts/test.sh [vitest args...]
set -euo pipefail
cd "$(dirname "$0")/.."

# Debian packages the tests use, as command -> package. Installed only when missing.
declare -A need=(
  [fusermount]=fuse
  [docker-registry]=docker-registry
  [gdalinfo]=gdal-bin
  [skopeo]=skopeo
  [umoci]=umoci
  [getfattr]=attr
  [htpasswd]=apache2-utils
  [openssl]=openssl
  [curl]=curl
  [podman]=podman
  [runc]=runc
  [newuidmap]=uidmap
  [debootstrap]=debootstrap
  [systemd-analyze]=systemd
)
missing=()
for cmd in "${!need[@]}"; do command -v "$cmd" >/dev/null 2>&1 || missing+=("${need[$cmd]}"); done
[ -e /usr/lib/x86_64-linux-gnu/libfuse.so.2 ] || ldconfig -p 2>/dev/null | grep -q 'libfuse.so.2 ' || missing+=(libfuse2)
# The container tests' busybox image has no libc: it must be the static build.
{ [ -x /bin/busybox ] && ! ldd /bin/busybox >/dev/null 2>&1; } || missing+=(busybox-static)
if [ ${#missing[@]} -gt 0 ]; then
  echo "test.sh: installing ${missing[*]}" >&2
  SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  $SUDO apt-get update -qq
  # --no-install-recommends: recommends would pull fuse3, which removes the fuse package.
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

npm ci --no-audit --no-fund --loglevel=error
npm run --silent build

results=$(mktemp -t ocifs-vitest-XXXXXX.json)
status=0
# A bounded run: a test that deadlocks a worker (a FUSE mount served by the process that uses
# it) must fail CI in minutes, not hold it for its whole budget.
timeout --kill-after=30s "${OCIFS_TEST_TIMEOUT:-25m}" \
  npx vitest run --reporter=default --reporter=json --outputFile.json="$results" "$@" || status=$?
# Test mounts a killed run may have left behind (only the tests' own, under the temp dir).
tmp="${TMPDIR:-/tmp}"
awk -v t="$tmp/ocifs-" '$3 == "fuse.ocifs" && index($2, t) == 1 { print $2 }' /proc/mounts 2>/dev/null |
  while read -r m; do fusermount -uz "$m" 2>/dev/null || true; done
node -e '
  const r = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"));
  console.log(`${r.numPassedTests} passed, ${r.numFailedTests + (r.numRuntimeErrors ?? 0)} failed`);
' "$results" 2>/dev/null || { echo "0 passed, 1 failed"; status=1; }
rm -f "$results"
exit "$status"
