#!/usr/bin/env python3
"""reckon crash harness: SIGKILL reckon at random moments and at named fault points, restart,
and check the invariants of the event log (ARCHITECTURE / anchors §5.1).

Real processes, real LMDB, real loopback HTTP to `reckon waldur-sim`; nothing of reckon is mocked.
Only the sacct command is a stand-in (fixtures/demo/bin/sacct prints a dump this script writes).

Work is split into *epochs* of --epoch-cycles cycles. Epoch i runs with seed (--seed + i) in a
fresh state directory against a fresh simulator, so any failure is re-run alone with
    tools/crash-test/run --seed <epoch seed> --cycles <epoch cycles>
A cycle: mutate the job universe (new jobs, changed end times, a running job that ends), write
the dump, pick an operation (ingest of the dump, sync, or both at once) and a kill method (a
random-delay SIGKILL, or a named fault point with a skip count, via RECKON_FAULT_POINT and
RECKON_FAULT_SKIP), run it, then restart-check:
  - the log opens (`reckon events --json` exits 0),
  - sequence numbers are dense (0, 1, 2, ... with no gap or repeat),
  - no job-run version is recorded twice (a job_run_observed whose payload equals the identity's
    previous version; each version supersedes exactly the previous one),
  - outcomes and confirmations name an earlier intent; at most one unsettled intent per key,
  - a replay equals the live projection (`reckon replay` exits 0).
At the end of an epoch, with Waldur faults off, a clean `reckon ingest` of the final dump and a
clean `reckon sync` must succeed, and then:
  - `reckon plan --json` plans no write,
  - every intent is settled (a confirmation, or a rejected/needs-staff outcome),
  - every value the simulator stores for the month equals the desired value
    (`reckon usage --json`, per resource and per user), and nothing else is stored,
  - the crashed ledger's usage equals that of a clean ledger that ingested only the final dump.
"""
import argparse
import concurrent.futures
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
NOW = "2026-11-27T12:00:00Z"
NOW_EPOCH = 1795780800
MONTH = "2026-11"
MONTH_START = 1793491200          # 2026-11-01T00:00:00Z
ACCOUNTS = {"hpc_alloc_a": "10a0f810be1c43bbb651e8cbdbb90198", "hpc_alloc_b": "20a0f810be1c43bbb651e8cbdbb90198",
            "hpc_alloc_c": "30a0f810be1c43bbb651e8cbdbb90198", "physics": "40a0f810be1c43bbb651e8cbdbb90198"}
USERS = ["alice", "bob", "carol"]
HEADER = "JobIDRaw|JobID|DBIndex|Cluster|Account|User|State|Submit|Start|End|ElapsedRaw|Suspended|AllocTRES|ReqTRES"
SYNC_POINTS = ["after-intent-commit", "after-request-sent", "before-confirmation", "mid-ingest-batch", "before-usage-completion"]
INGEST_POINTS = ["mid-ingest-batch", "before-usage-completion"]


class Failure(Exception):
    pass


def http(url, body=None):
    data = None if body is None else json.dumps(body).encode()
    req = urllib.request.Request(url, data=data, headers={"Content-Type": "application/json"} if data else {},
                                 method="POST" if data else "GET")
    with urllib.request.urlopen(req, timeout=30) as r:
        return json.loads(r.read() or b"null")


