#ifndef RECKON_CLMDB_SHIM_H
#define RECKON_CLMDB_SHIM_H
#include <lmdb.h>
#endif
