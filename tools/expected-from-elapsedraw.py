#!/usr/bin/env python3
"""Independent expectations for reckon's tests: per (account, user, TRES) the sum over job
allocations of TRES count x ElapsedRaw, straight from sacct's own columns (no Start/End
arithmetic, no reckon code). Memory is in MiB (--noconvert prints M; G/T are powers of 1024).

Usage: expected-from-elapsedraw.py DUMP.psv [alloc|req]  -> TSV on stdout
"""
import sys
from collections import defaultdict

def amount(name, v):
    mult = {"K": 1 / 1024, "M": 1, "G": 1024, "T": 1024**2, "P": 1024**3} if name == "mem" else \
           {"K": 1024, "M": 1024**2, "G": 1024**3, "T": 1024**4, "P": 1024**5}
    if v and v[-1] in mult:
        return int(round(float(v[:-1]) * mult[v[-1]]))
    return int(v)

path, col = sys.argv[1], (sys.argv[2] if len(sys.argv) > 2 else "alloc")
lines = open(path).read().splitlines()
head = lines[0].split("|")
ix = {n: i for i, n in enumerate(head)}
tcol = ix["AllocTRES" if col == "alloc" else "ReqTRES"]
sums = defaultdict(int)
for line in lines[1:]:
    f = line.split("|")
    if len(f) != len(head) or "." in f[ix["JobIDRaw"]]:
        continue
    el = int(f[ix["ElapsedRaw"]])
    for item in filter(None, f[tcol].split(",")):
        n, v = item.split("=", 1)
        sums[(f[ix["Account"]].lower(), f[ix["User"]], n)] += amount(n, v) * el
print("account\tuser\ttres\tnative_seconds")
for (a, u, n), s in sorted(sums.items()):
    print(f"{a}\t{u}\t{n}\t{s}")
