#!/usr/bin/env bash
# status.sh - show whether the sandbox daemons recorded by up.sh are alive, their memory,
# listening sockets, the node, the queue and slurmctld's DBD agent queue.
# Exit status: 0 when all five daemons are running, 1 otherwise.
set -euo pipefail
RS_SCRIPT=status.sh
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=lib.sh
. "$HERE/lib.sh"

up=0 total_kb=0
printf '%-10s %-8s %-6s %10s\n' daemon pid state rss_kb
for spec in "${RS_DAEMONS[@]}"; do
  name=${spec%%:*} comm=${spec##*:}
  if is_alive "$name" "$comm"; then
    pid=$(<"$(pid_file "$name")")
    rss=$(awk '/^VmRSS:/{print $2}' "/proc/$pid/status")
    total_kb=$((total_kb + rss)); up=$((up + 1))
    printf '%-10s %-8s %-6s %10s\n' "$name" "$pid" up "$rss"
  else
    printf '%-10s %-8s %-6s %10s\n' "$name" - down -
  fi
done
printf 'daemons up: %d/%d, RSS total %d MiB, state dir %s (%s)\n' "$up" "${#RS_DAEMONS[@]}" $((total_kb / 1024)) \
  "$RS_DIR" "$(du -sh "$RS_DIR" 2>/dev/null | cut -f1)"
if command -v ss >/dev/null; then
  echo "listening sockets of the recorded PIDs:"
  pids=$(cat "$RS_PIDS"/*.pid 2>/dev/null | paste -sd'|' || true)
  if [ -n "$pids" ]; then ss -ltnpH 2>/dev/null | grep -E "pid=($pids)," | awk '{print "  " $4 "  " $6}' || true; fi
fi
if ((up == ${#RS_DAEMONS[@]})); then
  sinfo -N -o '%N %T %c %m %G' || true
  squeue -o '%A %u %a %T %M %j' || true
  echo "DBD Agent queue size: $(dbd_queue)"
  exit 0
fi
exit 1
