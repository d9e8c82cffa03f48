#!/usr/bin/env bash
# dump.sh [OUTDIR] - write real sacct fixtures for the last jobs.sh run into OUTDIR
# (default: fixtures/slurm of this repository):
#   dump-epoch.psv     reckon's runner command, SLURM_TIME_FORMAT=%s, window [START, END) of jobs.sh
#   dump-iso.psv       the same with SLURM_TIME_FORMAT=standard
#   dump-extra.psv     the same rows with JobName and Eligible (used here to place the windows)
#   truncate-<label>.psv  sacct --truncate for several half-open windows [W1, W2)
#   db-suspend-intervals.tsv  the suspend intervals slurmdbd stored (sacct cannot print them)
#   jobs.tsv, actions.tsv     what jobs.sh submitted and did, with epochs
#   slurm.conf.used, gres.conf.used
#   MANIFEST.txt       exact command, env, window and observation time of every file
# then runs expected.py to write expected.tsv and expected.md.
# The windows are placed relative to the jobs' real times so that their edges cut through
# running jobs at odd seconds; each window's purpose is written to MANIFEST.txt.
set -euo pipefail
RS_SCRIPT=dump.sh
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=lib.sh
. "$HERE/lib.sh"
OUT=${1:-$(cd "$HERE/../.." && pwd)/fixtures/slurm}
RUN=$RS_DIR/jobs/last
[ -s "$RUN/window" ] || die "no $RUN/window: run jobs.sh first"
read -r START END <"$RUN/window"
mkdir -p "$OUT"
rm -f "$OUT"/truncate-*.psv
MAN=$OUT/MANIFEST.txt.tmp
: >"$MAN"

export TZ=UTC   # every command below runs with TZ=UTC, as reckon's runner does
DUMP_FORMAT=JobIDRaw,JobID,DBIndex,Cluster,Account,User,State,Submit,Start,End,ElapsedRaw,Suspended,AllocTRES,ReqTRES
TRUNC_FORMAT=JobIDRaw,DBIndex,Account,User,State,Start,End,ElapsedRaw,Suspended,AllocTRES,ReqTRES

# run_sacct FILE TIMEFMT S E [extra sacct args...] : run sacct with TZ=UTC SLURM_TIME_FORMAT=TIMEFMT
# for [S, E) (epochs), write FILE, and record command, window and observation time in MANIFEST
run_sacct() {
  local file=$1 tf=$2 s=$3 e=$4 before after; shift 4
  local cmd=(sacct --allusers --allocations --duplicates "$@" -S "$(iso_utc "$s")" -E "$(iso_utc "$e")")
  # reorder so --format=... is last, as in reckon's runner (purely cosmetic)
  local args=() fmt=""
  for a in "${cmd[@]}"; do case "$a" in --format=*) fmt=$a ;; *) args+=("$a") ;; esac; done
  [ -n "$fmt" ] && args+=("$fmt")
  before=$(date +%s)
  SLURM_TIME_FORMAT=$tf "${args[@]}" >"$OUT/$file"
  after=$(date +%s)
  {
    printf 'file: %s\n' "$file"
    printf '  command: TZ=UTC SLURM_TIME_FORMAT=%s %s\n' "$tf" "${args[*]}"
    printf '  window: [%s, %s) epoch = [%s, %s) UTC, %s s\n' "$s" "$e" "$(iso_utc "$s")" "$(iso_utc "$e")" $((e - s))
    printf '  observed: %s..%s (date +%%s just before and after the call)\n' "$before" "$after"
    printf '  rows: %s\n' "$(($(wc -l <"$OUT/$file") - 1))"
  } >>"$MAN"
}

# ---- 1. the dumps ----------------------------------------------------------------------------
log "window [$START, $END) = [$(iso_utc "$START"), $(iso_utc "$END")) UTC"
wait_dbd_settled 30
run_sacct dump-epoch.psv '%s' "$START" "$END" --parsable2 --noconvert --format=$DUMP_FORMAT
run_sacct dump-iso.psv standard "$START" "$END" --parsable2 --noconvert --format=$DUMP_FORMAT
run_sacct dump-extra.psv '%s' "$START" "$END" --parsable2 --noconvert \
  --format=JobIDRaw,JobID,DBIndex,JobName,State,Submit,Eligible,Start,End,ElapsedRaw,Suspended
