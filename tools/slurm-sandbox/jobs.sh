#!/usr/bin/env bash
# jobs.sh - submit reckon's job mix to the sandbox cluster (up.sh), drive the admin actions
# (requeue, suspend/resume, cancel) and wait until slurmdbd has every record.
# One job (still-running) is left RUNNING on purpose; down.sh cancels it.
#
# Writes $RECKON_SLURM_DIR/jobs/run-<UTC time>/ (linked as jobs/last):
#   window    "START END" in epoch seconds: START before the first submit, END after settling
#   jobs.tsv  label, JobID, user, account, sbatch arguments, what the job exercises
#   actions.tsv  epoch, action, JobID, label for every scontrol/scancel done here
#   *.out     the jobs' stdout/stderr
# Takes about a minute.
set -euo pipefail
RS_SCRIPT=jobs.sh
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=lib.sh
. "$HERE/lib.sh"
need_root
"$HERE/status.sh" >/dev/null || die "cluster not up (run up.sh first)"
mapfile -t leftover < <(squeue -h -o %A)
if ((${#leftover[@]})); then
  # e.g. the still-running job of an earlier jobs.sh run: this cluster's own jobs
  log "cancelling ${#leftover[@]} leftover job(s) first: ${leftover[*]}"
  scancel "${leftover[@]}"
  for _ in $(seq 1 150); do [ -z "$(squeue -h -o %A)" ] && break; sleep 0.2; done
  [ -z "$(squeue -h -o %A)" ] || die "leftover jobs did not go away"
  wait_dbd_settled 30
  sleep 1   # the window of this run must not start in the second the leftovers ended
fi

RUN=$RS_DIR/jobs/run-$(date -u +%Y%m%dT%H%M%SZ)
install -d -m 1777 "$RUN"
ln -sfn "$RUN" "$RS_DIR/jobs/last"
printf 'label\tjobid\tuser\taccount\tsbatch_args\texercises\n' >"$RUN/jobs.tsv"
printf 'epoch\taction\tjobid\tlabel\n' >"$RUN/actions.tsv"

START=$(date +%s)
log "window start $START ($(TZ=UTC date -d "@$START" +%FT%TZ)); run dir $RUN"

declare -A JOB
# sb LABEL USER ACCOUNT WHAT -- sbatch-args... : submit as USER, remember the JobID under LABEL
sb() {
  local label=$1 user=$2 account=$3 what=$4 id; shift 5
  id=$(cd "$RUN" && runuser -u "$user" -- sbatch --parsable -J "$label" -A "$account" \
        --chdir="$RUN" -o "$RUN/%x-%j.out" "$@") || die "sbatch failed for $label"
  id=${id%%;*}
  JOB[$label]=$id
  printf '%s\t%s\t%s\t%s\t%s\t%s\n' "$label" "$id" "$user" "$account" "$*" "$what" >>"$RUN/jobs.tsv"
  log "submitted $label = $id ($user, $account): $*"
}
act() {  # act ACTION LABEL cmd... : run an admin action and record its epoch
  local action=$1 label=$2; shift 2
  "$@" || die "$action of $label failed"
  printf '%s\t%s\t%s\t%s\n' "$(date +%s)" "$action" "${JOB[$label]}" "$label" >>"$RUN/actions.tsv"
  log "$action $label (${JOB[$label]})"
}
job_state() { squeue -h -j "$1" -o %T 2>/dev/null | head -1; }
wait_running() {  # wait_running LABEL...
  local l
  for l in "$@"; do
    for _ in $(seq 1 150); do [ "$(job_state "${JOB[$l]}")" = RUNNING ] && break; sleep 0.2; done
    [ "$(job_state "${JOB[$l]}")" = RUNNING ] || die "$l (${JOB[$l]}) did not start: $(job_state "${JOB[$l]}")"
  done
}

# ---- the mix (submitted in this order; priority/basic schedules FIFO) -------------------
sb still-running alice hpc_alloc_b "RUNNING at dump time: End=Unknown, ElapsedRaw grows; cancelled by down.sh" \
   -- -c2 --mem=512M --gres=gpu:a100:1 --wrap 'sleep 3600'
sb requeued      bob   hpc_alloc_b "scontrol requeue while running: two runs, same JobIDRaw, different DBIndex" \
   -- -c2 --mem=256M --wrap 'sleep 15'
sb suspended     carol physics     "scontrol suspend, resume 9 s later: Suspended > 0, ElapsedRaw excludes it" \
   -- -c1 --mem=128M --wrap 'sleep 25'
sb cancelled-running alice hpc_alloc_a "scancel by its owner while running: CANCELLED by <uid>" \
   -- -c1 --mem=64M --wrap 'sleep 300'
sb small         alice hpc_alloc_a "plain job" \
   -- -c1 --mem=100M --wrap 'sleep 5'
sb cpu4-mem1g    alice hpc_alloc_b "4 CPUs, --mem=1G (AllocTRES mem=1024M under --noconvert)" \
   -- -c4 --mem=1G --wrap 'sleep 8'
sb fails         bob   physics     "exit 3: FAILED" \
   -- -c1 --mem=50M --wrap 'sleep 2; exit 3'
sb array         carol physics     "job array 1-3: one row per task, JobIDRaw of a task differs from its JobID" \
   -- -c1 --mem=64M --array=1-3 --wrap 'sleep 4'
sb gpu-untyped   bob   hpc_alloc_b "--gres=gpu:1: ReqTRES gres/gpu=1, AllocTRES gres/gpu:a100=1,gres/gpu=1" \
   -- -c1 --mem=200M --gres=gpu:1 --wrap 'sleep 6'
sb gpu-typed     carol hpc_alloc_c "-n2 --mem-per-cpu, --gres=gpu:a100:2 (typed in ReqTRES too)" \
   -- -n2 --mem-per-cpu=256M --gres=gpu:a100:2 --wrap 'sleep 10'
sb gpu-waits     carol hpc_alloc_c "--gpus=2 while all 4 GPUs are busy: PENDING for a while, Start > Eligible" \
   -- -c1 --mem=2G --gpus=2 --wrap 'sleep 4'
sb never-started bob   physics     "--begin=now+1h, cancelled while pending: NOT listed by a -S/-E query" \
   -- -c1 --mem=50M --begin=now+3600 --wrap 'true'
act cancel-pending never-started runuser -u bob -- scancel "${JOB[never-started]}"

# ---- admin actions on running jobs -------------------------------------------------------
wait_running still-running requeued suspended cancelled-running
log "still-running, requeued, suspended and cancelled-running are RUNNING"
sleep 4
act suspend suspended scontrol suspend "${JOB[suspended]}"
sleep 3
act requeue requeued scontrol requeue "${JOB[requeued]}"
act cancel-running cancelled-running runuser -u alice -- scancel "${JOB[cancelled-running]}"
sleep 6
act resume suspended scontrol resume "${JOB[suspended]}"

# ---- wait: every job but still-running done, both runs of 'requeued' recorded ---------------
log "waiting for the other jobs to finish (the requeued job restarts after cred_expire+1 s)"
for i in $(seq 1 600); do
  left=$(squeue -h -o %A | grep -vx "${JOB[still-running]}" || true)
  [ -z "$left" ] && break
  ((i % 50 == 0)) && log "still queued: $(squeue -h -o '%A:%j:%T' | tr '\n' ' ')"
  sleep 0.2
done
[ -z "$left" ] || die "jobs did not finish in 120 s: $left"
[ "$(job_state "${JOB[still-running]}")" = RUNNING ] || die "still-running is not running"
wait_dbd_settled 60
# sacct may briefly show half-written records; also wait until it lists two runs of 'requeued'
for _ in $(seq 1 50); do
  runs=$(sacct -n -X -D -P -j "${JOB[requeued]}" --format=DBIndex | wc -l)
  bad=$(TZ=UTC sacct -a -n -X -D -P -S "$(iso_utc "$START")" --format=State,ReqTRES 2>/dev/null | awk -F'|' '$2==""' | wc -l || true)
  [ "$runs" -ge 2 ] && [ "$bad" = 0 ] && break
  sleep 0.2
done
sleep 1
END=$(date +%s)
echo "$START $END" >"$RUN/window"
log "done: window [$START, $END) = $((END - START)) s, still-running = ${JOB[still-running]}; window in $RUN/window"
