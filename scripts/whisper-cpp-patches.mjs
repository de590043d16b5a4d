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
// - encoder-attention-by-head-groups: the encoder's self-attention builds the scores of all heads at
//   once, n_head x 1500 x 1500 floats (54 MB for tiny, 180 MB for large), in every whisper_state;
//   a worker holds one state per concurrent chunk. Computed a few heads at a time, only one
//   group's scores live at once (the graph allocator reuses the block). Each group adds 8 nodes
//   to the encoder graph, whose size whisper.cpp fixes (WHISPER_MAX_NODES, 4096 nodes and leafs
//   together), so the groups are at most 1536 / (8 x layers) per layer: one head each up to small
//   (12 layers), 2 heads for medium, 4 for large (36 MB instead of 180). Each group's products are
//   the same calls as before on fewer heads, so the results are bit-identical: measured with the
//   CLI on 5 min of speech (tiny-sized decoding model), the full JSON output (token probabilities
//   included) is byte-identical, the encode buffer drops from 85.5 to 40.9 MB, the peak RSS from
//   276 to 229 MB, and the encode time per window is unchanged (2821/2841 against 2815/2877 ms on
//   1 thread, 2046 against 2003 ms on 2). Generated models with small's, medium's and large's layers
//   and heads (random weights) decode byte-identically too; their encode buffers drop from 130.9,
//   201.6 and 274.7 MB to 31.9, 75.7 and 130.9 MB.

/** @type {{ name: string, file: string, from: string, to: string, applied: string }[]} */
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
    name: "encoder-attention-by-head-groups",
    file: "src/whisper.cpp",
    from: `                // K * Q
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
`,
    to: `                struct ggml_tensor * V =
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
`,
    applied: "// speechflow: the heads in groups",
  },
];
