# Sourced by scripts/ab-kernels.sh and scripts/ab-forward.sh (POSIX sh):
# ab_revs USAGE "$@" reads OLD_REV [NEW_REV] from the arguments and sets
# root (the repository), old, new (empty: the working tree), ab_shift
# (how many arguments it took) and tmp (a temporary directory, removed on
# exit, with empty subdirectories old/ and new/).
# ab_extract DIR REV [PATH ...] puts REV's files (or the working tree's,
# REV empty: tracked plus untracked, not ignored) under DIR.
ab_revs() {
    usage=$1; shift
    root=$(cd "$(dirname "$0")/.." && pwd)
    [ $# -ge 1 ] || { echo "usage: $0 $usage" >&2; exit 2; }
    old=$1
    new=""
    ab_shift=1
    if [ $# -ge 2 ] && git -C "$root" rev-parse --verify -q "$2^{commit}" >/dev/null; then
        new=$2
        ab_shift=2
    fi
    tmp=$(mktemp -d)
    trap 'rm -rf "$tmp"' EXIT
    mkdir "$tmp/old" "$tmp/new"
}
ab_extract() {
    dir=$1 rev=$2; shift 2
    if [ -n "$rev" ]; then
        git -C "$root" archive "$rev" "$@" | tar -x -C "$dir"
    else
        git -C "$root" ls-files -co --exclude-standard -z -- "$@" |
            (cd "$root" && xargs -0 tar -cf -) | tar -x -C "$dir"
    fi
}
