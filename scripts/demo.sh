#!/usr/bin/env bash
# The demo: a local registry, a small Cloud-Optimized GeoTIFF and its STAC item pushed with
# ocifs, the repository mounted, `ls -l` and `gdalinfo` of the mounted file, then clean-up.
# Usage: ./scripts/demo.sh        (installs what it needs on Debian: run as root or with sudo)
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD

need=()
for pair in fusermount:fuse docker-registry:docker-registry gdalinfo:gdal-bin; do
  command -v "${pair%%:*}" >/dev/null 2>&1 || need+=("${pair##*:}")
done
ldconfig -p 2>/dev/null | grep -q 'libfuse.so.2 ' || need+=(libfuse2)
if [ ${#need[@]} -gt 0 ]; then
  echo "==> installing ${need[*]}"
  SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi
if [ ! -d node_modules ] || [ package-lock.json -nt node_modules ]; then
  echo "==> npm ci"; npm ci --no-audit --no-fund --loglevel=error
fi
echo "==> npm run build"; npm run --silent build
ocifs="$root/bin/ocifs"

work=$(mktemp -d -t ocifs-demo-XXXXXX)
mnt="$work/mnt"
registry_pid=""
cleanup() {
  set +e
  mountpoint -q "$mnt" 2>/dev/null && "$ocifs" umount "$mnt"
  [ -n "${mount_pid:-}" ] && wait "$mount_pid" 2>/dev/null
  [ -n "$registry_pid" ] && kill "$registry_pid" 2>/dev/null && wait "$registry_pid" 2>/dev/null
  rm -rf "$work"
}
trap cleanup EXIT

port=$(node -e 'const s=require("net").createServer().listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})')
cat > "$work/registry.yml" <<YML
version: 0.1
log: { level: warn, accesslog: { disabled: true } }
storage: { filesystem: { rootdirectory: $work/registry } }
http: { addr: 127.0.0.1:$port }
YML
echo "==> starting docker-registry on 127.0.0.1:$port"
docker-registry serve "$work/registry.yml" >"$work/registry.log" 2>&1 &
registry_pid=$!
for _ in $(seq 100); do curl -fs "http://127.0.0.1:$port/v2/" >/dev/null && break; sleep 0.1; done

echo "==> making a sample COG (2048x2048, 3 bands of noise, 512 px tiles) and a STAC item"
mkdir -p "$work/data"
head -c $((2048 * 2048 * 3 * 2)) /dev/urandom > "$work/raw.bin"
printf 'ENVI\nsamples = 2048\nlines = 2048\nbands = 3\nheader offset = 0\nfile type = ENVI Standard\ndata type = 12\ninterleave = bsq\nbyte order = 0\n' > "$work/raw.hdr"
gdal_translate -q -of COG -co COMPRESS=DEFLATE -co BLOCKSIZE=512 -a_srs EPSG:32633 \
  -a_ullr 500000 5000000 520480 4979520 "$work/raw.bin" "$work/data/imagery.tif"
cat > "$work/data/stac_item.json" <<JSON
{"type":"Feature","stac_version":"1.0.0","id":"demo-scene","bbox":[15,45,15.1,45.1],
 "geometry":{"type":"Polygon","coordinates":[[[15,45],[15.1,45],[15.1,45.1],[15,45.1],[15,45]]]},
 "properties":{"datetime":"2026-11-28T00:00:00Z"},
 "assets":{"imagery":{"href":"./imagery.tif","type":"image/tiff; application=geotiff; profile=cloud-optimized"}},"links":[]}
JSON

export XDG_CACHE_HOME="$work/cache"
echo "==> ocifs push"
(cd "$work" && "$ocifs" push data/imagery.tif data/stac_item.json:application/geo+json \
   "127.0.0.1:$port/eo/products:v1" --artifact-type application/vnd.example.eo.v1)

echo "==> ocifs mount 127.0.0.1:$port/eo/products $mnt"
mkdir -p "$mnt"
"$ocifs" mount "127.0.0.1:$port/eo/products" "$mnt" --log-level warn &
mount_pid=$!
for _ in $(seq 100); do mountpoint -q "$mnt" && break; sleep 0.1; done

echo "==> ls -lR $mnt"
ls -lR "$mnt"
echo "==> gdalinfo $mnt/v1/data/imagery.tif"
gdalinfo "$mnt/v1/data/imagery.tif" | grep -E 'Driver|Size is|LAYOUT|Band|Overviews' | head -12
echo "==> gdal_translate -srcwin 768 768 512 512 (one window of the mounted COG)"
gdal_translate -q -srcwin 768 768 512 512 "$mnt/v1/data/imagery.tif" "$work/window.tif"
size=$(stat -c %s "$work/data/imagery.tif")
fetched=$("$ocifs" status "$mnt" --json | node -e 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>console.log(JSON.parse(s).reader.bytesFetched))')
echo "    fetched $fetched of $size bytes ($(( fetched * 100 / size ))%) to read the header and one window"
echo "==> ocifs status $mnt"
"$ocifs" status "$mnt"
echo "==> ocifs umount $mnt"
"$ocifs" umount "$mnt"
wait "$mount_pid"
echo "==> done"
