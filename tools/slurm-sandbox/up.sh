#!/usr/bin/env bash
# up.sh - bring up a real single-node Slurm cluster with accounting for reckon's tests:
#   munged + mariadbd + slurmdbd + slurmctld + slurmd, from Debian packages, no systemd,
#   every daemon bound to 127.0.0.1, all state under $RECKON_SLURM_DIR (/var/tmp/reckon-slurm).
# Idempotent: a second run only starts what is not running and restarts a daemon whose
# config file changed. down.sh stops exactly the PIDs recorded here.
#
# Outside $RECKON_SLURM_DIR it touches only: Debian packages (apt-get), the Linux users
# alice/bob/carol (created if absent) and the symlink /etc/slurm/slurm.conf (for clients).
# Settings: see lib.sh (RECKON_SLURM_DIR, _DB_PORT, _CPUS, _MEM_MB, _GPUS, ...).
set -euo pipefail
RS_SCRIPT=up.sh
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=lib.sh
. "$HERE/lib.sh"
need_root

PKGS=(munge mariadb-server slurmdbd slurmctld slurmd slurm-client)

# ---------------------------------------------------------------- 1. packages
t=${EPOCHREALTIME/./}
missing=()
for p in "${PKGS[@]}"; do
  [ "$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null)" = "install ok installed" ] || missing+=("$p")