class Universe:
    """The jobs the stand-in sacct reports, mutated a little every cycle."""

    def __init__(self, rng):
        self.rng = rng
        self.jobs = []   # dicts with the dump's fields
        with open(os.path.join(REPO, "fixtures/slurm/dump-epoch.psv")) as f:
            lines = f.read().splitlines()
        head = lines[0].split("|")
        for line in lines[1:]:
            self.jobs.append(dict(zip(head, line.split("|"))))
        self.next_raw = 1000
        self.next_db = 5000

    def mutate(self):
        rng = self.rng
        for _ in range(rng.randint(1, 3)):
            kind = rng.random()
            if kind < 0.45:
                self.add()
            else:
                j = rng.choice(self.jobs)
                if j["End"] == "Unknown":
                    if rng.random() < 0.5:      # the running job ends
                        end = int(j["Start"]) + rng.randint(60, 7200)
                        j["End"], j["State"], j["ElapsedRaw"] = str(end), "COMPLETED", str(end - int(j["Start"]))
                    continue
                start = int(j["Start"])
                end = max(start + 1, min(NOW_EPOCH - 1, int(j["End"]) + rng.randint(-600, 3600)))
                j["End"], j["ElapsedRaw"] = str(end), str(end - start)

    def add(self):
        rng = self.rng
        raw, db = self.next_raw, self.next_db
        self.next_raw += 1
        self.next_db += 1
        submit = rng.randint(MONTH_START, NOW_EPOCH - 7200)
        start = submit + rng.randint(0, 600)
        running = rng.random() < 0.1
        end = start + rng.randint(1, 5400)
        cpu = rng.choice([1, 2, 4, 8])
        mem = rng.choice([64, 256, 1000, 4096])
        gpu = rng.choice([0, 0, 1, 2])
        tres = f"billing={cpu},cpu={cpu}" + (f",gres/gpu={gpu}" if gpu else "") + f",mem={mem}M,node=1"
        self.jobs.append({"JobIDRaw": str(raw), "JobID": str(raw), "DBIndex": str(db), "Cluster": "reckon",
                          "Account": rng.choice(list(ACCOUNTS)), "User": rng.choice(USERS),
                          "State": "RUNNING" if running else "COMPLETED", "Submit": str(submit), "Start": str(start),
                          "End": "Unknown" if running else str(end), "ElapsedRaw": str((NOW_EPOCH if running else end) - start),
                          "Suspended": "00:00:00", "AllocTRES": tres, "ReqTRES": tres})

    def write(self, path):
        cols = HEADER.split("|")
        tmp = path + ".tmp"
        with open(tmp, "w") as f:
            f.write(HEADER + "\n")
            for j in self.jobs:
                f.write("|".join(j[c] for c in cols) + "\n")
        os.replace(tmp, path)


class LogChecker:
    """Incremental invariant checks over `reckon events --json`."""

    def __init__(self):
        self.next_seq = 0
        self.versions = {}      # identity -> (seq, payload without supersedes)
        self.intents = {}       # seq -> list of target keys
        self.open = {}          # seq -> list of target keys (unsettled)
        self.events = 0

    @staticmethod
    def target_key(t):
        return (t["resource"], t["month"], t["component"], t.get("user"))

    def feed(self, lines):
        for line in lines:
            if not line.strip():
                continue
            try:
                e = json.loads(line)
            except json.JSONDecodeError as err:
                raise Failure(f"events --json printed a line that is not JSON ({err}): {line[:200]}")
            seq, kind, p = e["seq"], e["kind"], e["payload"]
            if seq != self.next_seq:
                raise Failure(f"sequence numbers are not dense: expected {self.next_seq}, got {seq}")
            self.next_seq += 1
            self.events += 1
            if kind == "job_run_observed":
                ident = p["identity"]
                body = {k: v for k, v in p.items() if k != "supersedes"}
                prev = self.versions.get(ident)
                if prev is None:
                    if p["supersedes"] is not None:
                        raise Failure(f"#{seq}: first version of {ident} supersedes #{p['supersedes']}")
                else:
                    if body == prev[1]:
                        raise Failure(f"#{seq}: job-run version of {ident} recorded twice (same as #{prev[0]})")
                    if p["supersedes"] != prev[0]:
                        raise Failure(f"#{seq}: version of {ident} supersedes #{p['supersedes']}, expected #{prev[0]}")
                self.versions[ident] = (seq, body)
            elif kind == "submission_intended":
                keys = [self.target_key(i["target"]) for i in p["items"]]
                for s, ks in self.open.items():
                    both = set(ks) & set(keys)
                    if both:
                        raise Failure(f"#{seq}: a new intent for {sorted(both)[0]} while intent #{s} is unsettled")
                self.intents[seq] = keys
                self.open[seq] = keys
            elif kind == "submission_outcome":
                i = p["intent"]
                if i not in self.intents or i >= seq:
                    raise Failure(f"#{seq}: outcome for #{i}, which is not an earlier intent")
                if p["result"] in ("rejected", "needs_staff"):
                    self.open.pop(i, None)
            elif kind == "submission_confirmed":
                i = p["intent"]
                if i not in self.intents or i >= seq:
                    raise Failure(f"#{seq}: confirmation of #{i}, which is not an earlier intent")
                self.open.pop(i, None)


