// speechflow's malloc tuning: a Node-API addon with one function, built by
// scripts/build-malloc-tuning.mjs at install (Linux with glibc; elsewhere it reports that it did nothing).
//
// Why: glibc serves blocks above its mmap threshold (128 KiB at start) with their own mappings, and
// returns them to the OS when freed. But each time such a block is freed, glibc raises the threshold to
// its size (up to 32 MiB), so after the first chunk of audio every buffer up to ~4 MB came from the
// main heap, where freed holes of varied sizes stay resident. The CLI handles a chunk's audio in buffers
// of 0.25-4 MB (decoded blocks, the chunk, the copies the IPC channel makes), and its RSS grew from
// 138 to 163 MB over a 1-hour file. Setting the threshold explicitly turns that adjustment off
// (glibc's mallopt(3)); MALLOC_MMAP_THRESHOLD_ in the environment would do the same, but a process
// cannot set its own environment before it starts. (Worker processes get MALLOC_MMAP_THRESHOLD_ from
// the pool when it starts them.)
#include <stdbool.h>
#include <stdlib.h> // defines __GLIBC__ on glibc, whatever node_api.h includes
#include <node_api.h>
#if defined(__GLIBC__)
#include <malloc.h>
#endif

// setMmapThreshold(bytes): true when glibc took the setting
static napi_value set_mmap_threshold(napi_env env, napi_callback_info info) {
    size_t argc = 1;
    napi_value argv[1];
    double bytes = 0;
    bool ok = false;
    if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) == napi_ok && argc == 1 &&
        napi_get_value_double(env, argv[0], &bytes) == napi_ok && bytes >= 0 && bytes <= 32.0 * 1024 * 1024) {
#if defined(__GLIBC__)
        ok = mallopt(M_MMAP_THRESHOLD, (int) bytes) == 1;
#endif
    }
    napi_value result;
    napi_get_boolean(env, ok, &result);
    return result;
}

NAPI_MODULE_INIT() {
    napi_value fn;
    napi_value glibc;
#if defined(__GLIBC__)
    const bool is_glibc = true;
#else
    const bool is_glibc = false; // musl and others: no moving threshold to pin
#endif
    if (napi_create_function(env, "setMmapThreshold", NAPI_AUTO_LENGTH, set_mmap_threshold, NULL, &fn) != napi_ok) return NULL;
    if (napi_set_named_property(env, exports, "setMmapThreshold", fn) != napi_ok) return NULL;
    if (napi_get_boolean(env, is_glibc, &glibc) != napi_ok) return NULL;
    if (napi_set_named_property(env, exports, "glibc", glibc) != napi_ok) return NULL;
    return exports;
}
