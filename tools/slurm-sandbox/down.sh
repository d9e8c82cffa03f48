#!/usr/bin/env bash
# down.sh - stop the sandbox cluster: cancel its remaining jobs, then stop exactly the daemon
# PIDs up.sh recorded in $RECKON_SLURM_DIR/pids (each checked against /proc/PID/comm first).
#   down.sh          stop; keep the state (accounting DB, configs) for the next up.sh
#   down.sh --wipe   also delete $RECKON_SLURM_DIR and the /etc/slurm/slurm.conf symlink
# Packages and the Linux users alice/bob/carol are left installed.
set -euo pipefail
RS_SCRIPT=down.sh
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=lib.sh
. "$HERE/lib.sh"
need_root
WIPE=0
case "${1:-}" in
  --wipe) WIPE=1 ;;
  "") ;;
  *) die "usage: down.sh [--wipe]" ;;
esac
[ -d "$RS_DIR" ] || { log "nothing to do: $RS_DIR does not exist"; exit 0; }

# 1. let Slurm end its own jobs (slurmstepd and the job processes) while slurmctld and slurmd are up
if is_alive slurmctld slurmctld && is_alive slurmd slurmd; then
  mapfile -t jobs < <(squeue -h -o %A 2>/dev/null || true)
  if ((${#jobs[@]})); then
    log "cancelling ${#jobs[@]} job(s) still in the queue: ${jobs[*]}"
    scancel "${jobs[@]}" || true
    for _ in $(seq 1 150); do [ -z "$(squeue -h -o %A 2>/dev/null)" ] && break; sleep 0.2; done
    [ -z "$(squeue -h -o %A 2>/dev/null)" ] || warn "jobs still listed after 30 s: $(squeue -h -o '%A:%T' | tr '\n' ' ')"
    # let slurmctld hand the final job records to slurmdbd before it goes away
    for _ in $(seq 1 50); do [ "$(dbd_queue)" = 0 ] && break; sleep 0.2; done
  fi
fi

# 2. stop the daemons in reverse start order, by recorded PID only
for ((i = ${#RS_DAEMONS[@]} - 1; i >= 0; i--)); do
  spec=${RS_DAEMONS[$i]}
  stop_pid "${spec%%:*}" "${spec##*:}"
done

if ((WIPE)); then
  if [ -L /etc/slurm/slurm.conf ] && [ "$(readlink /etc/slurm/slurm.conf)" = "$RS_ETC/slurm.conf" ]; then
    rm -f /etc/slurm/slurm.conf
  fi
  rm -rf "$RS_DIR"
  log "wiped $RS_DIR"
fi
log "done in $(rs_elapsed) s"
