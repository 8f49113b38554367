# The capture the main job and the localization benchmark run on: the default
# synthetic city (seed 1, 200 m, 40 panoramas, 100 phone queries) with
# 4096x2048 panoramas. Mapping rigs record 4K-8K panoramas; at the generator's
# default 2048 px a shop sign's characters are 5-7 px tall from across the
# street, too small to read, and the feature map is cut from a panorama at its
# views' resolution either way. Sourced by scripts/demo.sh and
# bench/localization_bench.sh so both use the same city.
ARMAP_DEMO_CITY_FLAGS=(--seed 1 --pano-width 4096)
