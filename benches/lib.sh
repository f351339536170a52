# Shared start of the bench scripts that run one clip through a preset
# (sourced from the repository root): CLIP, PRESET and RANGE from the
# arguments, the One Piece demo, anime-clean and 0-2 by default; BIN, the
# release binary, built when missing; TMP, a folder removed on exit.
bench_start() {
    CLIP="${1:-../shared/media/anime/realesrgan_onepiece_demo.mp4}"
    PRESET="${2:-anime-clean}"
    RANGE="${3:-0-2}"
    BIN=target/release/ainimotion
    [ -x "$BIN" ] || cargo build --release --quiet
    [ -f "$CLIP" ] || { echo "no clip $CLIP" >&2; exit 1; }
    TMP="$(mktemp -d)"
    trap 'rm -rf "$TMP"' EXIT
}
