#!/usr/bin/env bash
# Miniflare's workerd (MINIFLARE_WORKERD_PATH), started with V8 flags: the config Miniflare
# writes to stdin gets EDGEGATE_WORKERD_V8_FLAGS (space-separated) as its v8Flags, then
# this process becomes the real workerd (EDGEGATE_WORKERD_BINARY) with the same arguments.
set -euo pipefail
# The flags are split on spaces, never expanded as file names.
set -f
# shellcheck disable=SC2086
exec "$EDGEGATE_WORKERD_BINARY" "$@" < <(node "$(dirname "$0")/workerd-v8-flags.mjs" ${EDGEGATE_WORKERD_V8_FLAGS-})
