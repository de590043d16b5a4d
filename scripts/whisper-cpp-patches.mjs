// speechflow's patches to the whisper.cpp sources inside smart-whisper, relative to that tree.
// scripts/build-engine.mjs applies them; bench/run.mjs takes them back out of its copy, so the
// whisper.cpp CLI it compares against is the unpatched one. Each is a plain string replacement:
// `from` is the original code, `applied` marks the patched file (so applying is idempotent).
//
// - decoder-rng: whisper.cpp reseeds the sampling RNG of decoders 1..n for every call but seeds
//   decoder 0 only when the state is created; speechflow reuses states, so with temperature
//   fallback a chunk's text would depend on which chunks ran before it. Reseed decoder 0 too.
// - openblas-threads: OpenBLAS splits a product differently for each thread count and the sums
//   round differently, so a chunk's text would depend on how many threads it got (the run's last
//   chunk takes all of a worker's threads). OpenBLAS stays at one thread; ggml's own threads
//   still share the graph, and their results do not depend on the count. Measured with the CLI
//   (tiny-sized model, 2 threads): 1873 ms per window pinned against 1902 ms unpinned.
// - encoder-attention-memory: two things in the encoder's self-attention, each state's largest buffer
//   (a worker holds one state per concurrent chunk).
//   1. Heads in groups: whisper.cpp builds the scores of all heads at once, n_head x 1500 x 1500
//      floats (54 MB for tiny, 180 MB for large). Computed a few heads at a time, only one group's
//      scores live at once (the graph allocator reuses the block). Each group adds 8 nodes to the
//      encoder graph, whose size whisper.cpp fixes (WHISPER_MAX_NODES, 4096 nodes and leafs
//      together), so the groups are at most 1536 / (8 x layers) per layer: one head each up to small
//      (12 layers), 2 heads for medium, 4 for large.
//   2. No copies into new tensors: whisper.cpp copied Q, K, V and the attention's output into tensors
//      made with ggml_new_tensor. Those are graph leafs, and ggml's allocator places every leaf
//      before the graph runs, so every layer's copies (12 bytes x width x 1500 per layer) sat in the
//      buffer at once. Q is now a view of its product, K and V casts (ggml_cast: a node, placed when
//      it runs), and the output starts as a copy of the layer's input that the groups overwrite.
//   The products, casts and softmaxes are the same operations on the same values, so the results are
//   bit-identical. Measured through the addon on 4 windows of speech with random-weight models (the
//   decoder's text then depends on the encoder's output): tokens, probabilities and timestamps
//   byte-identical to the build before part 2 for tiny's, small's, medium's and large's layers and
//   heads, whose encode buffers drop from 85.5, 130.9, 201.6 and 274.7 MB (stock) to 40.9, 31.9,
//   75.7 and 130.9 MB (part 1) and to 22.1, 13.5, 23.4 and 42.4 MB (both). Part 1 alone was also
//   checked against the stock CLI (full JSON output byte-identical; encode time per window
//   unchanged: 2821/2841 against 2815/2877 ms on 1 thread, 2046 against 2003 ms on 2).
//   Cutting the scores and the feed-forward layer into blocks of query rows as well would take tiny's
//   buffer to 16 MB, but the products then round differently; left out.
// - idle-pages (six parts): a state's four compute buffers are each used in one stage of a window
//   (conv, encoder, cross, decoder) and its KV caches within one transcription, yet every page they
//   ever touched stayed resident for the whole run, in each state a worker holds. Pages are handed
//   back to the OS (madvise MADV_DONTNEED, Linux, only memory a CPU buffer malloc'd itself): conv's
//   once the encoder has read its output, cross's once it has filled the cross-attention cache, and
//   the caches and the decoder's buffer when a transcription ends (then malloc_trim, for the window's
//   freed temporaries); the next use gets zeroed pages, and nothing reads a buffer before writing it.
//   The encoder's buffer stays: two chunks can be in the encoder at once, so it counts at the peak
//   anyway, and faulting it back in every window cost ~2.5% per window (3 alternating runs). Measured (tiny-sized model):
//   a state between transcriptions 99 -> 65 MB; a worker running two chunks on 5 min of speech peaks
//   at 316-318 MB instead of 341; the same transcripts byte for byte; time per window 1971 against
//   1995 ms with the pages kept (3 alternating runs each, within noise).
// - lazy-zero (three parts): whisper.cpp zeroes each new state's KV caches (self, cross, and the
//   flash-attention pad, 21 MB for tiny) with memset, which makes every page resident at once, and
//   idle-pages only hands them back when the first transcription ends. So a worker's first chunks,
//   which start together, each held their full caches; the pad, unused without flash attention, stayed
//   for the whole run. The pages are now handed back instead (madvise: they read as zeros when next
//   touched), which is the same clear. Measured: a worker's peak on 5 minutes of speech 268-271 ->
//   238-245 MB, the same transcripts.
// - sched-meta-uninitialised: each of a state's four graphs has a metadata buffer sized for
//   whisper.cpp's largest graph (4096 tensors, ~1.6 MB), zero-filled by std::vector, of which the
//   conv, cross and decoder graphs use a small part; ggml writes every tensor header it places, so the
//   zeroes were never read. Left uninitialised, the unused pages are never touched: a further 238-245
//   -> 217-235 MB.