echo "  purpose: not reckon's format; JobName and Eligible for the same rows, to tie rows to jobs.tsv labels" >>"$MAN"
grep -q '|RUNNING|' "$OUT/dump-epoch.psv" || warn "no RUNNING job in the dump (is still-running alive?)"

# ---- 2. times of the labelled jobs (from dump-extra.psv) --------------------------------------
# field LABEL NAME [N] : NAME (Eligible/Start/End/...) of the N-th run (by DBIndex) of job LABEL
field() {
  awk -F'|' -v name="$1" -v col="$2" '
    NR == 1 { for (i = 1; i <= NF; i++) h[$i] = i; next }
    $h["JobName"] == name { print $h["DBIndex"] "\t" $h[col] }' "$OUT/dump-extra.psv" \
    | sort -n | sed -n "${3:-1}p" | cut -f2
}
# actions.tsv epoch of ACTION
action_at() { awk -F'\t' -v a="$1" '$2 == a { print $1; exit }' "$RUN/actions.tsv"; }
need() { [[ $2 =~ ^[0-9]+$ ]] || die "cannot place windows: $1 is '$2'"; }

rq1_end=$(field requeued End 1);      need "requeued run 1 End" "$rq1_end"
rq2_start=$(field requeued Start 2);  need "requeued run 2 Start" "$rq2_start"
fails_end=$(field fails End);         need "fails End" "$fails_end"
# runs that waited after becoming eligible (Eligible < Start), as "start eligible name", by start
waited=$(awk -F'|' 'NR == 1 { for (i = 1; i <= NF; i++) h[$i] = i; next }
  $h["Start"] ~ /^[0-9]+$/ && $h["Eligible"] + 0 < $h["Start"] + 0 { print $h["Start"], $h["Eligible"], $h["JobName"] }' \
  "$OUT/dump-extra.psv" | sort -n)
# edges: the first run to start after 'fails' ended, among those that had been eligible before
read -r edge_start _ edge_name < <(awk -v t="$fails_end" '$1 > t' <<<"$waited" | head -1) || true
# pending-cut: the run that waited longest
read -r pend_start pend_elig pend_name < <(awk '{ print $1 - $2, $0 }' <<<"$waited" | sort -n | tail -1 | cut -d' ' -f2-) || true
susp_at=$(action_at suspend);         need "suspend time" "$susp_at"
resume_at=$(action_at resume);        need "resume time" "$resume_at"

# ---- 3. truncate windows ----------------------------------------------------------------------
# window LABEL W1 W2 PURPOSE
window() {
  local label=$1 w1=$2 w2=$3 why=$4
  ((w1 < w2)) || { warn "window $label [$w1, $w2) is empty, skipped"; return 0; }
  run_sacct "truncate-$label.psv" '%s' "$w1" "$w2" --truncate --parsable2 --noconvert --format=$TRUNC_FORMAT
  echo "  purpose: $why" >>"$MAN"
  log "truncate-$label.psv [$w1, $w2): $(($(wc -l <"$OUT/truncate-$label.psv") - 1)) rows"
}
window whole "$START" "$END" \
  "the whole job mix; still-running is clipped at END"
window odd-cut $((START + 7)) $((START + 29)) \
  "START+7 .. START+29: both edges cut through running jobs (still-running, requeued, suspended, gpu-typed, ...)"
window suspend-part $((susp_at - 3)) $((resume_at - 4)) \
  "from 3 s before 'scontrol suspend' to 4 s before 'resume': only part of the suspension is inside"
window requeue-gap $((rq1_end - 3)) $((rq2_start + 5)) \
  "last 3 s of the requeued job's first run, the gap, and the first 5 s of its second run"
if [[ ${edge_start:-} =~ ^[0-9]+$ ]]; then
  window edges "$fails_end" "$edge_start" \
    "W1 = End of 'fails' and W2 = Start of '$edge_name' (eligible earlier), exactly: both listed with ElapsedRaw 0"
else
  warn "no run started after 'fails' ended; window 'edges' skipped"
fi
window split-1 "$START" $((START + 13)) \
  "first part of 'whole', split at START+13 (inside many running jobs and the suspension)"
window split-2 $((START + 13)) "$END" \
  "second part of 'whole': split-1 + split-2 must add up to whole exactly"
window one-second $((START + 13)) $((START + 14)) \
  "a single second [W1, W1+1) inside the mix: each job running through it gets ElapsedRaw 1"
if [[ ${pend_start:-} =~ ^[0-9]+$ ]] && ((pend_start - pend_elig >= 2)); then
  window pending-cut "$START" $((pend_start - 1)) \
    "W2 falls after '$pend_name' became eligible ($pend_elig) but before it started ($pend_start): listed with Start > End and ElapsedRaw 0"
else
  warn "no run waited 2 s or more after becoming eligible; window 'pending-cut' skipped"
fi
window open $((START + 11)) $((END + 3600)) \
  "W2 is an hour in the future: --truncate caps the end at the moment slurmdbd answers (see 'observed'); still-running's End shows that moment"

# ---- 4. context files ---------------------------------------------------------------------------
cp "$RUN/jobs.tsv" "$RUN/actions.tsv" "$OUT/"
cp "$RS_ETC/slurm.conf" "$OUT/slurm.conf.used"
cp "$RS_ETC/gres.conf" "$OUT/gres.conf.used"
{
  printf 'job_db_inx\tid_job\ttime_start\ttime_end\n'
  mariadb --socket="$RS_MYSQL_SOCK" -uroot -N -B slurm_acct_db -e \
    "select s.job_db_inx, j.id_job, s.time_start, s.time_end from ${RS_CLUSTER}_suspend_table s
     join ${RS_CLUSTER}_job_table j on j.job_db_inx = s.job_db_inx
     where s.time_start >= $START order by s.job_db_inx, s.time_start"
} >"$OUT/db-suspend-intervals.tsv"
{
  echo "file: db-suspend-intervals.tsv"
  echo "  command: mariadb ... slurm_acct_db -e 'select s.job_db_inx, j.id_job, s.time_start, s.time_end from ${RS_CLUSTER}_suspend_table s join ${RS_CLUSTER}_job_table j ... where s.time_start >= $START'"
  echo "  purpose: not sacct output; the suspend intervals --truncate subtracts (sacct prints only their total)"
} >>"$MAN"

# ---- 5. MANIFEST ----------------------------------------------------------------------------------
{
  echo "# reckon Slurm fixtures: real output of a single-node Slurm cluster (tools/slurm-sandbox)."
  echo "# generated $(date -u +%FT%TZ) by tools/slurm-sandbox/dump.sh; files are unedited command output."
  echo "slurm: $(sacct --version) (Debian slurmctld $(dpkg-query -W -f='${Version}' slurmctld), slurmdbd $(dpkg-query -W -f='${Version}' slurmdbd))"
  echo "mariadb: $(dpkg-query -W -f='${Version}' mariadb-server), munge: $(dpkg-query -W -f='${Version}' munge)"
  echo "cluster: $RS_CLUSTER, node $(hostname -s): $RS_CPUS CPUs, $RS_MEM_MB MB, $RS_GPUS fake gres/gpu:$RS_GPU_TYPE (config_overrides)"
  echo "env for every sacct call: TZ=UTC (plus SLURM_TIME_FORMAT as shown); run as root (sees all users)"
  echo "job mix window (jobs.sh): [$START, $END) = [$(iso_utc "$START"), $(iso_utc "$END")) UTC"
  echo "still-running job: $(awk -F'\t' '$1 == "still-running" { print $2 }' "$RUN/jobs.tsv") (RUNNING while every file here was written)"
  echo "actions (epoch action jobid label):"
  tail -n +2 "$RUN/actions.tsv" | sed 's/^/  /'
  echo
  cat "$MAN"
} >"$OUT/MANIFEST.txt"
rm -f "$MAN"

# ---- 6. the independent reference sums --------------------------------------------------------------
python3 "$HERE/expected.py" "$OUT"
log "wrote $(find "$OUT" -maxdepth 1 -type f | wc -l) files to $OUT in $(rs_elapsed) s"
