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
npx vitest run --reporter=default --reporter=json --outputFile.json="$results" "$@" || status=$?
node -e '
  const r = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"));
  console.log(`${r.numPassedTests} passed, ${r.numFailedTests + (r.numRuntimeErrors ?? 0)} failed`);
' "$results" || { echo "0 passed, 1 failed"; status=1; }
rm -f "$results"
exit "$status"
