//! Physically motivated parameters of the step model, each with its source or derivation.
//!
//! None is a per-row correction: the same values serve every validation row
//! (`validation/perf.toml`, `validation/perf.md`).

/// Fraction of the measured matmul ceiling (MAMF: the best mean over a brute-force shape search,
/// `calibration/perf.md` Table 2, P) that the GEMMs of a training step reach on large shapes.
/// Fitted (D), together with `GEMM_HALF_DIM`, by a grid search (fraction 0.80–1.00, half
/// dimension 32–512, 99 points) minimising the mean |error| on the eight Korthikanti et al. 2022
/// Table 5 iteration times, which have DP = 1 and so isolate compute, TP and PP costs; the
/// fraction is capped at 1 because MAMF is the measured maximum. The optimum sits at the cap:
/// large GEMMs run at the ceiling (271 TFLOP/s = 86.9 % of the A100 BF16 peak; Calculon's A100
/// system file allows 95 % of peak for GEMMs of 128 GFLOP and more, `systems/a100_80g.json`, S).
/// Leave-one-out (fit on seven rows, predict the eighth) selects the same values for every row.
/// Every other validation row is predicted with them.
pub const GEMM_MAMF_FRACTION: f64 = 1.0;

/// Smallest GEMM dimension at which the math rate is halved: `rate / (1 + 160 / min(m, n, k))`.
/// Tensor-core GEMMs tile the output in 128 × 256 blocks and stream K in 32–64-wide slices, so a
/// dimension of one or two tiles leaves partial tiles, a short main loop against a fixed prologue
/// and epilogue, and partial waves over the 108–132 SMs. Operand and result traffic is added to
/// the math time rather than hidden under it (Calculon's A100 system file likewise uses
/// `"processing_mode": "no_overlap"`, S); with a pure roofline (max of the two) the same fit gives
/// 2.70 % mean error instead of 2.51 %, and leaves the H100 and Blackwell rows 3–7 points further
/// off, because the added traffic grows with the machine balance (FLOP/s per byte/s: A100 156,
/// H100 295, B200 281). It matters for the batched per-head attention GEMMs of unfused attention
/// (k = head dimension, 96 for the 22B model, 160 for the 1T), for projections at high TP and for
/// small experts. Fitted with `GEMM_MAMF_FRACTION` (D).
pub const GEMM_HALF_DIM: f64 = 160.0;

/// Fixed time per GEMM kernel (launch, wave tail): a few microseconds is the usual CUDA kernel
/// launch plus synchronisation overhead (A). Matters only for small GEMMs (small MoE experts,
/// small microbatches).
pub const GEMM_FIXED_S: f64 = 4e-6;

/// Achieved fraction of HBM bandwidth for streaming element-wise kernels (layer norm, residual,
/// activation, softmax, optimizer). STREAM-like kernels reach ~90 % of nominal on A100/H100
/// (BabelStream results as commonly reported, S/U); 0.85 leaves room for imperfect fusion (A).
pub const HBM_EFFICIENCY: f64 = 0.85;

/// FlashAttention throughput as a fraction of the dense BF16 peak. FlashAttention-2 reaches
/// "50–73 % of the theoretical maximum FLOPs/s on A100" in the forward pass (Dao 2023,
/// arXiv 2307.08691, abstract, P); FlashAttention-3 reaches 740 TFLOP/s = 75 % of H100 BF16
/// (Shah et al. 2024, arXiv 2407.08608, abstract, P). Forward 0.65 (middle of the FA2 range);
/// backward 0.55 (FA2 backward runs ~15 % below its forward in the same paper's figures, U).
pub const FLASH_FWD_FRACTION: f64 = 0.65;
pub const FLASH_BWD_FRACTION: f64 = 0.55;

/// FlashAttention's backward does 2.5 × the forward matmul FLOPs (it recomputes QKᵀ: five
/// matmuls against two; Dao 2023 §3.1.2).
pub const FLASH_BWD_FLOP_RATIO: f64 = 2.5;

/// HBM traffic of an element-wise kernel's backward over its forward: the forward reads its
/// input and writes its output (two tensors); the backward reads the saved input (or output)
/// and the output gradient and writes the input gradient (three tensors) (D). Dropout backward
/// (read gradient and mask, write gradient) is no heavier than its forward, so 1.5 is an upper
/// value for a layer's mix.
pub const BWD_ELEMENTWISE_RATIO: f64 = 1.5;

/// HBM bytes per element of one cast of a BF16 tensor to FP8 with per-tensor current scaling
/// (the Megatron-Bridge "FP8-CS" recipe): an amax pass reads it (2), the cast reads it again (2)
/// and writes a row-wise and a column-wise (transposed) FP8 copy (1 + 1), because Hopper and
/// Blackwell FP8 tensor-core GEMMs take K-major operands only and the weight-gradient GEMM needs
/// the transpose (NVIDIA Transformer Engine documentation, FP8 primer and `Float8CurrentScaling`,
/// P; byte count D).
pub const FP8_CAST_BYTES_PER_ELEMENT: f64 = 6.0;

/// When communication is overlapped with compute, the compute slows down because NCCL kernels
/// take SMs and HBM bandwidth. Fraction of the hidden communication time added back (A):
/// NCCL uses ~8–16 of 132 SMs on H100 for large collectives (NCCL defaults, S), i.e. 6–12 %
/// of compute throughput while a collective runs: 0.1.
pub const OVERLAP_SLOWDOWN: f64 = 0.1;

/// Bytes of optimizer-step HBM traffic per locally updated parameter, mixed-precision Adam with
/// gradient clipping: read fp32 master, m, v and fp32 gradient (16), write master, m, v (12),
/// write the bf16 weight (2), read the gradient again for the norm (4) (D, Megatron-LM's
/// distributed optimizer layout).
pub const OPTIMIZER_BYTES_PER_PARAM: f64 = 34.0;

/// Bytes per parameter held for training (Megatron-LM mixed precision, Korthikanti 2022 §3 and
/// Rajbhandari et al. 2020 ZeRO §3): bf16 weights 2, fp32 gradients 4, fp32 master + Adam m and v
/// 12.
pub const WEIGHT_BYTES: f64 = 2.0;
pub const GRAD_BYTES: f64 = 4.0;
pub const OPTIMIZER_STATE_BYTES: f64 = 12.0;

/// Memory every GPU loses to the CUDA context, NCCL buffers and allocator fragmentation (A:
/// typically 2–5 GiB on 80 GB parts in practice).
pub const RESERVED_BYTES: f64 = 3.0 * 1073741824.0;

/// Activity (fraction of the compute-phase power draw above idle) of each phase kind, for the
/// power model. Compute near TDP, communication and bubbles near idle (Choukse et al. 2025,
/// arXiv 2508.14318, via `calibration/power-cost.md` §1.1, S). The power notes put the
/// "communication or idle-phase draw" at 0.2 × TDP (§8, U), the draw the power model gives
/// activity 0 (its idle draw, 0.2 × TDP): exposed communication is activity 0, not 0.2 (which
/// would draw 0.34 × TDP). The one definition: the power model's synthetic step uses it too.
/// Memory-bound optimizer kernels: half (A).
pub const ACTIVITY_COMPUTE: f64 = 1.0;
pub const ACTIVITY_COMM: f64 = 0.0;
pub const ACTIVITY_BUBBLE: f64 = 0.1;
pub const ACTIVITY_MEMORY_BOUND: f64 = 0.5;