/** whisper.cpp's self-attention in the encoder, from K to its output (encoder-attention-memory replaces it) */
const ATTENTION_FROM = `                struct ggml_tensor * K =
                    ggml_permute(ctx0,
                            ggml_cpy(ctx0,
                                Kcur,
                                ggml_new_tensor_3d(ctx0, wctx.itype, n_state_head, n_head, n_ctx)),
                            0, 2, 1, 3);

                // K * Q
                struct ggml_tensor * KQ = ggml_mul_mat(ctx0, K, Q);

                struct ggml_tensor * KQ_soft_max = ggml_soft_max_ext(ctx0, KQ, nullptr, KQscale, 0.0f);

                struct ggml_tensor * V =
                    ggml_cpy(ctx0,
                            ggml_permute(ctx0,
                                ggml_reshape_3d(ctx0,
                                    Vcur,
                                    n_state_head, n_head, n_ctx),
                                1, 2, 0, 3),
                            ggml_new_tensor_3d(ctx0, wctx.itype, n_ctx, n_state_head, n_head)
                            );

                struct ggml_tensor * KQV = ggml_mul_mat(ctx0, V, KQ_soft_max);

                struct ggml_tensor * KQV_merged = ggml_permute(ctx0, KQV, 0, 2, 1, 3);

                cur = ggml_cpy(ctx0,
                        KQV_merged,
                        ggml_new_tensor_2d(ctx0, GGML_TYPE_F32, n_state, n_ctx));
`;

/** encoder-attention-memory as speechflow applied it before it also dropped the copies (heads in groups only) */
const HEAD_GROUPS_V1 = `                struct ggml_tensor * V =
                    ggml_cpy(ctx0,
                            ggml_permute(ctx0,
                                ggml_reshape_3d(ctx0,
                                    Vcur,
                                    n_state_head, n_head, n_ctx),
                                1, 2, 0, 3),
                            ggml_new_tensor_3d(ctx0, wctx.itype, n_ctx, n_state_head, n_head)
                            );

                // speechflow: the heads in groups, one group's n_ctx x n_ctx scores at a time (see scripts/whisper-cpp-patches.mjs)
                const int sf_steps = std::max(1, std::min(n_head, 1536/(8*n_layer)));
                const int sf_heads = (n_head + sf_steps - 1)/sf_steps;
                cur = ggml_new_tensor_2d(ctx0, GGML_TYPE_F32, n_state, n_ctx);
                for (int h0 = 0; h0 < n_head; h0 += sf_heads) {
                    const int nh = std::min(sf_heads, n_head - h0);
                    struct ggml_tensor * K_g = ggml_view_3d(ctx0, K, n_state_head, n_ctx, nh, K->nb[1], K->nb[2], h0*K->nb[2]);
                    struct ggml_tensor * Q_g = ggml_view_3d(ctx0, Q, n_state_head, n_ctx, nh, Q->nb[1], Q->nb[2], h0*Q->nb[2]);
                    struct ggml_tensor * V_g = ggml_view_3d(ctx0, V, n_ctx, n_state_head, nh, V->nb[1], V->nb[2], h0*V->nb[2]);
                    struct ggml_tensor * KQ = ggml_mul_mat(ctx0, K_g, Q_g);
                    struct ggml_tensor * KQ_soft_max = ggml_soft_max_ext(ctx0, KQ, nullptr, KQscale, 0.0f);
                    struct ggml_tensor * KQV = ggml_mul_mat(ctx0, V_g, KQ_soft_max);
                    cur = ggml_set_inplace(ctx0, cur, ggml_permute(ctx0, KQV, 0, 2, 1, 3),
                            n_state_head*ggml_element_size(cur), cur->nb[1], cur->nb[2], h0*n_state_head*ggml_element_size(cur));
                }
`;

