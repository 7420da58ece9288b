#!/bin/sh
# Entrypoint of the hspc image: the first argument picks the role.
#   code-location  Dagster code server for hspc_pipelines.definitions (gRPC, port 4000)
#   webserver      Dagster UI (port 3000), reads deploy/workspace.yaml
#   daemon         Dagster daemon (schedules, sensors, run queue, run monitoring, retries)
#   ingress        hspc ingress: HubSpot webhooks, submit requests, solutions look-up (port 8080)
#   healthcheck    probe for the role PID 1 is running (used by the image's HEALTHCHECK)
# Anything else is executed as given: the ECS run launcher starts run workers with
# `dagster api execute_run ...` in this image.
# HSPC_ENTRYPOINT_DRY_RUN=1 prints the command instead of running it (used by the tests).
set -eu

WORKSPACE="${DAGSTER_WORKSPACE:-/opt/dagster/app/workspace.yaml}"
CODE_PORT="${DAGSTER_CODE_LOCATION_PORT:-4000}"
WEB_PORT="${DAGSTER_WEBSERVER_PORT:-3000}"
INGRESS_PORT="${HSPC_INGRESS_PORT:-8080}"

run() {
    if [ "${HSPC_ENTRYPOINT_DRY_RUN:-0}" = "1" ]; then
        printf '%s\n' "$*"
        exit 0
    fi
    exec "$@"
}

probe() {
    if [ "${HSPC_ENTRYPOINT_DRY_RUN:-0}" = "1" ]; then
        printf '%s\n' "$*"
        exit 0
    fi
    "$@"
}

http_ok() {
    python -c 'import sys, urllib.request; urllib.request.urlopen(sys.argv[1], timeout=5)' "$1"
}

role_of_pid1() {
    tr '\0' ' ' </proc/1/cmdline
}

role="${1:-code-location}"
case "$role" in
    code-location)
        shift
        run dagster code-server start --host 0.0.0.0 --port "$CODE_PORT" \
            --module-name hspc_pipelines.definitions --location-name hspc "$@"
        ;;
    webserver)
        shift
        run dagster-webserver --host 0.0.0.0 --port "$WEB_PORT" --workspace "$WORKSPACE" "$@"
        ;;
    daemon)
        shift
        run dagster-daemon run --workspace "$WORKSPACE" "$@"
        ;;
    ingress)
        shift
        run hspc ingress --host 0.0.0.0 --port "$INGRESS_PORT" "$@"
        ;;
    healthcheck)
        case "$(role_of_pid1)" in
            *"code-server start"*) run dagster api grpc-health-check --port "$CODE_PORT" ;;
            *dagster-webserver*) probe http_ok "http://127.0.0.1:$WEB_PORT/server_info" ;;
            *"dagster-daemon run"*) run dagster-daemon liveness-check ;;
            *"hspc ingress"*) probe http_ok "http://127.0.0.1:$INGRESS_PORT/healthz" ;;
            *) exit 0 ;;  # run workers and one-off commands: ECS tracks the process itself
        esac
        ;;
    *)
        run "$@"
        ;;
esac
