#!/usr/bin/env bash
# Get a folder bigger than one transfer (the Hugging Face checkpoint, an fp16 export) onto the lent
# GPU machine, which takes at most 64 MiB per call with the working tree included, the way
# ../shared/gpu/prepare.sh and remote.sh do it for onnxruntime-gpu.
#
#   here:  bash benchmarks/gpu_parts.sh split DIR NAME   # DIR as NAME.tar in parts under .gpu-extra-parts/
#   then, per part, back to back:  mv .gpu-extra-parts/NAME.tar.partNN .gpu-extra/ ; run (carry [".gpu-extra"])
#          "bash benchmarks/gpu_parts.sh stage" ; rm .gpu-extra/NAME.tar.partNN
#   there, in the final call:  bash benchmarks/gpu_parts.sh join NAME   # -> /tmp/gpu-extra/NAME/<DIR's name>
#
# Parts are sized to fit beside the tree as it is when you split: move the embedded models out of
# the tree while splitting and staging (see the README, "On a GPU host"), and put them back for
# the final call, which needs them and no parts.
set -euo pipefail
stash=/tmp/gpu-extra-stash
case "${1:-}" in
  split)
    dir=$2 name=$3
    tree_mb=$(( ($(git ls-files -z --cached --others --exclude-standard | xargs -0 du -cb 2>/dev/null | tail -1 | cut -f1) >> 20) + 1 ))
    part_mb=$(( 60 - tree_mb ))
    [ "$part_mb" -ge 8 ] || { echo "the tree is ${tree_mb} MiB: too big to carry parts beside it"; exit 1; }
    mkdir -p .gpu-extra-parts .gpu-extra
    tar -C "$(dirname "$dir")" -cf - "$(basename "$dir")" | split -b "${part_mb}M" -d - ".gpu-extra-parts/$name.tar.part"
    echo "tree ${tree_mb} MiB; $(ls .gpu-extra-parts/"$name".tar.part* | wc -l) parts of ${part_mb} MiB in .gpu-extra-parts/"
    ;;
  stage)
    mkdir -p "$stash" && cp .gpu-extra/*.part* "$stash"/ 2>/dev/null || true
    echo "staged: $(ls "$stash" | tr '\n' ' ')"
    ;;
  join)
    name=$2
    mkdir -p "/tmp/gpu-extra/$name"
    cat "$stash/$name".tar.part* | tar -xf - -C "/tmp/gpu-extra/$name"
    echo "joined: $(ls "/tmp/gpu-extra/$name")"
    ;;
  *)
    echo "usage: $0 split DIR NAME | stage | join NAME" >&2
    exit 2
    ;;
esac
