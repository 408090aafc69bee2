#!/bin/sh
# The shell npm runs every script with, the dependencies' install scripts included (.npmrc script-shell).
# It only adds to the environment, then hands over to /bin/sh:
# - CKJS_LINKING=dynamic: @confluentinc/kafka-javascript (the shipper's librdkafka client) builds its bundled
#   librdkafka against the system's OpenSSL, zlib and zstd instead of downloading their sources, which an
#   install without internet access to those hosts cannot do. A value already set is kept.
# - npm_config_nodedir: when no nodedir is configured and the running node's own headers are installed
#   beside it (Debian's nodejs ships /usr/include/node), node-gyp compiles against them instead of
#   downloading a header tarball.
export CKJS_LINKING="${CKJS_LINKING:-dynamic}"
if [ -z "${npm_config_nodedir:-}" ] && [ -n "${npm_node_execpath:-}" ]; then
  prefix=$(dirname "$(dirname "$npm_node_execpath")")
  if [ -f "$prefix/include/node/node_version.h" ]; then
    export npm_config_nodedir="$prefix"
  fi
fi
exec /bin/sh "$@"
