#!/usr/bin/env bash
# Makes the data of the seed's "Practical Workflow" (shared/seed-oci-artifacts-everywhere.txt):
#   data/imagery.tif    a small Cloud-Optimized GeoTIFF (1024x1024, 3 bands, tiled, overviews)
#   data/stac_item.json a STAC Item describing it
#   data/config.json    '{}'
# Usage: examples/eo/make-data.sh [OUTPUT_DIR]   (default: ./data). Needs GDAL (apt-get install gdal-bin).
# The output is deterministic for a given GDAL version: the same bytes, hence the same digests.
set -euo pipefail

out="${1:-data}"
for tool in gdal_grid gdal_translate; do
  command -v "$tool" >/dev/null || { echo "make-data.sh: $tool is missing: apt-get install --no-install-recommends gdal-bin" >&2; exit 1; }
done
mkdir -p "$out"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

# A smooth, plausible-looking field: inverse-distance interpolation between a few "measurements"
# over a 0.1 x 0.1 degree tile near Munich (EPSG:4326). One value per band (red, green, near-infrared).
cat >"$work/points.csv" <<'CSV'
x,y,r,g,n
11.005,48.195,40,70,180
11.050,48.190,90,110,120
11.095,48.180,60,90,200
11.020,48.150,120,130,90
11.070,48.140,50,80,210
11.010,48.105,100,120,140
11.060,48.110,70,100,170
11.098,48.102,130,140,80
CSV
cat >"$work/points.vrt" <<VRT
<OGRVRTDataSource>
  <OGRVRTLayer name="points">
    <SrcDataSource>$work/points.csv</SrcDataSource>
    <GeometryType>wkbPoint</GeometryType>
    <LayerSRS>EPSG:4326</LayerSRS>
    <GeometryField encoding="PointFromColumns" x="x" y="y"/>
  </OGRVRTLayer>
</OGRVRTDataSource>
VRT
for band in r g n; do
  gdal_grid -q -zfield "$band" -a invdist:power=2.0:smoothing=0.002 \
    -txe 11.0 11.1 -tye 48.2 48.1 -outsize 1024 1024 -ot Byte -of GTiff \
    -l points "$work/points.vrt" "$work/$band.tif"
done
# Stack the three bands, then write the COG (DEFLATE, 256-pixel tiles, overviews).
cat >"$work/stack.vrt" <<VRT
<VRTDataset rasterXSize="1024" rasterYSize="1024">
  <SRS>EPSG:4326</SRS>
  <GeoTransform>11.0, 0.00009765625, 0, 48.2, 0, -0.00009765625</GeoTransform>
  <VRTRasterBand dataType="Byte" band="1"><ColorInterp>Red</ColorInterp><SimpleSource><SourceFilename>$work/r.tif</SourceFilename><SourceBand>1</SourceBand></SimpleSource></VRTRasterBand>
  <VRTRasterBand dataType="Byte" band="2"><ColorInterp>Green</ColorInterp><SimpleSource><SourceFilename>$work/g.tif</SourceFilename><SourceBand>1</SourceBand></SimpleSource></VRTRasterBand>
  <VRTRasterBand dataType="Byte" band="3"><ColorInterp>Undefined</ColorInterp><SimpleSource><SourceFilename>$work/n.tif</SourceFilename><SourceBand>1</SourceBand></SimpleSource></VRTRasterBand>
</VRTDataset>
VRT
gdal_translate -q -of COG -co COMPRESS=DEFLATE -co BLOCKSIZE=256 -co OVERVIEWS=AUTO \
  "$work/stack.vrt" "$out/imagery.tif"

cat >"$out/stac_item.json" <<'JSON'
{
  "type": "Feature",
  "stac_version": "1.0.0",
  "stac_extensions": [
    "https://stac-extensions.github.io/projection/v1.1.0/schema.json",
    "https://stac-extensions.github.io/eo/v1.1.0/schema.json"
  ],
  "id": "ocifs-example-scene",
  "bbox": [11.0, 48.1, 11.1, 48.2],
  "geometry": {
    "type": "Polygon",
    "coordinates": [[[11.0, 48.1], [11.1, 48.1], [11.1, 48.2], [11.0, 48.2], [11.0, 48.1]]]
  },
  "properties": {
    "datetime": "2025-06-01T10:30:00Z",
    "platform": "ocifs-example",
    "proj:epsg": 4326,
    "proj:shape": [1024, 1024]
  },
  "links": [],
  "assets": {
    "imagery": {
      "href": "./imagery.tif",
      "type": "image/tiff; application=geotiff; profile=cloud-optimized",
      "roles": ["data"],
      "eo:bands": [
        { "name": "B04", "common_name": "red" },
        { "name": "B03", "common_name": "green" },
        { "name": "B08", "common_name": "nir" }
      ]
    }
  }
}
JSON

echo '{}' >"$out/config.json"
echo "make-data.sh: wrote $out/imagery.tif ($(stat -c %s "$out/imagery.tif") bytes), $out/stac_item.json, $out/config.json" >&2
