#!/bin/sh
# Container entrypoint: check that the state folders (Hugging Face cache, truthstab cache, submissions)
# are usable by this user, with a one-line fix when they are not, then hand over to `truthstab` with the
# container's arguments.
set -eu

check_dir() {
    dir=$1
    what=$2
    [ -n "$dir" ] || return 0
    if [ -e "$dir" ] && [ ! -d "$dir" ]; then
        echo "error: $what $dir is a file, not a folder; mount a folder there" >&2
        exit 2
    fi
    if ! mkdir -p "$dir" 2>/dev/null || [ ! -w "$dir" ]; then
        echo "error: $what $dir is not writable by uid $(id -u); on the host: sudo chown -R $(id -u):$(id -g) <the folder you mounted>" >&2
        exit 2
    fi
}

check_dir "${HF_HOME:-}" "the Hugging Face cache"
check_dir "${TRUTHSTAB_CACHE:-}" "the truthstab cache"
check_dir "${TRUTHSTAB_SUBMISSIONS:-}" "the submissions folder"

exec truthstab "$@"
