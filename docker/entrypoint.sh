#!/bin/sh
# Container entrypoint: `blur` (default) | `snapshot` [extra gunicorn options] | `worker` | any
# other command.
#
#   blur      Blur API      gunicorn -c config/gunicorn.conf.py -b ${BIND:-0.0.0.0:8001}
#   snapshot  plate reader  gunicorn -c config/gunicorn.conf.py -b ${BIND:-0.0.0.0:8080}
#   worker    task consumer python -m blur_sdk worker (TASK_QUEUE=redis, a shared TASKS_DIR)
#
# Paths are relative to this script's folder's parent (/app in the image, the checkout in
# tests/processes/test_container_roles.py, which starts both roles through this very script).
# gunicorn is exec'd, so it gets docker's SIGTERM directly and shuts down gracefully.
set -eu

APP_DIR=$(CDPATH='' cd -- "$(dirname -- "$0")/.." && pwd)
CONF="$APP_DIR/config/gunicorn.conf.py"
cd "$APP_DIR"

# glibc madvises its large mappings for transparent huge pages: buffers freed and allocated
# again (OV_RELEASE_MEMORY=always) fault in 2 MB pages (blur_sdk/core/models/malloc.py)
export GLIBC_TUNABLES="${GLIBC_TUNABLES-glibc.malloc.hugetlb=1}"

role="${1:-blur}"
[ "$#" -gt 0 ] && shift
case "$role" in
    blur)
        exec gunicorn -c "$CONF" -b "${BIND:-0.0.0.0:8001}" "$@" 'blur_sdk.server.app:create_app()'
        ;;
    snapshot)
        exec gunicorn -c "$CONF" -b "${BIND:-0.0.0.0:8080}" "$@" 'snapshot_stub.app:create_app()'
        ;;
    worker)
        exec python -m blur_sdk worker "$@"
        ;;
    *)
        exec "$role" "$@"
        ;;
esac