class Harness:
    def __init__(self, args):
        self.args = args
        self.reckon = args.reckon
        self.work = args.work
        self.kills = 0
        self.kills_by = {}
        self.cycles = 0
        self.est = {"ingest": 0.3, "sync": 0.6, "both": 0.6}
        self.sim = None
        self.sim_url = None
        self.timings = {}

    # -- processes --------------------------------------------------------------------------
    def env(self, extra=None):
        e = dict(os.environ)
        for k in ("RECKON_FAULT_POINT", "RECKON_FAULT_SKIP", "RECKON_INGEST_BATCH_RUNS"):
            e.pop(k, None)
        e["RECKON_FAKE_SACCT_FILE"] = self.dump
        if extra:
            e.update(extra)
        return e

    def cmd(self, *a):
        return [self.reckon, *a[:1], "-c", self.config, "--now", NOW, "--log-level", "warning", *a[1:]]

    def run(self, *a, check=True, timeout=120, env=None):
        t0 = time.monotonic()
        p = subprocess.run(self.cmd(*a), capture_output=True, text=True, timeout=timeout, env=env or self.env())
        self.timings.setdefault(a[0], []).append(time.monotonic() - t0)
        if check and p.returncode != 0:
            raise Failure(f"`reckon {' '.join(a)}` exited {p.returncode}\nstdout: {p.stdout[-2000:]}\nstderr: {p.stderr[-2000:]}")
        return p

    def start_sim(self):
        out = open(os.path.join(self.epoch_dir, "sim.out"), "w+")
        err = open(os.path.join(self.epoch_dir, "sim.log"), "w")
        self.sim = subprocess.Popen([self.reckon, "waldur-sim", "--seed", os.path.join(REPO, "fixtures/demo/waldur-seed.yaml")],
                                    stdout=out, stderr=err)
        for _ in range(600):
            out.seek(0)
            line = out.readline()
            if line.startswith("listening on "):
                self.sim_url = line.split()[2].strip()
                break
            if self.sim.poll() is not None:
                raise Failure(f"the simulator exited {self.sim.returncode}")
            time.sleep(0.05)
        else:
            raise Failure("the simulator did not announce its port")
        http(self.sim_url + "/_sim/clock", {"now": NOW})

    def stop_sim(self):
        if self.sim and self.sim.poll() is None:
            self.sim.terminate()
            try:
                self.sim.wait(10)
            except subprocess.TimeoutExpired:
                self.sim.kill()
                self.sim.wait()
        self.sim = None

    def set_faults(self, faults):
        http(self.sim_url + "/_sim/faults", faults)

    # -- one epoch --------------------------------------------------------------------------
    def epoch(self, seed, cycles):
        rng = random.Random(seed)
        self.epoch_dir = os.path.join(self.work, f"epoch-{seed}")
        shutil.rmtree(self.epoch_dir, ignore_errors=True)
        os.makedirs(self.epoch_dir, mode=0o700)
        self.state = os.path.join(self.epoch_dir, "state")
        self.dump = os.path.join(self.epoch_dir, "sacct.psv")
        self.start_sim()
        try:
            with open(os.path.join(REPO, "fixtures/demo/config.yaml.in")) as f:
                cfg = f.read()
            cfg = (cfg.replace("@API_URL@", self.sim_url + "/api/").replace("@STATE_DIR@", self.state)
                   .replace("@SACCT_BIN@", os.path.join(REPO, "fixtures/demo/bin")))
            cfg += "  sacct_timeout_seconds: 30\n"
            self.config = os.path.join(self.epoch_dir, "config.yaml")
            fd = os.open(self.config, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            with os.fdopen(fd, "w") as f:
                f.write(cfg)
            universe = Universe(rng)
            checker = LogChecker()
            for c in range(cycles):
                self.cycle(rng, universe, checker, c)
            self.final(universe, checker)
        finally:
            self.stop_sim()
        if not self.args.keep:
            shutil.rmtree(self.epoch_dir, ignore_errors=True)

    def cycle(self, rng, universe, checker, c):
        self.cycles += 1
        universe.mutate()
        universe.write(self.dump)
        faulty = rng.random() < 0.15
        self.set_faults({"drop_after_write_rate": 0.3, "latency_ms": rng.choice([0, 5, 20]), "seed": rng.randint(0, 1 << 30),
                         "paths": ["/api/marketplace-component-usages/set_usage/",
                                   "/api/marketplace-component-usages/{uuid}/set_user_usages/"]}
                        if faulty else {})
        r = rng.random()
        op = "ingest" if r < 0.35 else ("sync" if r < 0.9 else "both")
        if op == "ingest":
            procs = {"ingest": self.cmd("ingest", "--from", self.dump, "--observed-at", NOW)}
        elif op == "sync":
            procs = {"sync": self.cmd("sync")}
        else:
            procs = {"ingest": self.cmd("ingest", "--from", self.dump, "--observed-at", NOW), "sync": self.cmd("sync")}
        method = "fault" if rng.random() < 0.5 else "delay"
        envs = {k: self.env() for k in procs}
        for k in envs:   # a small sync's runs committed before its completion now and then
            runs = rng.choice([None, None, 2, 5])
            if runs:
                envs[k]["RECKON_INGEST_BATCH_RUNS"] = str(runs)
        victim = rng.choice(sorted(procs))
        point, skip = None, 0
        if method == "fault":
            point = rng.choice(INGEST_POINTS) if victim == "ingest" else rng.choice(SYNC_POINTS)
            skip = 0 if point in ("mid-ingest-batch", "before-usage-completion", "before-confirmation") else rng.choice([0, 0, 1, 2, 3])
            envs[victim]["RECKON_FAULT_POINT"] = point
            envs[victim]["RECKON_FAULT_SKIP"] = str(skip)
        delay = rng.uniform(0, 0.9 * self.est[op])
        t0 = time.monotonic()
        running = {k: subprocess.Popen(v, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=envs[k], text=True)
                   for k, v in procs.items()}
        if method == "delay":
            deadline = t0 + delay
            while time.monotonic() < deadline and running[victim].poll() is None:
                time.sleep(0.002)
            if running[victim].poll() is None:
                running[victim].send_signal(signal.SIGKILL)
        outs = {}
        for k, p in running.items():
            try:
                out, err = p.communicate(timeout=300)
            except subprocess.TimeoutExpired:
                p.kill()
                out, err = p.communicate()
                raise Failure(f"cycle {c}: `{' '.join(procs[k])}` hung for 300 s\n{err[-2000:]}")
            outs[k] = (p.returncode, out, err)
        elapsed = time.monotonic() - t0
        killed = [k for k, (rc, _, _) in outs.items() if rc == -signal.SIGKILL]
        for k in killed:
            self.kills += 1
            label = point if (k == victim and method == "fault") else "random-delay"
            self.kills_by[label] = self.kills_by.get(label, 0) + 1
        for k, (rc, out, err) in outs.items():
            if k in killed:
                continue
            if rc != 0 and not (faulty and k == "sync" and rc == 1):
                raise Failure(f"cycle {c}: `{' '.join(procs[k])}` exited {rc} without being killed\nstdout: {out[-2000:]}\nstderr: {err[-2000:]}")
        if not killed and method == "delay":
            self.est[op] = 0.8 * self.est[op] + 0.2 * elapsed * 1.2
        if self.args.verbose:
            print(f"  cycle {c}: {op} {method} {point or ''} skip={skip} delay={delay:.3f} faults={faulty} "
                  f"killed={killed} rc={ {k: v[0] for k, v in outs.items()} } {elapsed:.2f}s", flush=True)
        self.restart_check(checker, f"cycle {c} ({op}, {method}{' ' + point if point else ''})")

    def restart_check(self, checker, where):
        try:
            p = self.run("events", "--json", "--since", str(checker.next_seq), "--limit", "100000000")
            checker.feed(p.stdout.splitlines())
            self.run("replay")
        except Failure as e:
            raise Failure(f"after {where}: {e}") from None

    def final(self, universe, checker):
        self.set_faults({})
        universe.write(self.dump)
        self.run("ingest", "--from", self.dump, "--observed-at", NOW)
        self.run("sync")
        self.restart_check(checker, "the final clean run")
        if checker.open:
            raise Failure(f"unsettled intents after the final clean run: {sorted(checker.open)}")
        plan = self.run("plan", "--json").stdout.strip()
        if plan:
            raise Failure(f"plan after the final clean run still plans writes:\n{plan[:2000]}")
        want_totals, want_users = self.desired()
        stored = http(self.sim_url + "/_sim/usages")
        got_totals, got_users = {}, {}
        for u in stored["component_usages"]:
            if u["billing_period"].startswith(MONTH):
                got_totals[(u["resource_uuid"].replace("-", ""), u["type"])] = u["usage"]
        for u in stored["user_usages"]:
            if u["billing_period"].startswith(MONTH):
                got_users[(u["resource_uuid"].replace("-", ""), u["type"], u["username"])] = u["usage"]
        self.compare("total", want_totals, got_totals)
        self.compare("user", want_users, got_users)
        # A clean ledger that saw only the final dump must project the same usage.
        ref_cfg = self.config + ".ref"
        ref_state = self.state + "-ref"
        with open(self.config) as f:
            text = f.read().replace(self.state, ref_state)
        fd = os.open(ref_cfg, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as f:
            f.write(text)
        live = [self.run("usage", "--month", MONTH, "--by", g, "--json").stdout for g in ("resource", "user")]
        saved = self.config
        self.config = ref_cfg
        try:
            self.run("ingest", "--from", self.dump, "--observed-at", NOW)
            ref = [self.run("usage", "--month", MONTH, "--by", g, "--json").stdout for g in ("resource", "user")]
        finally:
            self.config = saved
        if live != ref:
            raise Failure(f"usage after crashes differs from a clean ingest of the same final dump:\ncrashed: {live}\nclean:   {ref}")

    def desired(self):
        totals, users = {}, {}
        for line in self.run("usage", "--month", MONTH, "--json").stdout.splitlines():
            r = json.loads(line)
            totals[(ACCOUNTS[r["resource"].lower()], r["component"])] = r["amount"]
        for line in self.run("usage", "--month", MONTH, "--by", "user", "--json").stdout.splitlines():
            r = json.loads(line)
            users[(ACCOUNTS[r["resource"].lower()], r["component"], r["user"])] = r["amount"]
        return totals, users

    @staticmethod
    def compare(what, want, got):
        def num(s):
            return round(float(s) * 100)
        keys = set(want) | set(got)
        bad = [(k, want.get(k), got.get(k)) for k in sorted(keys, key=str)
               if num(want.get(k, "0")) != num(got.get(k, "0"))]
        if bad:
            lines = "\n".join(f"  {k}: desired {w}, simulator {g}" for k, w, g in bad[:20])
            raise Failure(f"{len(bad)} {what} value(s) in the simulator differ from the desired ones:\n{lines}")


def run_epoch(args, seed, n):
    """One epoch in its own Harness (own simulator, state directory and counters)."""
    h = Harness(args)
    try:
        h.epoch(seed, n)
    except Failure as e:
        h.stop_sim()
        return seed, n, h, e
    return seed, n, h, None


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--seed", type=int, default=None, help="seed of the first epoch (default: random, printed)")
    ap.add_argument("--cycles", type=int, default=40, help="cycles in all (each runs one operation and tries one kill)")
    ap.add_argument("--epoch-cycles", type=int, default=25, help="cycles per epoch (fresh state dir and simulator)")
    ap.add_argument("--jobs", type=int, default=1, help="epochs run side by side (each with its own simulator)")
    ap.add_argument("--min-kills", type=int, default=0, help="fail unless at least this many SIGKILLs landed")
    ap.add_argument("--reckon", default=None, help="the reckon binary (default: built by tools/crash-test/run)")
    ap.add_argument("--work", default=None, help="work directory (default: a new temporary one)")
    ap.add_argument("--keep", action="store_true", help="keep the epochs' directories")
    ap.add_argument("-v", "--verbose", action="store_true")
    args = ap.parse_args()
    if args.seed is None:
        args.seed = random.SystemRandom().randint(1, 10**9)
    if not args.reckon:
        sys.exit("crash-test: --reckon is required (tools/crash-test/run passes it)")
    args.work = args.work or tempfile.mkdtemp(prefix="reckon-crash-")
    t0 = time.monotonic()
    print(f"crash-test: seed {args.seed}, {args.cycles} cycles, epochs of {args.epoch_cycles}, {args.jobs} job(s), work dir {args.work}", flush=True)
    plan, done = [], 0
    while done < args.cycles:
        n = min(args.epoch_cycles, args.cycles - done)
        plan.append((args.seed + len(plan), n))
        done += n
    kills, cycles, epochs, kills_by, timings = 0, 0, 0, {}, {}
    failed = None
    with concurrent.futures.ThreadPoolExecutor(max_workers=max(1, args.jobs)) as pool:
        futures = [pool.submit(run_epoch, args, seed, n) for seed, n in plan]
        for f in concurrent.futures.as_completed(futures):
            if f.cancelled():
                continue
            seed, n, h, err = f.result()
            if err is not None:
                if failed is None:
                    failed = (seed, n, h, err)
                    for other in futures:
                        other.cancel()
                continue
            epochs += 1
            kills += h.kills
            cycles += h.cycles
            for k, v in h.kills_by.items():
                kills_by[k] = kills_by.get(k, 0) + v
            for k, v in h.timings.items():
                timings.setdefault(k, []).extend(v)
            print(f"crash-test: epoch seed {seed}: {n} cycles ok, {h.kills} kills; {kills} kills so far, {time.monotonic() - t0:.0f} s", flush=True)
    if failed is not None:
        seed, n, h, err = failed
        print(f"\ncrash-test: FAILED in the epoch with seed {seed}: {err}", file=sys.stderr)
        print(f"crash-test: state kept in {h.epoch_dir}", file=sys.stderr)
        print(f"crash-test: re-run it alone: tools/crash-test/run --seed {seed} --cycles {n} --epoch-cycles {n} --keep -v", file=sys.stderr)
        sys.exit(1)
    took = time.monotonic() - t0
    by = ", ".join(f"{k} {v}" for k, v in sorted(kills_by.items()))
    print(f"crash-test: OK: seed {args.seed}: {cycles} cycles, {kills} SIGKILLs ({by}), {epochs} clean final runs converged, {took:.0f} s")
    med = {k: sorted(v)[len(v) // 2] for k, v in timings.items()}
    print("crash-test: median seconds per command: " + ", ".join(f"{k} {v:.2f}" for k, v in sorted(med.items())))
    if kills < args.min_kills:
        print(f"crash-test: FAILED: only {kills} kills landed, fewer than --min-kills {args.min_kills} (seed {args.seed})", file=sys.stderr)
        sys.exit(1)
    if not args.keep:
        shutil.rmtree(args.work, ignore_errors=True)


if __name__ == "__main__":
    main()