/** @type {{ name: string, file: string, from: string, earlier?: string[], to: string, applied: string }[]} */
export const whisperCppPatches = [
  {
    name: "decoder-rng",
    file: "src/whisper.cpp",
    from: "    // TAGS: WHISPER_DECODER_INIT\n    for (int j = 1; j < n_decoders; j++) {\n",
    to: "    // TAGS: WHISPER_DECODER_INIT\n    state->decoders[0].rng = std::mt19937(0); // speechflow: reused states decode like fresh ones\n    for (int j = 1; j < n_decoders; j++) {\n",
    applied: "state->decoders[0].rng = std::mt19937(0); // speechflow",
  },
  {
    name: "openblas-threads",
    file: "ggml/src/ggml-blas.cpp",
    from: "    openblas_set_num_threads(ctx->n_threads);\n",
    to: "    openblas_set_num_threads(1); // speechflow: a chunk's text must not depend on its thread count\n",
    applied: "openblas_set_num_threads(1); // speechflow",
  },
  {
    name: "encoder-attention-memory",
    file: "src/whisper.cpp",
    from: ATTENTION_FROM,
    // what the previous version of this patch (heads in groups only) left in its place: upgraded in place
    earlier: [ATTENTION_FROM.slice(0, ATTENTION_FROM.indexOf("                // K * Q\n")) + HEAD_GROUPS_V1],
    to: `                // speechflow: the encoder's attention without copies into new tensors, heads in groups (see scripts/whisper-cpp-patches.mjs)
                struct ggml_tensor * Q_sf = ggml_permute(ctx0, ggml_reshape_3d(ctx0, Qcur, n_state_head, n_head, n_ctx), 0, 2, 1, 3);
                struct ggml_tensor * K = ggml_permute(ctx0, ggml_reshape_3d(ctx0, ggml_cast(ctx0, Kcur, wctx.itype), n_state_head, n_head, n_ctx), 0, 2, 1, 3);
                struct ggml_tensor * V = ggml_cast(ctx0, ggml_permute(ctx0, ggml_reshape_3d(ctx0, Vcur, n_state_head, n_head, n_ctx), 1, 2, 0, 3), wctx.itype);
                const int sf_steps = std::max(1, std::min(n_head, 1536/(8*n_layer)));
                const int sf_heads = (n_head + sf_steps - 1)/sf_steps;
                cur = nullptr;
                for (int h0 = 0; h0 < n_head; h0 += sf_heads) {
                    const int nh = std::min(sf_heads, n_head - h0);
                    struct ggml_tensor * K_g = ggml_view_3d(ctx0, K, n_state_head, n_ctx, nh, K->nb[1], K->nb[2], h0*K->nb[2]);
                    struct ggml_tensor * Q_g = ggml_view_3d(ctx0, Q_sf, n_state_head, n_ctx, nh, Q_sf->nb[1], Q_sf->nb[2], h0*Q_sf->nb[2]);
                    struct ggml_tensor * V_g = ggml_view_3d(ctx0, V, n_ctx, n_state_head, nh, V->nb[1], V->nb[2], h0*V->nb[2]);
                    struct ggml_tensor * KQ = ggml_mul_mat(ctx0, K_g, Q_g);
                    struct ggml_tensor * KQ_soft_max = ggml_soft_max_ext(ctx0, KQ, nullptr, KQscale, 0.0f);
                    struct ggml_tensor * KQV = ggml_permute(ctx0, ggml_mul_mat(ctx0, V_g, KQ_soft_max), 0, 2, 1, 3);
                    // the first group's result is a new tensor of the output's shape (a copy of inpL: the groups overwrite all of it)
                    cur = cur ? ggml_set_inplace(ctx0, cur, KQV, n_state_head*sizeof(float), inpL->nb[1], inpL->nb[2], h0*n_state_head*sizeof(float))
                              : ggml_set(ctx0, inpL, KQV, n_state_head*sizeof(float), inpL->nb[1], inpL->nb[2], h0*n_state_head*sizeof(float));
                }
`,
    applied: "// speechflow: the encoder's attention without copies",
  },
  // idle-pages: the six parts below (see the header)
  {
    name: "idle-pages-ggml-backend-h",
    file: "ggml/include/ggml-backend.h",
    from: "    GGML_API size_t               ggml_backend_sched_get_buffer_size(ggml_backend_sched_t sched, ggml_backend_t backend);\n",
    to: `    GGML_API size_t               ggml_backend_sched_get_buffer_size(ggml_backend_sched_t sched, ggml_backend_t backend);
    // speechflow: hand the pages of idle host memory back to the OS; the contents are lost, except the bytes of \`keep\`
    GGML_API void                 ggml_backend_sched_release_pages(ggml_backend_sched_t sched, const struct ggml_tensor * keep);
    GGML_API void                 ggml_backend_buffer_release_pages(ggml_backend_buffer_t buffer, const struct ggml_tensor * keep);
    GGML_API void                 ggml_gallocr_release_pages(ggml_gallocr_t galloc, const struct ggml_tensor * keep);
`,
    applied: "ggml_backend_sched_release_pages(ggml_backend_sched_t sched",
  },
  {
    name: "idle-pages-ggml-alloc",
    file: "ggml/src/ggml-alloc.c",
    from: "// utils\n\nstatic bool alloc_tensor_range(",
    to: `// speechflow: see ggml_backend_sched_release_pages (a buffer listed twice is released twice, which is harmless)
void ggml_gallocr_release_pages(ggml_gallocr_t galloc, const struct ggml_tensor * keep) {
    for (int i = 0; i < galloc->n_buffers; i++) {
        ggml_backend_buffer_release_pages(galloc->buffers[i], keep);
    }
}

// utils

static bool alloc_tensor_range(`,
    applied: "void ggml_gallocr_release_pages(",
  },
  {
    name: "idle-pages-ggml-backend-c",
    file: "ggml/src/ggml-backend.c",
    from: "void ggml_backend_sched_set_tensor_backend(ggml_backend_sched_t sched, struct ggml_tensor * node, ggml_backend_t backend) {\n",
    to: `// speechflow: idle compute memory goes back to the OS (see scripts/whisper-cpp-patches.mjs in speechflow)
void ggml_backend_sched_release_pages(ggml_backend_sched_t sched, const struct ggml_tensor * keep) {
    ggml_gallocr_release_pages(sched->galloc, keep);
}

#if defined(__linux__)
#include <sys/mman.h>
#include <unistd.h>
// only whole pages inside [begin, end): the bytes around the range may belong to someone else
static void ggml_release_range(uintptr_t begin, uintptr_t end, uintptr_t page) {
    begin = (begin + page - 1) & ~(page - 1);
    end &= ~(page - 1);
    if (end > begin) {
        madvise((void *) begin, end - begin, MADV_DONTNEED); // a failure only keeps the pages
    }
}
#endif

void ggml_backend_buffer_release_pages(ggml_backend_buffer_t buffer, const struct ggml_tensor * keep) {
#if defined(__linux__)
    // only memory a CPU buffer allocated itself: not pinned host memory that a GPU reads by DMA, not a
    // buffer wrapped around someone else's memory (ggml_backend_cpu_buffer_from_ptr)
    if (buffer == NULL || buffer->iface.free_buffer != ggml_backend_cpu_buffer_free_buffer) {
        return;
    }
    // the whole malloc'd block: its base is rounded up for alignment but its size is not, so base + size
    // could reach past the block into the allocator's header of the next one
    const uintptr_t page  = (uintptr_t) sysconf(_SC_PAGESIZE);
    const uintptr_t begin = (uintptr_t) buffer->context;
    const uintptr_t end   = begin + buffer->size;
    uintptr_t keep_begin = end;
    uintptr_t keep_end   = end;
    if (keep != NULL && (uintptr_t) keep->data >= begin && (uintptr_t) keep->data < end) {
        keep_begin = (uintptr_t) keep->data;
        keep_end   = keep_begin + ggml_nbytes(keep);
    }
    ggml_release_range(begin, keep_begin, page);
    ggml_release_range(keep_end, end, page);
#else
    (void) buffer;
    (void) keep;
#endif
}

void ggml_backend_sched_set_tensor_backend(ggml_backend_sched_t sched, struct ggml_tensor * node, ggml_backend_t backend) {
`,
    applied: "void ggml_backend_sched_release_pages(",
  },
  {
    name: "idle-pages-encoder",
    file: "src/whisper.cpp",
    from: "    // encoder\n    if (!whisper_encode_external(wstate)) {\n",
    to: `    // speechflow: each stage's compute memory is idle once the next stage has read its output (see
    // scripts/whisper-cpp-patches.mjs); the conv stage's output is all the encoder needs from it
    if (!whisper_encode_external(wstate)) {
        ggml_backend_sched_release_pages(wstate.sched_conv.sched, wstate.embd_conv);
    }

    // encoder
    if (!whisper_encode_external(wstate)) {
`,
    applied: "ggml_backend_sched_release_pages(wstate.sched_conv.sched, wstate.embd_conv);",
  },
  {
    name: "idle-pages-cross",
    file: "src/whisper.cpp",
    from: "    wstate.t_encode_us += ggml_time_us() - t_start_us;\n",
    to: `    // speechflow: the cross stage has filled kv_cross, so conv's output and the cross stage's memory are
    // idle. The encoder's buffer is not released: two chunks can be in the encoder at once, so it counts
    // at the peak anyway, and faulting its pages back in every window cost 2.5% per window.
    ggml_backend_sched_release_pages(wstate.sched_conv.sched, nullptr);
    ggml_backend_sched_release_pages(wstate.sched_cross.sched, nullptr);

    wstate.t_encode_us += ggml_time_us() - t_start_us;
`,
    applied: "ggml_backend_sched_release_pages(wstate.sched_cross.sched, nullptr);",
  },
  {
    name: "idle-pages-full",
    file: "src/whisper.cpp",
    from: "int whisper_full_with_state(\n        struct whisper_context * ctx,\n          struct whisper_state * state,\n    struct whisper_full_params   params,\n                   const float * samples,\n                           int   n_samples) {\n",
    to: `#if defined(__GLIBC__)
#include <malloc.h>
#endif
static int sf_full_with_state(struct whisper_context * ctx, struct whisper_state * state, struct whisper_full_params params, const float * samples, int n_samples);

// speechflow: between two transcriptions a state's caches and decoder memory are idle; a worker keeps
// one state per concurrent chunk, so without this their pages would stay in memory for the whole run
int whisper_full_with_state(
        struct whisper_context * ctx,
          struct whisper_state * state,
    struct whisper_full_params   params,
                   const float * samples,
                           int   n_samples) {
    const int ret = sf_full_with_state(ctx, state, params, samples, n_samples);
    ggml_backend_sched_release_pages(state->sched_decode.sched, nullptr);
    ggml_backend_buffer_release_pages(state->kv_self.buffer, nullptr);
    ggml_backend_buffer_release_pages(state->kv_cross.buffer, nullptr);
#if defined(__GLIBC__)
    // the free memory the window's temporaries (samples, mel, results) left in this thread's malloc arena,
    // which glibc keeps otherwise (measured in the addon: under 1 MB for tiny, most of it is reused)
    malloc_trim(0);
#endif
    return ret;
}

static int sf_full_with_state(struct whisper_context * ctx, struct whisper_state * state, struct whisper_full_params params, const float * samples, int n_samples) {
`,
    applied:
      "static int sf_full_with_state(struct whisper_context * ctx, struct whisper_state * state, struct whisper_full_params params, const float * samples, int n_samples) {\n    // clear",
  },
  // lazy-zero: the three parts below (see the header)
  {
    name: "lazy-zero-ggml-backend-h",
    file: "ggml/include/ggml-backend.h",
    from: "    GGML_API void                 ggml_gallocr_release_pages(ggml_gallocr_t galloc, const struct ggml_tensor * keep);\n",
    to: `    GGML_API void                 ggml_gallocr_release_pages(ggml_gallocr_t galloc, const struct ggml_tensor * keep);
    // speechflow: ggml_backend_buffer_clear(buffer, 0) that leaves the pages to be zeroed when first touched
    GGML_API void                 ggml_backend_buffer_clear_pages(ggml_backend_buffer_t buffer);
`,
    applied: "ggml_backend_buffer_clear_pages(ggml_backend_buffer_t buffer);",
  },
  {
    name: "lazy-zero-ggml-backend-c",
    file: "ggml/src/ggml-backend.c",
    from: "ggml_backend_t ggml_backend_sched_get_tensor_backend(ggml_backend_sched_t sched, struct ggml_tensor * node) {\n",
    to: `// speechflow: clears a CPU buffer's own memory by handing its whole pages back (they read as zeros when
// next touched) and writing only the bytes around them; other buffers are cleared as before. It comes
// after idle-pages, whose includes it uses.
void ggml_backend_buffer_clear_pages(ggml_backend_buffer_t buffer) {
#if defined(__linux__)
    if (buffer != NULL && buffer->iface.free_buffer == ggml_backend_cpu_buffer_free_buffer) {
        const uintptr_t page  = (uintptr_t) sysconf(_SC_PAGESIZE);
        const uintptr_t begin = (uintptr_t) buffer->context;
        const uintptr_t end   = begin + buffer->size;
        const uintptr_t inner_begin = (begin + page - 1) & ~(page - 1);
        const uintptr_t inner_end   = end & ~(page - 1);
        if (inner_end > inner_begin && madvise((void *) inner_begin, inner_end - inner_begin, MADV_DONTNEED) == 0) {
            memset((void *) begin, 0, inner_begin - begin);
            memset((void *) inner_end, 0, end - inner_end);
            return;
        }
    }
#endif
    ggml_backend_buffer_clear(buffer, 0);
}

ggml_backend_t ggml_backend_sched_get_tensor_backend(ggml_backend_sched_t sched, struct ggml_tensor * node) {
`,
    applied: "void ggml_backend_buffer_clear_pages(ggml_backend_buffer_t buffer) {",
  },
  {
    name: "lazy-zero-kv-cache",
    file: "src/whisper.cpp",
    from: "    ggml_backend_buffer_clear(cache.buffer, 0);\n",
    to: "    ggml_backend_buffer_clear_pages(cache.buffer); // speechflow: zero pages, not zeroed pages\n",
    applied: "ggml_backend_buffer_clear_pages(cache.buffer); // speechflow",
  },
  {
    name: "sched-meta-uninitialised",
    file: "src/whisper.cpp",
    from: `// ggml_backend_sched wrapper for whisper usage
struct whisper_sched {
    ggml_backend_sched_t sched = nullptr;

    std::vector<uint8_t> meta;
};
`,
    to: `// speechflow: an allocator whose resize() leaves the bytes as they are (see scripts/whisper-cpp-patches.mjs)
template <typename T>
struct sf_uninit_allocator : std::allocator<T> {
    template <typename U> struct rebind { using other = sf_uninit_allocator<U>; };
    sf_uninit_allocator() = default;
    template <typename U> sf_uninit_allocator(const sf_uninit_allocator<U> &) noexcept {}
    template <typename U> void construct(U * p) noexcept { ::new (static_cast<void *>(p)) U; }
    template <typename U, typename... Args> void construct(U * p, Args &&... args) { ::new (static_cast<void *>(p)) U(std::forward<Args>(args)...); }
};

// ggml_backend_sched wrapper for whisper usage
struct whisper_sched {
    ggml_backend_sched_t sched = nullptr;

    std::vector<uint8_t, sf_uninit_allocator<uint8_t>> meta;
};
`,
    applied: "std::vector<uint8_t, sf_uninit_allocator<uint8_t>> meta;",
  },
];

/**
 * `source` with a patch applied: `from`, or the first of its `earlier` forms found, replaced by `to`
 * (with String.replace's `$1` patterns for a RegExp `from`); `source` itself when the patch is already
 * there (`applied` found); undefined when no form is found.
 * @param {string} source
 * @param {{ from: RegExp | string, earlier?: string[], to: string, applied: string }} patch
 * @returns {string | undefined}
 */
export function applyPatch(source, patch) {
  if (source.includes(patch.applied)) return source;
  for (const form of [patch.from, ...(patch.earlier ?? [])]) {
    const fixed = source.replace(form, patch.to);
    if (fixed !== source) return fixed;
  }
  return undefined;
}
