// Transparent huge pages for the malloc heaps of reckon's one-shot commands (`reckon ingest`,
// `usage`, `replay`, `backfill`, `verify`).
//
// On a VM the first touch of each 4 KiB page is a costly fault (~1.8 µs on the benchmark
// machine); a 2 MiB transparent huge page takes one fault for 512 of them. The kernel gives
// them only to memory advised with madvise(MADV_HUGEPAGE) (THP "madvise" mode, the default of
// Debian's kernels), and glibc advises its heaps only when told at start-up (GLIBC_TUNABLES,
// read before main). So before main, while the process has one thread, this constructor:
//
//   1. lets allocations up to 64 MiB come from the heaps and keeps freed memory there
//      (as OneShotMemory.keepFreedMemory does later, from Swift);
//   2. starts HEAPS threads at once. Each allocates ADVISED bytes (so it is given a heap of
//      its own), advises the whole 2 MiB pages inside that allocation, and, once all of them
//      hold theirs, frees it and ends. The memory is not touched; it stays in the heap, and
//      the heap stays on glibc's list of free arenas;
//   3. so the threads the command starts later (parser, read-ahead, recorder, reader, report)
//      each take one of these heaps on their first allocation and fill advised memory.
//
// If anything fails, the command runs on glibc's defaults. RECKON_MALLOC_TUNING=off turns it
// off. The daemon and every other command are left alone (a long-running process should not
// keep huge pages it no longer uses).
#define _GNU_SOURCE
#include "CMallocTuning.h"
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#if defined(__linux__) && defined(__GLIBC__)
#include <malloc.h>
#include <pthread.h>
#include <sys/mman.h>
#endif

enum { HEAPS = 4 };
#define ADVISED (32L << 20)
#define HUGE_PAGE (2UL << 20)

static reckon_malloc_tuning_state state = RECKON_MALLOC_TUNING_NOT_ONE_SHOT;
static int advised_heaps = 0;

reckon_malloc_tuning_state reckon_malloc_tuning(void) { return state; }
int reckon_malloc_tuning_heaps(void) { return advised_heaps; }
long reckon_malloc_tuning_bytes(void) { return ADVISED; }

#if defined(__linux__) && defined(__GLIBC__)
static int is_one_shot(const char *command) {
    static const char *const commands[] = {"ingest", "usage", "replay", "backfill", "verify", NULL};
    for (const char *const *c = commands; *c; c++)
        if (strcmp(command, *c) == 0) return 1;
    return 0;
}

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t changed = PTHREAD_COND_INITIALIZER;
static int holding = 0, released = 0;
/// Each helper's result, and the part of its heap below the advised pages (kept allocated).
static int results[HEAPS];
static void *volatile kept[HEAPS];

/// One helper: a heap of its own, advised; held until the constructor has seen every helper
/// hold one (a helper that ended first would hand its heap to the next).
static void *prepare_heap(void *ok) {
    int slot = (int)((int *)ok - results);
    char *p = malloc(ADVISED);
    int advised = 0;
    if (p) {
        uintptr_t start = ((uintptr_t)p + HUGE_PAGE - 1) & ~(HUGE_PAGE - 1);
        uintptr_t end = ((uintptr_t)p + ADVISED) & ~(HUGE_PAGE - 1);
        advised = end > start && madvise((void *)start, end - start, MADV_HUGEPAGE) == 0;
    }
    pthread_mutex_lock(&lock);
    holding += 1;
    pthread_cond_broadcast(&changed);
    while (!released) pthread_cond_wait(&changed, &lock);
    pthread_mutex_unlock(&lock);
    free(p);
    // What lies below the first advised page (the heap's start: its header, this thread's
    // cache) is in 4 KiB pages already. It stays allocated, unused, so that what the heap
    // hands out later comes from the advised pages.
    if (advised) {
        size_t below = (((uintptr_t)p + HUGE_PAGE - 1) & ~(HUGE_PAGE - 1)) - (uintptr_t)p;
        if (below > 64) kept[slot] = malloc(below - 32);
    }
    *(int *)ok = advised;
    return NULL;
}

// glibc calls an executable's constructors with (argc, argv, envp), before main.
__attribute__((constructor)) static void reckon_prepare_heaps(int argc, char **argv, char **envp) {
    (void)envp;
    if (argc < 2 || !argv || !argv[1] || !is_one_shot(argv[1])) return;
    const char *setting = getenv("RECKON_MALLOC_TUNING");
    if (setting && strcmp(setting, "off") == 0) { state = RECKON_MALLOC_TUNING_OFF; return; }
    mallopt(M_MMAP_THRESHOLD, 64 << 20);
    mallopt(M_TRIM_THRESHOLD, 256 << 20);
    pthread_t threads[HEAPS];
    int started = 0;
    pthread_attr_t attr;
    pthread_attr_init(&attr);
    pthread_attr_setstacksize(&attr, 64 << 10);
    for (; started < HEAPS; started++)
        if (pthread_create(&threads[started], &attr, prepare_heap, &results[started]) != 0) break;
    pthread_attr_destroy(&attr);
    pthread_mutex_lock(&lock);
    while (holding < started) pthread_cond_wait(&changed, &lock);
    released = 1;
    pthread_cond_broadcast(&changed);
    pthread_mutex_unlock(&lock);
    for (int i = 0; i < started; i++) {
        pthread_join(threads[i], NULL);
        advised_heaps += results[i];
    }
    state = advised_heaps > 0 ? RECKON_MALLOC_TUNING_APPLIED : RECKON_MALLOC_TUNING_FAILED;
}
#endif