done
if ((${#missing[@]})); then
  made_policy=0
  if [ ! -e /usr/sbin/policy-rc.d ]; then
    # no systemd here: keep the maintainer scripts from trying to start the services
    printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d && chmod 755 /usr/sbin/policy-rc.d && made_policy=1
  fi
  cleanup_policy() { if ((made_policy)); then rm -f /usr/sbin/policy-rc.d; fi; }
  trap cleanup_policy EXIT
  log "apt-get update"
  apt-get update -qq >"/tmp/reckon-slurm-apt.log" 2>&1 || { tail -20 /tmp/reckon-slurm-apt.log >&2; die "apt-get update failed"; }
  log "apt-get install ${missing[*]}"
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" \
    >>"/tmp/reckon-slurm-apt.log" 2>&1 || { tail -30 /tmp/reckon-slurm-apt.log >&2; die "apt-get install failed (log: /tmp/reckon-slurm-apt.log)"; }
  cleanup_policy; trap - EXIT
  log "packages installed in $(( (${EPOCHREALTIME/./} - t) / 1000 )) ms"
else
  log "packages already installed"
fi
for u in slurm munge mysql; do id "$u" >/dev/null 2>&1 || die "system user $u missing after install"; done
SLURM_VERSION=$(dpkg-query -W -f='${Version}' slurmctld)

# ---------------------------------------------------------------- 2. loopback only
HOST=$(hostname -s)
HOST_ADDR=$(getent ahostsv4 "$HOST" | awk 'NR==1{print $1}')
# CommunicationParameters=NoInAddrAny,NoCtldInAddrAny makes slurmctld/slurmd/slurmdbd bind the
# address the hostname resolves to instead of 0.0.0.0; that must be loopback.
case "$HOST_ADDR" in
  127.*) ;;
  *) die "hostname '$HOST' resolves to '${HOST_ADDR:-nothing}', not loopback; the daemons would listen there. Add '127.0.0.1 $HOST' to /etc/hosts." ;;
esac

# ---------------------------------------------------------------- 3. layout and users
install -d -m 755 "$RS_DIR" "$RS_ETC" "$RS_PIDS" "$RS_DIR/dev"
install -d -m 755 -o slurm -g slurm "$RS_LOG" "$RS_DIR/run" "$RS_DIR/ctld-state"
install -d -m 755 "$RS_DIR/slurmd-spool"
install -d -m 700 -o munge -g munge "$RS_DIR/munge"
install -d -m 755 -o munge -g munge "$RS_DIR/munge-run"
install -d -m 750 -o mysql -g mysql "$RS_DIR/mysql"
install -d -m 700 "$RS_DIR/secrets"
install -d -m 1777 "$RS_DIR/jobs"
for u in "${RS_USERS[@]}"; do
  id "$u" >/dev/null 2>&1 || { useradd -m -s /bin/bash "$u"; log "created Linux user $u"; }
done

# write_conf DEST MODE OWNER <content : writes only when the content differs.
# Returns 0 when the file changed (so the caller restarts the daemon), 1 otherwise.
write_conf() {
  local dest=$1 mode=$2 owner=$3 tmp
  tmp=$(mktemp)
  cat >"$tmp"
  if [ -f "$dest" ] && cmp -s "$tmp" "$dest"; then
    rm -f "$tmp"; chmod "$mode" "$dest"; chown "$owner" "$dest"; return 1
  fi
  install -m "$mode" -o "${owner%%:*}" -g "${owner##*:}" "$tmp" "$dest"; rm -f "$tmp"; return 0
}

# start_daemon NAME COMM cmd... : run in the foreground mode under setsid in the background.
# setsid and setpriv exec (no fork: bash's child is not a group leader), so $! is the daemon.
start_daemon() {
  local name=$1 comm=$2 i; shift 2
  if is_alive "$name" "$comm"; then log "$name already running (pid $(<"$(pid_file "$name")"))"; return 0; fi
  setsid "$@" </dev/null >>"$RS_LOG/$name.out" 2>&1 &
  echo $! >"$(pid_file "$name")"
  for i in 1 2 3 4 5; do sleep 0.1; is_alive "$name" "$comm" && break; done
  is_alive "$name" "$comm" || { tail -20 "$RS_LOG/$name.out" >&2; die "$name exited at once (see $RS_LOG/$name.out)"; }
  log "$name started (pid $!)"
}

# ---------------------------------------------------------------- 4. munge
MUNGE_KEY=$RS_DIR/munge/munge.key
if [ ! -s "$MUNGE_KEY" ]; then
  mungekey --create --keyfile="$MUNGE_KEY" 2>/dev/null || dd if=/dev/urandom of="$MUNGE_KEY" bs=1024 count=1 status=none
  log "created munge key"
fi
chown munge:munge "$MUNGE_KEY"; chmod 400 "$MUNGE_KEY"
# munged refuses to run as root; setpriv drops to the munge user and execs.
start_daemon munged munged setpriv --reuid=munge --regid=munge --init-groups \
  /usr/sbin/munged --foreground --socket="$RS_MUNGE_SOCK" --key-file="$MUNGE_KEY" \
  --log-file="$RS_DIR/munge/munged.log" --seed-file="$RS_DIR/munge/munged.seed" \
  --pid-file="$RS_DIR/munge/munged.pid"
wait_until 20 "munged" bash -c "munge -n --socket='$RS_MUNGE_SOCK' | unmunge --socket='$RS_MUNGE_SOCK'"

# ---------------------------------------------------------------- 5. MariaDB
MYCNF=$RS_ETC/my.cnf
if write_conf "$MYCNF" 644 root:root <<EOF
# generated by reckon tools/slurm-sandbox/up.sh
[mysqld]
user                     = mysql
datadir                  = $RS_DIR/mysql/data
socket                   = $RS_MYSQL_SOCK
pid-file                 = $RS_DIR/mysql/mariadbd.pid
log-error                = $RS_LOG/mariadb.err
bind-address             = 127.0.0.1
port                     = $RS_DB_PORT
skip-name-resolve
performance_schema       = OFF
max_connections          = 50
# slurmdbd warns below ~1 GiB; pages are touched lazily, so RSS stays ~130 MB
innodb_buffer_pool_size  = 1024M
innodb_log_file_size     = 64M
innodb_lock_wait_timeout = 900
innodb_use_native_aio    = 0
EOF
then my_changed=1; else my_changed=0; fi
if [ ! -d "$RS_DIR/mysql/data/mysql" ]; then
  log "initialising the MariaDB datadir"
  mariadb-install-db --defaults-file="$MYCNF" --user=mysql --skip-test-db \
    --auth-root-authentication-method=socket >"$RS_LOG/mariadb-install.log" 2>&1 \
    || { tail -20 "$RS_LOG/mariadb-install.log" >&2; die "mariadb-install-db failed"; }
fi
if ((my_changed)); then stop_pid mariadbd mariadbd; fi
start_daemon mariadbd mariadbd /usr/sbin/mariadbd --defaults-file="$MYCNF"
wait_until 60 "MariaDB" mariadb-admin --socket="$RS_MYSQL_SOCK" -uroot ping
[ -s "$RS_DIR/secrets/dbpass" ] || { (umask 077; head -c 24 /dev/urandom | base64 | tr -dc 'A-Za-z0-9' >"$RS_DIR/secrets/dbpass"); }
DBPASS=$(<"$RS_DIR/secrets/dbpass")
mariadb --socket="$RS_MYSQL_SOCK" -uroot <<SQL
CREATE DATABASE IF NOT EXISTS slurm_acct_db;
CREATE USER IF NOT EXISTS 'slurm'@'127.0.0.1' IDENTIFIED BY '$DBPASS';
ALTER USER 'slurm'@'127.0.0.1' IDENTIFIED BY '$DBPASS';
GRANT ALL ON slurm_acct_db.* TO 'slurm'@'127.0.0.1';
FLUSH PRIVILEGES;
SQL
log "MariaDB ready on 127.0.0.1:$RS_DB_PORT"

# ---------------------------------------------------------------- 6. Slurm configs
# Fake GPUs: slurmd drops a GPU without File=, and a File= that is not a device logs errors;
# a character device cloned from /dev/null (1,3) is accepted and harmless to open.
for i in $(seq 0 $((RS_GPUS - 1))); do
  [ -c "$RS_DIR/dev/gpu$i" ] || mknod -m 666 "$RS_DIR/dev/gpu$i" c 1 3
done
GRES_NODE="" GRES_TYPES="" GRES_TRES="" GRES_LINE="# no GPUs (RECKON_SLURM_GPUS=0)"
if ((RS_GPUS > 0)); then
  GRES_NODE="Gres=gpu:$RS_GPU_TYPE:$RS_GPUS"
  GRES_TYPES="GresTypes=gpu"
  GRES_TRES="AccountingStorageTRES=gres/gpu,gres/gpu:$RS_GPU_TYPE"
  GRES_LINE="NodeName=$HOST Name=gpu Type=$RS_GPU_TYPE File=$RS_DIR/dev/gpu[0-$((RS_GPUS - 1))]"
fi
AUTHINFO="socket=$RS_MUNGE_SOCK"
if write_conf "$RS_ETC/slurm.conf" 644 root:root <<EOF
# generated by reckon tools/slurm-sandbox/up.sh - single-node test cluster, loopback only
ClusterName=$RS_CLUSTER
SlurmctldHost=$HOST($HOST_ADDR)
SlurmUser=slurm
SlurmdUser=root
AuthType=auth/munge
CryptoType=crypto/munge
# cred_expire also sets how long a requeued job waits before it may start again
# (begin_time = now + cred_expire + 1; the default 120 s would make the job mix slow)
AuthInfo=$AUTHINFO,cred_expire=10
# bind the hostname's address (127.0.0.1) instead of 0.0.0.0
CommunicationParameters=NoInAddrAny,NoCtldInAddrAny
SlurmctldPort=$RS_CTLD_PORT
SlurmdPort=$RS_SLURMD_PORT
StateSaveLocation=$RS_DIR/ctld-state
SlurmdSpoolDir=$RS_DIR/slurmd-spool
SlurmctldPidFile=$RS_DIR/run/slurmctld.pid
SlurmdPidFile=$RS_DIR/run/slurmd.pid
SlurmctldLogFile=$RS_LOG/slurmctld.log
SlurmdLogFile=$RS_LOG/slurmd.log
SlurmctldDebug=info
SlurmdDebug=info
MailProg=/bin/true
MpiDefault=none
SwitchType=switch/none
# no cgroups: works in containers and VMs alike (no OUT_OF_MEMORY state, no .extern steps)
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/linux
JobAcctGatherFrequency=task=10
# the advertised node (CPUs, memory, GPUs) may exceed the hardware: jobs here only sleep
SlurmdParameters=config_overrides
ReturnToService=2
SlurmctldTimeout=60
SlurmdTimeout=120
InactiveLimit=0
KillWait=5
MinJobAge=600
Waittime=0
JobRequeue=1
SchedulerType=sched/backfill
SchedulerParameters=sched_interval=5,bf_interval=5
SelectType=select/cons_tres
SelectTypeParameters=CR_Core_Memory
DefMemPerCPU=256
PriorityType=priority/basic
$GRES_TYPES
AccountingStorageType=accounting_storage/slurmdbd
AccountingStorageHost=$HOST_ADDR
AccountingStoragePort=$RS_DBD_PORT
# with auth/munge this is the munge socket used towards slurmdbd (the "global" auth key)
AccountingStoragePass=$RS_MUNGE_SOCK
AccountingStorageEnforce=associations,limits,qos
$GRES_TRES
JobCompType=jobcomp/none
NodeName=$HOST NodeAddr=$HOST_ADDR CPUs=$RS_CPUS Sockets=1 CoresPerSocket=$RS_CPUS ThreadsPerCore=1 RealMemory=$RS_MEM_MB $GRES_NODE State=UNKNOWN
PartitionName=debug Nodes=ALL Default=YES MaxTime=INFINITE State=UP
EOF
then ctl_changed=1; else ctl_changed=0; fi
if write_conf "$RS_ETC/gres.conf" 644 root:root <<EOF
# generated by up.sh - fake GPUs, device files are clones of /dev/null
$GRES_LINE
EOF
then ctl_changed=1; fi
if write_conf "$RS_ETC/slurmdbd.conf" 600 slurm:slurm <<EOF
# generated by up.sh - slurmdbd requires mode 600 and owner SlurmUser
AuthType=auth/munge
AuthInfo=$AUTHINFO
CommunicationParameters=NoInAddrAny
DbdHost=$HOST
DbdAddr=$HOST_ADDR
DbdPort=$RS_DBD_PORT
SlurmUser=slurm
DebugLevel=info
LogFile=$RS_LOG/slurmdbd.log
PidFile=$RS_DIR/run/slurmdbd.pid
StorageType=accounting_storage/mysql
StorageHost=127.0.0.1
StoragePort=$RS_DB_PORT
StorageUser=slurm
StoragePass=$DBPASS
StorageLoc=slurm_acct_db
EOF
then dbd_changed=1; else dbd_changed=0; fi
# clients (sacct, sbatch, ... for any user) read /etc/slurm/slurm.conf
mkdir -p /etc/slurm
if [ -e /etc/slurm/slurm.conf ] && [ ! -L /etc/slurm/slurm.conf ]; then
  die "/etc/slurm/slurm.conf is a real file; move it away first (this sandbox links it to $RS_ETC/slurm.conf)"
fi
ln -sfn "$RS_ETC/slurm.conf" /etc/slurm/slurm.conf

# ---------------------------------------------------------------- 7. slurmdbd, cluster, accounts
if ((dbd_changed)); then stop_pid slurmdbd slurmdbd; fi
start_daemon slurmdbd slurmdbd /usr/sbin/slurmdbd -D
wait_until 90 "slurmdbd to answer sacctmgr" sacctmgr -n -P list cluster
log "slurmdbd ready"

sacctmgr -n -P list cluster format=cluster | grep -qx "$RS_CLUSTER" || sacctmgr -i add cluster "$RS_CLUSTER" >/dev/null
have_accounts=$(sacctmgr -n -P list account format=account)
# add_accounts PARENT NAME... : one sacctmgr call for every missing account under PARENT
add_accounts() {
  local parent=$1 a todo=(); shift
  for a in "$@"; do grep -qx "$a" <<<"$have_accounts" || todo+=("$a"); done
  ((${#todo[@]})) || return 0
  sacctmgr -i add account "$(IFS=,; echo "${todo[*]}")" parent="$parent" cluster="$RS_CLUSTER" \
    organization=reckon-sandbox description=reckon-sandbox >/dev/null
  log "added account(s) ${todo[*]} under $parent"
}
# root -> hpc_project -> hpc_alloc_a, hpc_alloc_b, hpc_alloc_c ; root -> physics
add_accounts root hpc_project physics
add_accounts hpc_project hpc_alloc_a hpc_alloc_b hpc_alloc_c
declare -A USER_ACCOUNTS=([alice]="hpc_alloc_a hpc_alloc_b" [bob]="hpc_alloc_b physics" [carol]="hpc_alloc_c physics")
have_assocs=$(sacctmgr -n -P list assoc cluster="$RS_CLUSTER" format=user,account)
for u in "${RS_USERS[@]}"; do
  todo=()
  for a in ${USER_ACCOUNTS[$u]}; do grep -qx "$u|$a" <<<"$have_assocs" || todo+=("$a"); done
  ((${#todo[@]})) || continue
  def=${USER_ACCOUNTS[$u]%% *}
  sacctmgr -i add user "$u" account="$(IFS=,; echo "${todo[*]}")" defaultaccount="$def" cluster="$RS_CLUSTER" >/dev/null
  log "added user $u to ${todo[*]}"
done

# ---------------------------------------------------------------- 8. slurmctld, slurmd
if ((ctl_changed)); then stop_pid slurmd slurmd; stop_pid slurmctld slurmctld; fi
start_daemon slurmctld slurmctld /usr/sbin/slurmctld -D -i
wait_until 60 "slurmctld" bash -c "scontrol ping | grep -q 'is UP'"
start_daemon slurmd slurmd /usr/sbin/slurmd -D -N "$HOST"
node_state() { sinfo -h -N -n "$HOST" -o '%T' 2>/dev/null | head -1; }
for _ in $(seq 1 300); do
  s=$(node_state)
  case "$s" in
    idle|mixed|allocated) break ;;
    down*|drain*) scontrol update nodename="$HOST" state=resume >/dev/null 2>&1 || true ;;
  esac
  sleep 0.2
done
s=$(node_state)
case "$s" in
  idle|mixed|allocated) ;;
  *) scontrol show node "$HOST" >&2; die "node $HOST is '$s' (see $RS_LOG/slurmd.log)" ;;
esac
log "cluster '$RS_CLUSTER' up: node $HOST $s, slurm $SLURM_VERSION, state in $RS_DIR"
sinfo -o '%P %a %D %T %c %m %G'
log "done in $(rs_elapsed) s"
