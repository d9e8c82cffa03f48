#!/usr/bin/env python3
"""expected.py DIR - independent reference usage from sacct's own --truncate output.

For every DIR/truncate-<label>.psv (sacct -X -D -T -P --noconvert, header line first) it sums,
per (Account, User, TRES name), over all rows:

    count(TRES in AllocTRES) x ElapsedRaw

ElapsedRaw in --truncate output is already clipped by slurmdbd to the window and has the
suspended time inside the window subtracted, so no time arithmetic happens here. TRES counts
are integers except memory, which --noconvert prints in MiB with an 'M' suffix; other
suffixes are converted as powers of 1024 (K = 1/1024 MiB, G = 1024 MiB, T = 1024^2 MiB, ...).
Units: cpu -> cpu-seconds, mem -> MiB-seconds, gres/gpu -> gpu-seconds, and so on.

Writes DIR/expected.tsv (machine-readable), DIR/expected-runs.tsv (one line per sacct row) and
DIR/expected.md; where windows [a,b), [b,c) and [a,c) all exist it checks that the sums add up. Uses only the standard library
and nothing from reckon. Window bounds are read from DIR/MANIFEST.txt.
"""
import csv
import glob
import os
import re
import sys
from collections import defaultdict
from fractions import Fraction

SUFFIX_POWER = {"K": -1, "M": 0, "G": 1, "T": 2, "P": 3, "E": 4}
UNITS = {"cpu": "cpu-seconds", "mem": "MiB-seconds", "node": "node-seconds",
         "billing": "billing-seconds", "energy": "joule-seconds"}


def tres_count(name, text):
    """Count of one TRES as printed by sacct --noconvert; memory-like values become MiB."""
    m = re.fullmatch(r"(\d+(?:\.\d+)?)([KMGTPE]?)", text)
    if not m:
        raise ValueError(f"unparsable TRES value {name}={text!r}")
    number, suffix = Fraction(m.group(1)), m.group(2)
    if suffix:
        return number * Fraction(1024) ** SUFFIX_POWER[suffix]
    return number


def parse_tres(text):
    out = {}
    if not text:
        return out
    for item in text.split(","):
        name, _, value = item.partition("=")
        out[name] = tres_count(name, value)
    return out


def unit(tres):
    if tres in UNITS:
        return UNITS[tres]
    if tres.startswith("gres/gpu"):
        return "gpu-seconds"
    return tres + "-seconds"


def fmt(x):
    return str(x.numerator) if x.denominator == 1 else f"{float(x):.6f}"


def seconds(text):
    """sacct time-from-seconds format: [D-]HH:MM:SS or MM:SS."""
    days = 0
    if "-" in text:
        d, text = text.split("-", 1)
        days = int(d)
    parts = [int(x) for x in text.split(":")]
    while len(parts) < 3:
        parts.insert(0, 0)
    h, m, sec = parts
    return ((days * 24 + h) * 60 + m) * 60 + sec


def read_windows(manifest):
    windows, current = {}, None
    with open(manifest) as f:
        for line in f:
            m = re.match(r"file: (\S+)", line)
            if m:
                current = m.group(1)
            m = re.match(r"\s+window: \[(\d+), (\d+)\)", line)
            if m and current:
                windows[current] = (int(m.group(1)), int(m.group(2)))
    return windows


def read_observed(manifest):
    obs, current = {}, None
    with open(manifest) as f:
        for line in f:
            m = re.match(r"file: (\S+)", line)
            if m:
                current = m.group(1)
            m = re.match(r"\s+observed: (\d+)\.\.(\d+)", line)
            if m and current:
                obs[current] = (int(m.group(1)), int(m.group(2)))
    return obs


def check_formula(directory, windows):
    """Cross-check (does not feed the sums): predict every truncated row from the untruncated
    dump (dump-extra.psv) and the stored suspend intervals, with the rule
      listed  iff  Eligible < w2  and  (End >= w1 or still running)
      ElapsedRaw = max(0, min(End or now, w2, now) - max(Start, w1) - suspended seconds inside)
    Returns (rows checked, list of mismatches)."""
    extra = os.path.join(directory, "dump-extra.psv")
    susp_file = os.path.join(directory, "db-suspend-intervals.tsv")
    if not (os.path.exists(extra) and os.path.exists(susp_file)):
        return None
    with open(extra, newline="") as f:
        jobs = list(csv.DictReader(f, delimiter="|", quoting=csv.QUOTE_NONE))
    intervals = defaultdict(list)
    with open(susp_file, newline="") as f:
        for r in csv.DictReader(f, delimiter="\t"):
            intervals[r["job_db_inx"]].append((int(r["time_start"]), int(r["time_end"])))
    observed = read_observed(os.path.join(directory, "MANIFEST.txt"))
    checked, problems = 0, []
    for name, (w1, w2) in sorted(windows.items()):
        if not name.startswith("truncate-"):
            continue
        with open(os.path.join(directory, name), newline="") as f:
            actual = {(r["JobIDRaw"], r["DBIndex"]): int(r["ElapsedRaw"])
                      for r in csv.DictReader(f, delimiter="|", quoting=csv.QUOTE_NONE)}
        lo, hi = observed[name]
        candidates = []
        for now in range(lo, hi + 1):
            predicted = {}
            cap = min(w2, now)
            for j in jobs:
                running = j["End"] == "Unknown"
                end = now if running else int(j["End"])
                if not int(j["Eligible"]) < w2 or not (running or end >= w1):
                    continue
                start = max(int(j["Start"]), w1)
                stop = min(end, cap)
                sus = sum(max(0, min(b if b else stop, stop) - max(a, start))
                          for a, b in intervals.get(j["DBIndex"], []) if b)
                predicted[(j["JobIDRaw"], j["DBIndex"])] = max(0, stop - start - sus)
            candidates.append(predicted)
        checked += len(actual)
        if actual not in candidates:
            problems.append(f"{name}: sacct {sorted(actual.items())} vs rule {sorted(candidates[0].items())}")
    return checked, problems


