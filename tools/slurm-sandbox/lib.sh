# lib.sh - shared settings and helpers for the reckon Slurm sandbox scripts.
# Sourced by up.sh, down.sh, status.sh, jobs.sh and dump.sh; not run directly.
# shellcheck shell=bash disable=SC2034  # the settings are used by the scripts that source this

export PATH="/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin${PATH:+:$PATH}"

# ---- settings (environment overrides) --------------------------------------
RS_DIR=${RECKON_SLURM_DIR:-/var/tmp/reckon-slurm}     # ALL state lives here
RS_CLUSTER=${RECKON_SLURM_CLUSTER:-reckon}
RS_DB_PORT=${RECKON_SLURM_DB_PORT:-3307}              # MariaDB on 127.0.0.1
RS_CTLD_PORT=${RECKON_SLURM_CTLD_PORT:-6817}
RS_SLURMD_PORT=${RECKON_SLURM_SLURMD_PORT:-6818}
RS_DBD_PORT=${RECKON_SLURM_DBD_PORT:-6819}
RS_CPUS=${RECKON_SLURM_CPUS:-16}         # advertised CPUs (config_overrides: may exceed the real cores)
RS_MEM_MB=${RECKON_SLURM_MEM_MB:-8192}   # advertised RealMemory in MB
RS_GPUS=${RECKON_SLURM_GPUS:-4}          # fake gres/gpu:a100 devices (clones of /dev/null)
RS_GPU_TYPE=a100
RS_USERS=(alice bob carol)

RS_ETC=$RS_DIR/etc
RS_PIDS=$RS_DIR/pids
RS_LOG=$RS_DIR/log
RS_MUNGE_SOCK=$RS_DIR/munge-run/munge.socket.2
RS_MYSQL_SOCK=$RS_DIR/mysql/mysqld.sock
# Daemons read their configs from $RS_ETC (SLURM_CONF); clients find slurm.conf through the
# symlink /etc/slurm/slurm.conf that up.sh creates, so plain `sacct` works for every user.
export SLURM_CONF=$RS_ETC/slurm.conf

# Daemons, in start order: name, /proc/PID/comm of the process we start.
RS_DAEMONS=(munged:munged mariadbd:mariadbd slurmdbd:slurmdbd slurmctld:slurmctld slurmd:slurmd)

# ---- logging ---------------------------------------------------------------
RS_T0=${EPOCHREALTIME/./}
rs_elapsed() { local d=$(( (${EPOCHREALTIME/./} - RS_T0) / 100000 )); printf '%d.%d' $((d / 10)) $((d % 10)); }
log() { printf '[%s +%5ss] %s\n' "${RS_SCRIPT:-sandbox}" "$(rs_elapsed)" "$*"; }
warn() { log "WARNING: $*" >&2; }
die() { log "ERROR: $*" >&2; exit 1; }
need_root() { [ "$(id -u)" = 0 ] || die "must run as root"; }

# ---- pid bookkeeping -------------------------------------------------------
pid_file() { echo "$RS_PIDS/$1.pid"; }
# pid_running PID: the process exists and is not a zombie (our daemons are re-parented to
# PID 1 once up.sh exits, and PID 1 may take a while to reap them)
pid_running() {
  local st
  st=$(sed 's/^.*) //' "/proc/$1/stat" 2>/dev/null) || return 1
  [ -n "$st" ] && [ "${st%% *}" != Z ]
}
# is_alive NAME COMM: the recorded PID exists and is still the process we started
is_alive() {
  local f pid
  f=$(pid_file "$1")
  [ -s "$f" ] || return 1
  pid=$(<"$f")
  [[ $pid =~ ^[0-9]+$ ]] || return 1
  pid_running "$pid" && [ "$(cat "/proc/$pid/comm" 2>/dev/null)" = "$2" ]
}
# stop_pid NAME COMM: SIGTERM the recorded PID (only if it is still COMM), wait, then SIGKILL
stop_pid() {
  local name=$1 comm=$2 pid
  if ! is_alive "$name" "$comm"; then
    [ -e "$(pid_file "$name")" ] && { log "$name: recorded pid not running, removing pid file"; rm -f "$(pid_file "$name")"; }
    return 0
  fi
  pid=$(<"$(pid_file "$name")")
  kill -TERM "$pid"
  for _ in $(seq 1 300); do pid_running "$pid" || break; sleep 0.1; done
  if pid_running "$pid"; then warn "$name (pid $pid) ignored SIGTERM for 30 s, sending SIGKILL"; kill -KILL "$pid"; sleep 0.2; fi
  rm -f "$(pid_file "$name")"
  log "$name stopped (pid $pid)"
}

# ---- waiting ---------------------------------------------------------------
# wait_until SECONDS WHAT cmd... : poll cmd every 0.2 s
wait_until() {
  local secs=$1 what=$2; shift 2
  for _ in $(seq 1 $((secs * 5))); do "$@" >/dev/null 2>&1 && return 0; sleep 0.2; done
  die "timed out after ${secs} s waiting for $what"
}
# DBD agent queue size from sdiag (0 = every job record has reached slurmdbd)
dbd_queue() { sdiag 2>/dev/null | sed -n 's/.*DBD Agent queue size: *\([0-9]*\).*/\1/p' | head -1; }
wait_dbd_settled() {  # wait_dbd_settled MAXSECONDS
  local q
  for _ in $(seq 1 $(($1 * 5))); do
    q=$(dbd_queue)
    [ "$q" = 0 ] && return 0
    sleep 0.2
  done
  die "DBD agent queue did not drain in $1 s (last size: ${q:-unknown})"
}

# ---- time ------------------------------------------------------------------
# sacct's -S/-E take no epoch form; reckon passes UTC wall time under TZ=UTC, and so do we.
iso_utc() { TZ=UTC date -d "@$1" +%Y-%m-%dT%H:%M:%S; }
