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
// - encoder-attention-per-head: the encoder's self-attention builds the scores of all heads at
//   once, n_head x 1500 x 1500 floats (54 MB for tiny, 180 MB for large), in every whisper_state;
//   a worker holds one state per concurrent chunk. Computed one head at a time, only one head's
//   scores live at once (the graph allocator reuses the block). Each head's products are the same
//   calls as before, so the results are bit-identical: measured with the CLI on 5 min of speech
//   (tiny-sized decoding model), the full JSON output (token probabilities included) is
//   byte-identical, the encode buffer drops from 85.5 to 40.9 MB, the peak RSS from 276 to
//   229 MB, and the encode time per window is unchanged (2821/2841 against 2815/2877 ms on 1
//   thread, 2046 against 2003 ms on 2).

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
    name: "encoder-attention-per-head",
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

                // speechflow: one head at a time, so that one head's n_ctx x n_ctx scores live at once, not all heads'
                cur = ggml_new_tensor_2d(ctx0, GGML_TYPE_F32, n_state, n_ctx);
                for (int h = 0; h < n_head; ++h) {
                    struct ggml_tensor * K_h = ggml_view_3d(ctx0, K, n_state_head, n_ctx, 1, K->nb[1], K->nb[2], h*K->nb[2]);
                    struct ggml_tensor * Q_h = ggml_view_3d(ctx0, Q, n_state_head, n_ctx, 1, Q->nb[1], Q->nb[2], h*Q->nb[2]);
                    struct ggml_tensor * V_h = ggml_view_3d(ctx0, V, n_ctx, n_state_head, 1, V->nb[1], V->nb[2], h*V->nb[2]);
                    struct ggml_tensor * KQ = ggml_mul_mat(ctx0, K_h, Q_h);
                    struct ggml_tensor * KQ_soft_max = ggml_soft_max_ext(ctx0, KQ, nullptr, KQscale, 0.0f);
                    struct ggml_tensor * KQV = ggml_mul_mat(ctx0, V_h, KQ_soft_max);
                    cur = ggml_set_2d_inplace(ctx0, cur, ggml_reshape_2d(ctx0, KQV, n_state_head, n_ctx), cur->nb[1], h*n_state_head*ggml_element_size(cur));
                }
`,
    applied: "// speechflow: one head at a time",
  },
];