def main(directory):
    windows = read_windows(os.path.join(directory, "MANIFEST.txt"))
    files = sorted(glob.glob(os.path.join(directory, "truncate-*.psv")))
    if not files:
        sys.exit(f"no truncate-*.psv in {directory}")
    results = []  # (label, w1, w2, rows, sums)
    runs = []     # per row of every window
    for path in files:
        name = os.path.basename(path)
        label = name[len("truncate-"):-len(".psv")]
        w1, w2 = windows[name]
        sums = defaultdict(Fraction)   # (account, user, tres) -> value
        pairs = set()
        with open(path, newline="") as f:
            rows = list(csv.DictReader(f, delimiter="|", quoting=csv.QUOTE_NONE))
        for row in rows:
            elapsed = int(row["ElapsedRaw"])
            key = (row["Account"], row["User"])
            pairs.add(key)
            tres = parse_tres(row["AllocTRES"])
            for name, count in tres.items():
                sums[key + (name,)] += count * elapsed
            runs.append((label, w1, w2, row, elapsed, seconds(row["Suspended"]), tres))
        # pairs listed only with ElapsedRaw 0 still get their TRES with value 0
        results.append((label, w1, w2, len(rows), sums))

    with open(os.path.join(directory, "expected.tsv"), "w") as f:
        f.write("window\tw1\tw2\taccount\tuser\ttres\tunit\tvalue\n")
        for label, w1, w2, _, sums in results:
            for (account, user, tres) in sorted(sums):
                f.write(f"{label}\t{w1}\t{w2}\t{account}\t{user}\t{tres}\t{unit(tres)}\t"
                        f"{fmt(sums[(account, user, tres)])}\n")

    with open(os.path.join(directory, "expected-runs.tsv"), "w") as f:
        f.write("window\tw1\tw2\tjobidraw\tdbindex\taccount\tuser\tstate\tstart\tend\telapsed_raw"
                "\tsuspended_s\tcpu_s\tmem_mib_s\tgpu_s\n")
        for label, w1, w2, row, elapsed, susp, tres in runs:
            f.write("\t".join([label, str(w1), str(w2), row["JobIDRaw"], row["DBIndex"], row["Account"],
                               row["User"], row["State"], row["Start"], row["End"], str(elapsed), str(susp),
                               fmt(tres.get("cpu", Fraction(0)) * elapsed),
                               fmt(tres.get("mem", Fraction(0)) * elapsed),
                               fmt(tres.get("gres/gpu", Fraction(0)) * elapsed)]) + "\n")

    # half-open windows are additive: if [a,b), [b,c) and [a,c) are all here, check sums
    additivity = []
    by_bounds = {(w1, w2): (label, sums) for label, w1, w2, _, sums in results}
    for (a, c), (whole, wsums) in sorted(by_bounds.items()):
        for (a2, b), (left, lsums) in sorted(by_bounds.items()):
            if a2 != a or not a < b < c or (b, c) not in by_bounds:
                continue
            right, rsums = by_bounds[(b, c)]
            keys = set(wsums) | set(lsums) | set(rsums)
            bad = [k for k in keys if wsums.get(k, 0) != lsums.get(k, 0) + rsums.get(k, 0)]
            additivity.append((whole, left, right, len(keys), bad))

    formula = check_formula(directory, windows)

    main_tres = ["cpu", "mem", "gres/gpu", "gres/gpu:a100", "billing", "node"]
    with open(os.path.join(directory, "expected.md"), "w") as f:
        f.write("# Expected usage per window (independent reference)\n\n")
        f.write("Generated by `tools/slurm-sandbox/expected.py` from the `truncate-*.psv` files in this\n"
                "directory; machine-readable copy: `expected.tsv`.\n\n")
        f.write("## Method\n\n")
        f.write("For each window `[w1, w2)` sacct itself was asked for the clipped usage:\n"
                "`TZ=UTC SLURM_TIME_FORMAT=%s sacct --allusers --allocations --duplicates --truncate "
                "--parsable2 --noconvert -S w1 -E w2 --format=JobIDRaw,DBIndex,Account,User,State,Start,End,"
                "ElapsedRaw,Suspended,AllocTRES,ReqTRES` (exact commands in `MANIFEST.txt`).\n"
                "The reference value for (account, user, TRES) is the sum over every row of that output\n"
                "(every run, including both runs of a requeued job) of\n\n"
                "    count of the TRES in AllocTRES  x  ElapsedRaw\n\n"
                "- `ElapsedRaw` under `--truncate` is computed by slurmdbd: `min(End, w2, now) - max(Start, w1)`\n"
                "  minus the suspended seconds inside that span (from its suspend table), floored at 0.\n"
                "  No time arithmetic is done by the script.\n"
                "- Counts are integers, except memory: `--noconvert` prints MiB with an `M` suffix; any\n"
                "  other suffix would be converted with powers of 1024 (`G` = 1024 MiB, `T` = 1024^2 MiB, `K` = 1/1024 MiB).\n"
                "- Units: cpu-seconds, MiB-seconds (mem), gpu-seconds (`gres/gpu`, and separately the typed\n"
                "  `gres/gpu:a100`, which is a subset of `gres/gpu` - do not add the two), node-seconds, billing-seconds.\n"
                "- ReqTRES is not used.\n"
                "- A (account, user) pair whose rows all have ElapsedRaw 0 still appears, with value 0.\n\n")
        f.write("Files: `expected.tsv` (per window, account, user, TRES) and `expected-runs.tsv` (one line\n"
                "per sacct row: ElapsedRaw, in-window suspended seconds, cpu/mem/gpu products).\n\n")
        if formula:
            checked, problems = formula
            f.write("## Cross-check of sacct's rule (not used for the sums)\n\n")
            f.write("Predicting every truncated row from the untruncated rows (`dump-extra.psv`: Eligible, Start,\n"
                    "End) and the stored suspend intervals (`db-suspend-intervals.tsv`) with\n\n"
                    "    listed      iff  Eligible < w2  and  (End >= w1  or  still running)\n"
                    "    ElapsedRaw  =  max(0, min(End or now, w2, now) - max(Start, w1) - suspended seconds in that span)\n\n")
            if problems:
                f.write(f"**does not match** in {len(problems)} windows:\n\n" +
                        "".join(f"- {p}\n" for p in problems) + "\n")
            else:
                f.write(f"matches all {checked} rows of all truncate windows (row set and ElapsedRaw).\n\n")
        if additivity:
            f.write("## Additivity check (half-open windows)\n\n")
            for whole, left, right, nkeys, bad in additivity:
                verdict = "holds for all" if not bad else f"FAILS for {len(bad)} of"
                f.write(f"- `{whole}` = `{left}` + `{right}`: {verdict} {nkeys} (account, user, TRES) sums\n")
            f.write("\n")
        for label, w1, w2, nrows, sums in results:
            f.write(f"## {label}: [{w1}, {w2}) ({w2 - w1} s, {nrows} rows)\n\n")
            pairs = sorted({(a, u) for (a, u, _) in sums})
            present = [t for t in main_tres if any(k[2] == t for k in sums)]
            present += sorted({k[2] for k in sums} - set(present))
            f.write("| account | user | " + " | ".join(f"{t} ({unit(t)})" for t in present) + " |\n")
            f.write("|---|---|" + "---:|" * len(present) + "\n")
            for a, u in pairs:
                f.write(f"| {a} | {u} | " + " | ".join(fmt(sums.get((a, u, t), Fraction(0))) for t in present) + " |\n")
            cut = [(r, e, sp) for (lb, _, _, r, e, sp, _) in runs if lb == label and sp > 0]
            for r, e, sp in cut:
                f.write(f"\nRun {r['JobIDRaw']} (DBIndex {r['DBIndex']}, {r['Account']}/{r['User']}) has {sp} s "
                        f"of suspension inside this window, already subtracted from its ElapsedRaw {e}.\n")
            f.write("\n")
    if formula and formula[1]:
        print("expected.py: WARNING rule cross-check failed:\n  " + "\n  ".join(formula[1]), file=sys.stderr)
    for whole, left, right, nkeys, bad in additivity:
        if bad:
            print(f"expected.py: WARNING {whole} != {left} + {right} for {sorted(bad)}", file=sys.stderr)
    print(f"expected.py: {len(results)} windows -> expected.tsv, expected-runs.tsv, expected.md; "
          f"{len(additivity)} additivity checks")


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit("usage: expected.py FIXTURE_DIR")
    main(sys.argv[1])
