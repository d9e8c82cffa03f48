#ifndef RECKON_CMALLOCTUNING_H
#define RECKON_CMALLOCTUNING_H

/// What the start-up malloc preparation of a one-shot command did (see malloc_tuning.c).
typedef enum {
    /// Not a one-shot command (or no command at all): glibc's defaults.
    RECKON_MALLOC_TUNING_NOT_ONE_SHOT = 0,
    /// Heaps prepared and advised for transparent huge pages.
    RECKON_MALLOC_TUNING_APPLIED = 1,
    /// RECKON_MALLOC_TUNING=off.
    RECKON_MALLOC_TUNING_OFF = 2,
    /// A helper thread or the advice failed (the kernel without THP, say): glibc's defaults.
    RECKON_MALLOC_TUNING_FAILED = 3,
} reckon_malloc_tuning_state;

reckon_malloc_tuning_state reckon_malloc_tuning(void);

/// How many heaps were advised, and how many bytes of each.
int reckon_malloc_tuning_heaps(void);
long reckon_malloc_tuning_bytes(void);

#endif
