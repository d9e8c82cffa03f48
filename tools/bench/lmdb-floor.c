/* The floor under reckon's ingest: only the durable LMDB writes an import of N fresh runs needs
 * (docs/performance.md, "The floor"). N events of EVENT_BYTES appended under dense 8-byte
 * big-endian keys with MDB_APPEND, and N run-index entries (a 20-byte key in job-id order, the
 * 8-byte sequence as value) put with MDB_NOOVERWRITE, in write transactions of BATCH runs, each
 * committed durably (LMDB's default: fdatasync at commit). No parsing, no dedup lookups of
 * existing runs, no usage table, no hashing. Prints the wall time of the whole thing.
 *
 *   cc -O2 -o lmdb-floor lmdb-floor.c -llmdb && ./lmdb-floor DIR N BATCH EVENT_BYTES
 */
#include <lmdb.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static double now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static int fail(const char *what, int rc) {
    fprintf(stderr, "lmdb-floor: %s: %s\n", what, mdb_strerror(rc));
    return 1;
}

int main(int argc, char **argv) {
    if (argc != 5) {
        fprintf(stderr, "usage: lmdb-floor DIR N BATCH EVENT_BYTES (DIR must exist and be empty)\n");
        return 2;
    }
    const char *dir = argv[1];
    long n = atol(argv[2]), batch = atol(argv[3]), eventBytes = atol(argv[4]);
    if (n <= 0 || batch <= 0 || eventBytes <= 0 || eventBytes > 4096) {
        fprintf(stderr, "lmdb-floor: N, BATCH > 0 and 0 < EVENT_BYTES <= 4096\n");
        return 2;
    }
    unsigned char event[4096];
    for (long i = 0; i < eventBytes; i++) event[i] = (unsigned char)(i * 31 + 7);
    double t0 = now();
    MDB_env *env;
    MDB_txn *txn;
    MDB_dbi events, runs;
    int rc;
    if ((rc = mdb_env_create(&env))) return fail("env_create", rc);
    mdb_env_set_mapsize(env, (size_t)1 << 34);
    mdb_env_set_maxdbs(env, 8);
    if ((rc = mdb_env_open(env, dir, 0, 0600))) return fail("env_open", rc);
    if ((rc = mdb_txn_begin(env, NULL, 0, &txn))) return fail("txn_begin", rc);
    if ((rc = mdb_dbi_open(txn, "events", MDB_CREATE, &events))) return fail("dbi_open events", rc);
    if ((rc = mdb_dbi_open(txn, "runs", MDB_CREATE, &runs))) return fail("dbi_open runs", rc);
    if ((rc = mdb_txn_commit(txn))) return fail("commit", rc);
    for (long b = 0; b < n; b += batch) {
        if ((rc = mdb_txn_begin(env, NULL, 0, &txn))) return fail("txn_begin", rc);
        for (long i = b; i < b + batch && i < n; i++) {
            uint64_t seq = __builtin_bswap64((uint64_t)i);
            MDB_val k = {sizeof seq, &seq}, v = {(size_t)eventBytes, event};
            if ((rc = mdb_put(txn, events, &k, &v, MDB_APPEND))) return fail("append event", rc);
            unsigned char runKey[20] = {2, 'c', 'l', 'u', 's', 't', 'e', 'r'};
            uint64_t job = __builtin_bswap64((uint64_t)(1000000 + i));
            memcpy(runKey + 8, &job, sizeof job);
            MDB_val rk = {sizeof runKey, runKey}, rv = {sizeof seq, &seq};
            if ((rc = mdb_put(txn, runs, &rk, &rv, MDB_NOOVERWRITE))) return fail("put run", rc);
        }
        if ((rc = mdb_txn_commit(txn))) return fail("commit", rc);
    }
    mdb_env_close(env);
    printf("%ld runs in %.3f s\n", n, now() - t0);
    return 0;
}
