# shellcheck shell=bash
# paths.sh: where the e2e runner, the soak, the memcheck run and the
# benchmark find the build. Source it after setting REPO (the checkout's
# top). Relative paths in the environment are taken from REPO.
#   VTS_BUILD_DIR   the programs (default build)
#   VTS_GUEST_DIR   the test guest's kernel and initramfs (default
#                   $VTS_BUILD_DIR/guest)

# abspath PATH: PATH, made absolute from REPO when relative.
abspath() {
	case "$1" in
	/*) echo "$1" ;;
	*) echo "$REPO/$1" ;;
	esac
}
VTS_BUILD_DIR=$(abspath "${VTS_BUILD_DIR:-build}")
VTS_GUEST_DIR=$(abspath "${VTS_GUEST_DIR:-$VTS_BUILD_DIR/guest}")
