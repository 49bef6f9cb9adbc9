// Fused CPU passes for the elementwise blocks around a Llama-family layer's products, forward and backward, in
// float32 and bfloat16: RMSNorm, SwiGLU (silu(gate)·up), the rotary position embedding of queries and keys,
// attention's scaled, causally masked softmax, and the loss's cross-entropy with its gradient.
//
// Why: libtorch has no single kernel for any of them (1.13 has none at all; 2.x's rms_norm is the composite
// formula on the CPU), so the written-out formulas cost a pass over memory per operation: RMSNorm in bfloat16
// is a cast up, a square, a mean, a product, a cast down and the weight's product, and its backward twice that;
// SwiGLU saves silu(gate) as a third activation, and 1.13's bfloat16 silu and silu_backward run on scalar code
// (1.7 and 3.2 ms for one 32M-model layer's [4, 256, 1376], against 0.8 and 1.3 ms here on one core); the
// rotary embedding is a concatenation, a product and a fused multiply-add forward, and five passes backward. Each
// kernel below reads its inputs once and writes its outputs once, computing in float32 whatever the storage
// (docs/engine.md, "Fused kernels").
//
// Results match the written-out formulas up to rounding: bfloat16 values are rounded once, where the formulas
// round after every operation, and sums run in another order. Second derivatives (create_graph) take a
// backward built from ATen operations, so they stay exact.
#include <torch/csrc/autograd/autograd.h>
#include <torch/csrc/autograd/custom_function.h>
#include <ATen/Parallel.h>
#include <cstring>
#include "shim_fused.h"
#include "shim_internal.h"

using tb::T;

// Each kernel is compiled for AVX-512, AVX2 and the baseline, and the loader picks the one the CPU runs
// (GCC and Clang function multiversioning). The loops are plain C++ the compiler vectorizes; bfloat16 is
// converted with integer shifts, and exp is written out (below) because the C library's is not vectorized.
#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__)) && !defined(__INTEL_COMPILER)
#define TB_CPU_VARIANTS __attribute__((target_clones("arch=x86-64-v4", "arch=x86-64-v3", "default")))
#else
#define TB_CPU_VARIANTS
#endif
#define TB_INLINE inline __attribute__((always_inline))

namespace {

using bf16_bits = uint16_t;

TB_INLINE float load(const float* p, int64_t i) { return p[i]; }
TB_INLINE float load(const bf16_bits* p, int64_t i) {
  uint32_t u = static_cast<uint32_t>(p[i]) << 16;
  float f;
  std::memcpy(&f, &u, sizeof f);
  return f;
}

TB_INLINE void store(float* p, int64_t i, float v) { p[i] = v; }
// Round to nearest, ties to even, as c10::BFloat16 does; NaN stays a (quiet) NaN.
TB_INLINE void store(bf16_bits* p, int64_t i, float v) {
  uint32_t u;
  std::memcpy(&u, &v, sizeof u);
  const uint32_t rounded = (u + 0x7fffu + ((u >> 16) & 1u)) >> 16;
  const bool nan = (u & 0x7fffffffu) > 0x7f800000u;
  p[i] = static_cast<bf16_bits>(nan ? ((u >> 16) | 0x40u) : rounded);
}

// e^x in float: x = n·ln2 + r with |r| ≤ ln2/2, e^r by Cephes' degree-6 polynomial, 2^n put in the exponent
// bits. Within 2 ulp on [-87, 88]; arguments outside are clamped there (e^-87 ≈ 1.6e-38, e^88 ≈ 1.7e38), which
// is all the logistic function needs.
TB_INLINE float exp_approx(float x) {
  x = x < -87.0f ? -87.0f : (x > 88.0f ? 88.0f : x);
  const float n = __builtin_floorf(x * 1.44269504088896341f + 0.5f);
  const float r = x - n * 0.693359375f + n * 2.12194440e-4f;  // ln2 in two parts, so r keeps its low bits
  float p = 1.9875691500e-4f;
  p = p * r + 1.3981999507e-3f;
  p = p * r + 8.3334519073e-3f;
  p = p * r + 4.1665795894e-2f;
  p = p * r + 1.6666665459e-1f;
  p = p * r + 5.0000001201e-1f;
  p = p * r * r + r + 1.0f;
  const int32_t bits = (static_cast<int32_t>(n) + 127) << 23;
  float scale;
  std::memcpy(&scale, &bits, sizeof scale);
  return p * scale;
}

TB_INLINE float sigmoid(float x) { return 1.0f / (1.0f + exp_approx(-x)); }

// ---- SwiGLU: y = silu(g)·u, silu(g) = g·σ(g) ------------------------------------------------------------

template <typename S>
TB_INLINE void swiglu_forward_body(const S* g, const S* u, S* y, int64_t n) {
#pragma omp simd
  for (int64_t i = 0; i < n; i++) {
    const float a = load(g, i);
    store(y, i, a * sigmoid(a) * load(u, i));
  }
}

// dy/dg = u·σ(g)·(1 + g·(1 − σ(g))), dy/du = silu(g).
template <typename S>
TB_INLINE void swiglu_backward_body(const S* g, const S* u, const S* dy, S* dg, S* du, int64_t n) {
#pragma omp simd
  for (int64_t i = 0; i < n; i++) {
    const float a = load(g, i), b = load(u, i), d = load(dy, i);
    const float s = sigmoid(a);
    store(dg, i, d * b * s * (1.0f + a * (1.0f - s)));
    store(du, i, d * a * s);
  }
}

TB_CPU_VARIANTS void swiglu_forward_f32(const float* g, const float* u, float* y, int64_t n) { swiglu_forward_body(g, u, y, n); }
TB_CPU_VARIANTS void swiglu_forward_bf16(const bf16_bits* g, const bf16_bits* u, bf16_bits* y, int64_t n) { swiglu_forward_body(g, u, y, n); }
TB_CPU_VARIANTS void swiglu_backward_f32(const float* g, const float* u, const float* dy, float* dg, float* du, int64_t n) {
  swiglu_backward_body(g, u, dy, dg, du, n);
}
TB_CPU_VARIANTS void swiglu_backward_bf16(const bf16_bits* g, const bf16_bits* u, const bf16_bits* dy, bf16_bits* dg, bf16_bits* du, int64_t n) {
  swiglu_backward_body(g, u, dy, dg, du, n);
}

// ---- RMSNorm (Llama's): y = w · (x · r) with r = 1/√(mean(x²) + eps) per row, x·r rounded to the storage
// dtype before the weight's product, as transformers' LlamaRMSNorm casts back before multiplying ----------

template <typename S>
TB_INLINE float row_sum_of_squares(const S* x, int64_t h) {
  float sum = 0.0f;
#pragma omp simd reduction(+ : sum)
  for (int64_t j = 0; j < h; j++) sum += load(x, j) * load(x, j);
  return sum;
}

template <typename S>
TB_INLINE void rms_norm_forward_body(const S* x, const S* w, S* y, float* rstd, int64_t rows, int64_t h, float eps) {
  S normed[1];  // one element of x·r in the storage dtype: the rounding the formula applies
  for (int64_t row = 0; row < rows; row++) {
    const S* xr = x + row * h;
    S* yr = y + row * h;
    const float r = 1.0f / __builtin_sqrtf(row_sum_of_squares(xr, h) / static_cast<float>(h) + eps);
    rstd[row] = r;
#pragma omp simd private(normed)
    for (int64_t j = 0; j < h; j++) {
      store(normed, 0, load(xr, j) * r);
      store(yr, j, load(w, j) * load(normed, 0));
    }
  }
}

// With n = x·r and dn = dy·w: dx = r·(dn − n·mean(dn·n)); dw = Σ over rows of dy·round(n), into `dw` (float,
// added to). dx or dw may be null when that gradient is not needed.
template <typename S>
TB_INLINE void rms_norm_backward_body(const S* x, const S* w, const float* rstd, const S* dy, S* dx, float* dw,
                                      int64_t rows, int64_t h) {
  S normed[1];
  for (int64_t row = 0; row < rows; row++) {
    const S* xr = x + row * h;
    const S* dyr = dy + row * h;
    const float r = rstd[row];
    if (dx != nullptr) {
      float dot = 0.0f;
#pragma omp simd reduction(+ : dot)
      for (int64_t j = 0; j < h; j++) dot += load(dyr, j) * load(w, j) * load(xr, j);
      const float c = dot * r * r / static_cast<float>(h);  // mean(dn·n) / r, so that r·(dn − x·r·mean) = r·dn − c·r·x
      S* dxr = dx + row * h;
#pragma omp simd
      for (int64_t j = 0; j < h; j++) store(dxr, j, r * (load(dyr, j) * load(w, j) - c * load(xr, j)));
    }
    if (dw != nullptr) {
#pragma omp simd private(normed)
      for (int64_t j = 0; j < h; j++) {
        store(normed, 0, load(xr, j) * r);
        dw[j] += load(dyr, j) * load(normed, 0);
      }
    }
  }
}

TB_CPU_VARIANTS void rms_norm_forward_f32(const float* x, const float* w, float* y, float* rstd, int64_t rows, int64_t h, float eps) {
  rms_norm_forward_body(x, w, y, rstd, rows, h, eps);
}
TB_CPU_VARIANTS void rms_norm_forward_bf16(const bf16_bits* x, const bf16_bits* w, bf16_bits* y, float* rstd, int64_t rows, int64_t h, float eps) {
  rms_norm_forward_body(x, w, y, rstd, rows, h, eps);
}
TB_CPU_VARIANTS void rms_norm_backward_f32(const float* x, const float* w, const float* rstd, const float* dy, float* dx, float* dw, int64_t rows, int64_t h) {
  rms_norm_backward_body(x, w, rstd, dy, dx, dw, rows, h);
}
TB_CPU_VARIANTS void rms_norm_backward_bf16(const bf16_bits* x, const bf16_bits* w, const float* rstd, const bf16_bits* dy, bf16_bits* dx, float* dw, int64_t rows, int64_t h) {
  rms_norm_backward_body(x, w, rstd, dy, dx, dw, rows, h);
}

// ---- Attention's softmax: p = softmax(scale·s) over each row of scores, keys after the query's position masked
// out when causal (query i sees keys 0..i, top-left aligned as PyTorch's is_causal) ---------------------------

// `valid` keys of one row (the rest are written as 0); `work` holds the row's exponentials in float.
template <typename S>
TB_INLINE void softmax_row_body(const S* x, S* y, float* work, int64_t valid, int64_t width, float scale) {
  float max = -__builtin_inff();
#pragma omp simd reduction(max : max)
  for (int64_t j = 0; j < valid; j++) max = std::max(max, load(x, j) * scale);
  float sum = 0.0f;
#pragma omp simd reduction(+ : sum)
  for (int64_t j = 0; j < valid; j++) {
    const float e = exp_approx(load(x, j) * scale - max);
    work[j] = e;
    sum += e;
  }
  const float inverse = 1.0f / sum;
#pragma omp simd
  for (int64_t j = 0; j < valid; j++) store(y, j, work[j] * inverse);
#pragma omp simd
  for (int64_t j = valid; j < width; j++) store(y, j, 0.0f);
}

// ds = scale · p · (dp − Σ p·dp), one row.
template <typename S>
TB_INLINE void softmax_backward_row_body(const S* p, const S* dp, S* ds, int64_t valid, int64_t width, float scale) {
  float dot = 0.0f;
#pragma omp simd reduction(+ : dot)
  for (int64_t j = 0; j < valid; j++) dot += load(p, j) * load(dp, j);
#pragma omp simd
  for (int64_t j = 0; j < valid; j++) store(ds, j, scale * load(p, j) * (load(dp, j) - dot));
#pragma omp simd
  for (int64_t j = valid; j < width; j++) store(ds, j, 0.0f);
}

// Rows [first, first + count) of a [.., L, S] stack; row r holds the query at position (r % L) / group, which sees
// keys 0..offset + (r % L) / group when causal (offset > 0 for a block of queries that starts later in the sequence
// than its keys; group > 1 when the query heads that share a key/value head lie side by side, one row each per
// position: grouped-query attention).
template <typename S>
TB_INLINE void softmax_rows_body(const S* x, S* y, float* work, int64_t first, int64_t count, int64_t length, int64_t width,
                                 float scale, bool causal, int64_t offset, int64_t group) {
  for (int64_t r = first; r < first + count; r++) {
    const int64_t valid = causal ? std::min(width, offset + r % length / group + 1) : width;
    softmax_row_body(x + r * width, y + r * width, work, valid, width, scale);
  }
}

template <typename S>
TB_INLINE void softmax_backward_rows_body(const S* p, const S* dp, S* ds, int64_t first, int64_t count, int64_t length,
                                          int64_t width, float scale, bool causal, int64_t offset, int64_t group) {
  for (int64_t r = first; r < first + count; r++) {
    const int64_t valid = causal ? std::min(width, offset + r % length / group + 1) : width;
    softmax_backward_row_body(p + r * width, dp + r * width, ds + r * width, valid, width, scale);
  }
}

TB_CPU_VARIANTS void softmax_rows_f32(const float* x, float* y, float* work, int64_t first, int64_t count, int64_t length, int64_t width, float scale, bool causal, int64_t offset, int64_t group) {
  softmax_rows_body(x, y, work, first, count, length, width, scale, causal, offset, group);
}
TB_CPU_VARIANTS void softmax_rows_bf16(const bf16_bits* x, bf16_bits* y, float* work, int64_t first, int64_t count, int64_t length, int64_t width, float scale, bool causal, int64_t offset, int64_t group) {
  softmax_rows_body(x, y, work, first, count, length, width, scale, causal, offset, group);
}
TB_CPU_VARIANTS void softmax_backward_rows_f32(const float* p, const float* dp, float* ds, int64_t first, int64_t count, int64_t length, int64_t width, float scale, bool causal, int64_t offset, int64_t group) {
  softmax_backward_rows_body(p, dp, ds, first, count, length, width, scale, causal, offset, group);
}
TB_CPU_VARIANTS void softmax_backward_rows_bf16(const bf16_bits* p, const bf16_bits* dp, bf16_bits* ds, int64_t first, int64_t count, int64_t length, int64_t width, float scale, bool causal, int64_t offset, int64_t group) {
  softmax_backward_rows_body(p, dp, ds, first, count, length, width, scale, causal, offset, group);
}

// ---- Cross-entropy with its gradient: per row of logits z and target t, loss = logsumexp(z) − z[t] and
// d loss / dz = softmax(z) − one_hot(t), in one pass for the maximum, one for the sum, one writing the gradient --

template <typename S>
TB_INLINE float cross_entropy_row_body(const S* z, int64_t target, S* grad, int64_t width, float scale) {
  float max = -__builtin_inff();
#pragma omp simd reduction(max : max)
  for (int64_t j = 0; j < width; j++) max = std::max(max, load(z, j));
  float sum = 0.0f;
#pragma omp simd reduction(+ : sum)
  for (int64_t j = 0; j < width; j++) sum += exp_approx(load(z, j) - max);
  const float lse = max + __builtin_logf(sum);
  if (grad != nullptr) {
#pragma omp simd
    for (int64_t j = 0; j < width; j++) store(grad, j, scale * exp_approx(load(z, j) - lse));
    store(grad, target, scale * (exp_approx(load(z, target) - lse) - 1.0f));
  }
  return lse - load(z, target);
}

template <typename S>
TB_INLINE void cross_entropy_rows_body(const S* z, const int64_t* targets, S* grad, float* losses, int64_t first, int64_t count,
                                       int64_t width, int64_t ignore_index, float scale) {
  for (int64_t r = first; r < first + count; r++) {
    S* g = grad == nullptr ? nullptr : grad + r * width;
    if (targets[r] == ignore_index) {
      losses[r] = 0.0f;
      if (g != nullptr) {
#pragma omp simd
        for (int64_t j = 0; j < width; j++) store(g, j, 0.0f);
      }
      continue;
    }
    losses[r] = cross_entropy_row_body(z + r * width, targets[r], g, width, scale);
  }
}

TB_CPU_VARIANTS void cross_entropy_rows_f32(const float* z, const int64_t* targets, float* grad, float* losses, int64_t first, int64_t count, int64_t width, int64_t ignore_index, float scale) {
  cross_entropy_rows_body(z, targets, grad, losses, first, count, width, ignore_index, scale);
}
TB_CPU_VARIANTS void cross_entropy_rows_bf16(const bf16_bits* z, const int64_t* targets, bf16_bits* grad, float* losses, int64_t first, int64_t count, int64_t width, int64_t ignore_index, float scale) {
  cross_entropy_rows_body(z, targets, grad, losses, first, count, width, ignore_index, scale);
}

// ---- Rotary position embedding (RoPE): y = x·cos + rotate_half(x)·sin, rotate_half(x) = [x₂, x₁], with the sign
// of rotate_half carried by the sin table (RotaryEmbedding.Compute's: −sin in the first half, +sin in the second) --

// Where the rows of a [B, H, T, D] tensor (any strides, the last one 1) and of its [B or 1, T, D] cos and sin
// tables lie: row r is (b, h, t) = (r / (H·T), r / T % H, r % T).
struct RotaryRows {
  int64_t heads, length, half;
  int64_t in_b, in_h, in_t;     // strides of the input (x forward, dy backward)
  int64_t out_b, out_h, out_t;  // strides of the output
  int64_t table_b, table_t;     // strides of cos and sin (table_b = 0 when one table serves every batch row)
};

// One row, forward: y_j = x_j·c_j + x_{j+h}·s_j and y_{j+h} = x_{j+h}·c_{j+h} + x_j·s_{j+h}.
// Backward (the transpose of that map): dx_j = dy_j·c_j + dy_{j+h}·s_{j+h} and dx_{j+h} = dy_{j+h}·c_{j+h} + dy_j·s_j.
template <typename S>
TB_INLINE void rotary_rows_body(const S* in, const S* c, const S* s, S* out, int64_t first, int64_t count, const RotaryRows& m, bool backward) {
  const int64_t h = m.half;
  for (int64_t r = first; r < first + count; r++) {
    const int64_t b = r / (m.heads * m.length), head = r / m.length % m.heads, t = r % m.length;
    const S* x = in + b * m.in_b + head * m.in_h + t * m.in_t;
    S* y = out + b * m.out_b + head * m.out_h + t * m.out_t;
    const S* cr = c + b * m.table_b + t * m.table_t;
    const S* sr = s + b * m.table_b + t * m.table_t;
    // The two directions differ only in which half of the sin table meets which half of the input.
    const S* s_to_low = backward ? sr + h : sr;
    const S* s_to_high = backward ? sr : sr + h;
#pragma omp simd
    for (int64_t j = 0; j < h; j++) {
      const float lo = load(x, j), hi = load(x, j + h);
      store(y, j, lo * load(cr, j) + hi * load(s_to_low, j));
      store(y, j + h, hi * load(cr, j + h) + lo * load(s_to_high, j));
    }
  }
}

TB_CPU_VARIANTS void rotary_rows_f32(const float* in, const float* c, const float* s, float* out, int64_t first, int64_t count, const RotaryRows& m, bool backward) {
  rotary_rows_body(in, c, s, out, first, count, m, backward);
}
TB_CPU_VARIANTS void rotary_rows_bf16(const bf16_bits* in, const bf16_bits* c, const bf16_bits* s, bf16_bits* out, int64_t first, int64_t count, const RotaryRows& m, bool backward) {
  rotary_rows_body(in, c, s, out, first, count, m, backward);
}

// ---- dispatch ---------------------------------------------------------------------------------------------

template <typename F>
void for_each_chunk(int64_t n, int64_t grain, const F& f) { at::parallel_for(0, n, grain, f); }

template <typename S>
S* ptr(const at::Tensor& t) { return reinterpret_cast<S*>(t.data_ptr()); }

// Elements per task: enough that a thread's share outweighs waking it (a 512-wide layer's row is 1 KB).
constexpr int64_t kGrain = 16384;

at::Tensor swiglu_forward(const at::Tensor& g, const at::Tensor& u) {
  at::Tensor y = at::empty_like(g, at::MemoryFormat::Contiguous);
  const bool bf16 = g.scalar_type() == at::kBFloat16;
  for_each_chunk(g.numel(), kGrain, [&](int64_t begin, int64_t end) {
    if (bf16) swiglu_forward_bf16(ptr<bf16_bits>(g) + begin, ptr<bf16_bits>(u) + begin, ptr<bf16_bits>(y) + begin, end - begin);
    else swiglu_forward_f32(ptr<float>(g) + begin, ptr<float>(u) + begin, ptr<float>(y) + begin, end - begin);
  });
  return y;
}

// The written-out formulas, in ATen operations: the double-backward path.
at::Tensor swiglu_composed(const at::Tensor& g, const at::Tensor& u) { return at::silu(g) * u; }

struct FusedSwiGLU : public torch::autograd::Function<FusedSwiGLU> {
  static at::Tensor forward(torch::autograd::AutogradContext* ctx, const at::Tensor& gate, const at::Tensor& up) {
    ctx->save_for_backward({gate, up});
    return swiglu_forward(gate.contiguous(), up.contiguous());
  }

  static torch::autograd::variable_list backward(torch::autograd::AutogradContext* ctx, torch::autograd::variable_list grads) {
    const auto saved = ctx->get_saved_variables();
    if (at::GradMode::is_enabled()) return tb::composed_gradients(swiglu_composed(saved[0], saved[1]), {saved[0], saved[1]}, grads[0]);
    const at::Tensor g = saved[0].contiguous(), u = saved[1].contiguous();
    const at::Tensor dy = grads[0].to(g.scalar_type()).contiguous();
    at::Tensor dg = at::empty_like(g), du = at::empty_like(u);
    const bool bf16 = g.scalar_type() == at::kBFloat16;
    for_each_chunk(g.numel(), kGrain, [&](int64_t begin, int64_t end) {
      const int64_t n = end - begin;
      if (bf16)
        swiglu_backward_bf16(ptr<bf16_bits>(g) + begin, ptr<bf16_bits>(u) + begin, ptr<bf16_bits>(dy) + begin,
                             ptr<bf16_bits>(dg) + begin, ptr<bf16_bits>(du) + begin, n);
      else
        swiglu_backward_f32(ptr<float>(g) + begin, ptr<float>(u) + begin, ptr<float>(dy) + begin, ptr<float>(dg) + begin,
                            ptr<float>(du) + begin, n);
    });
    return {dg, du};
  }
};

at::Tensor rms_norm_composed(const at::Tensor& x, const at::Tensor& w, double eps) {
  const at::Tensor xf = x.to(at::kFloat);
  const at::Tensor normed = xf * at::rsqrt(xf.pow(2).mean(-1, true) + eps);
  return w * normed.to(x.scalar_type());
}

struct FusedRMSNorm : public torch::autograd::Function<FusedRMSNorm> {
  static at::Tensor forward(torch::autograd::AutogradContext* ctx, const at::Tensor& input, const at::Tensor& weight, double eps) {
    const at::Tensor x = input.contiguous(), w = weight.contiguous();
    const int64_t h = x.size(-1), rows = h == 0 ? 0 : x.numel() / h;
    at::Tensor y = at::empty_like(x, at::MemoryFormat::Contiguous);
    at::Tensor rstd = at::empty({rows}, x.options().dtype(at::kFloat).requires_grad(false));
    const bool bf16 = x.scalar_type() == at::kBFloat16;
    for_each_chunk(rows, std::max<int64_t>(1, kGrain / std::max<int64_t>(1, h)), [&](int64_t begin, int64_t end) {
      float* r = rstd.data_ptr<float>() + begin;
      if (bf16) rms_norm_forward_bf16(ptr<bf16_bits>(x) + begin * h, ptr<bf16_bits>(w), ptr<bf16_bits>(y) + begin * h, r, end - begin, h, static_cast<float>(eps));
      else rms_norm_forward_f32(ptr<float>(x) + begin * h, ptr<float>(w), ptr<float>(y) + begin * h, r, end - begin, h, static_cast<float>(eps));
    });
    ctx->save_for_backward({input, weight, rstd});
    ctx->saved_data["eps"] = eps;
    return y;
  }

  static torch::autograd::variable_list backward(torch::autograd::AutogradContext* ctx, torch::autograd::variable_list grads) {
    const auto saved = ctx->get_saved_variables();
    if (at::GradMode::is_enabled()) {
      auto d = tb::composed_gradients(rms_norm_composed(saved[0], saved[1], ctx->saved_data["eps"].toDouble()), {saved[0], saved[1]}, grads[0]);
      return {d[0], d[1], at::Tensor()};
    }
    const at::Tensor x = saved[0].contiguous(), w = saved[1].contiguous(), &rstd = saved[2];
    const bool need_dx = ctx->needs_input_grad(0), need_dw = ctx->needs_input_grad(1);
    const at::Tensor dy = grads[0].to(x.scalar_type()).contiguous();
    const int64_t h = x.size(-1), rows = h == 0 ? 0 : x.numel() / h;
    at::Tensor dx = need_dx ? at::empty_like(x) : at::Tensor();
    // The weight's gradient sums over rows: each chunk of rows adds into its own float row of `partial`, summed
    // at the end, so the result depends on the thread count alone, not on scheduling.
    const int64_t chunks = need_dw ? std::max<int64_t>(1, std::min<int64_t>(rows, at::get_num_threads())) : 1;
    at::Tensor partial = need_dw ? at::zeros({chunks, h}, x.options().dtype(at::kFloat).requires_grad(false)) : at::Tensor();
    const int64_t per_chunk = (rows + chunks - 1) / chunks;
    const bool bf16 = x.scalar_type() == at::kBFloat16;
    at::parallel_for(0, chunks, 1, [&](int64_t begin, int64_t end) {
      for (int64_t c = begin; c < end; c++) {
        const int64_t first = c * per_chunk, n = std::min(rows, first + per_chunk) - first;
        if (n <= 0) continue;
        float* dw = need_dw ? partial.data_ptr<float>() + c * h : nullptr;
        const float* r = rstd.data_ptr<float>() + first;
        if (bf16)
          rms_norm_backward_bf16(ptr<bf16_bits>(x) + first * h, ptr<bf16_bits>(w), r, ptr<bf16_bits>(dy) + first * h,
                                 need_dx ? ptr<bf16_bits>(dx) + first * h : nullptr, dw, n, h);
        else
          rms_norm_backward_f32(ptr<float>(x) + first * h, ptr<float>(w), r, ptr<float>(dy) + first * h,
                                need_dx ? ptr<float>(dx) + first * h : nullptr, dw, n, h);
      }
    });
    at::Tensor dw = need_dw ? partial.sum(0).to(w.scalar_type()).view(w.sizes()) : at::Tensor();
    return {dx, dw, at::Tensor()};
  }
};

struct FusedSoftmax : public torch::autograd::Function<FusedSoftmax> {
  static at::Tensor forward(torch::autograd::AutogradContext* ctx, const at::Tensor& scores, double scale, bool causal) {
    at::Tensor y = causal ? tb::fused_softmax(scores, scale, 0) : tb::fused_softmax(scores, scale, -1);
    // The backward needs the weights alone (not the scores, which would double what attention keeps alive).
    ctx->save_for_backward({y});
    ctx->saved_data["scale"] = scale;
    ctx->saved_data["causal"] = causal;
    return y;
  }

  static torch::autograd::variable_list backward(torch::autograd::AutogradContext* ctx, torch::autograd::variable_list grads) {
    const auto saved = ctx->get_saved_variables();
    const double scale = ctx->saved_data["scale"].toDouble();
    const bool causal = ctx->saved_data["causal"].toBool();
    const at::Tensor& p = saved[0];
    // create_graph: the same formula in ATen operations, differentiable through the saved weights (this
    // Function's output), as ATen's own softmax backward is. Masked keys have p = 0, so their gradient is 0.
    if (at::GradMode::is_enabled()) return {(p * (grads[0] - (p * grads[0]).sum(-1, true))) * scale, at::Tensor(), at::Tensor()};
    return {tb::fused_softmax_backward(p, grads[0], scale, causal ? 0 : -1), at::Tensor(), at::Tensor()};
  }
};

// rotate_half written out: [x₂, x₁] over the last dimension (its own inverse, so also its transpose).
at::Tensor swap_halves(const at::Tensor& x) {
  const int64_t half = x.size(-1) / 2;
  return at::cat({x.narrow(-1, half, half), x.narrow(-1, 0, half)}, -1);
}

// x [B, H, T, D] (last stride 1) into `out` (same sizes, any strides) with cos and sin [B or 1, T, D] (contiguous).
void rotary_apply(const at::Tensor& x, const at::Tensor& cos, const at::Tensor& sin, at::Tensor& out, bool backward) {
  RotaryRows m{x.size(1), x.size(2), x.size(3) / 2, x.stride(0), x.stride(1), x.stride(2), out.stride(0), out.stride(1), out.stride(2),
               cos.size(0) == 1 ? 0 : cos.stride(0), cos.stride(1)};
  const int64_t rows = x.size(3) == 0 ? 0 : x.numel() / x.size(3);
  const bool bf16 = x.scalar_type() == at::kBFloat16;
  at::parallel_for(0, rows, std::max<int64_t>(1, kGrain / std::max<int64_t>(1, x.size(3))), [&](int64_t begin, int64_t end) {
    if (bf16) rotary_rows_bf16(ptr<bf16_bits>(x), ptr<bf16_bits>(cos), ptr<bf16_bits>(sin), ptr<bf16_bits>(out), begin, end - begin, m, backward);
    else rotary_rows_f32(ptr<float>(x), ptr<float>(cos), ptr<float>(sin), ptr<float>(out), begin, end - begin, m, backward);
  });
}

// A rotation is linear in x, so only the tables are kept. The output is a contiguous [B, H, T, D] (what attention's
// products read); the input's gradient takes the input's layout (the transposed view of a projection's output, as a
// rule), so that the gradient flows back into the projection without a copy.
struct FusedRotary : public torch::autograd::Function<FusedRotary> {
  static at::Tensor forward(torch::autograd::AutogradContext* ctx, const at::Tensor& input, const at::Tensor& cos, const at::Tensor& sin) {
    const at::Tensor x = input.stride(-1) == 1 ? input : input.contiguous();
    const at::Tensor c = cos.contiguous(), s = sin.contiguous();
    at::Tensor y = at::empty(x.sizes(), x.options());
    rotary_apply(x, c, s, y, false);
    ctx->save_for_backward({c, s});
    if (input.is_non_overlapping_and_dense() && input.stride(-1) == 1) ctx->saved_data["strides"] = input.strides().vec();
    return y;
  }

  static torch::autograd::variable_list backward(torch::autograd::AutogradContext* ctx, torch::autograd::variable_list grads) {
    const auto saved = ctx->get_saved_variables();
    const at::Tensor c = saved[0].unsqueeze(1), s = saved[1].unsqueeze(1);
    // create_graph: the transpose written out, dy·cos + rotate_half(dy·sin), differentiable in dy.
    if (at::GradMode::is_enabled()) return {grads[0] * c + swap_halves(grads[0] * s), at::Tensor(), at::Tensor()};
    at::Tensor dy = grads[0].to(saved[0].scalar_type());
    if (dy.stride(-1) != 1) dy = dy.contiguous();
    // The input's layout when that was dense (its strides were recorded, the input itself is not kept), else contiguous.
    at::Tensor dx = ctx->saved_data.count("strides") != 0
        ? at::empty_strided(dy.sizes(), ctx->saved_data["strides"].toIntVector(), dy.options())
        : at::empty(dy.sizes(), dy.options());
    rotary_apply(dy, saved[0], saved[1], dx, true);
    return {dx, at::Tensor(), at::Tensor()};
  }
};

void check_same(const at::Tensor& a, const at::Tensor& b, const char* what) {
  if (!tb::fusable(a) || !tb::fusable(b) || a.scalar_type() != b.scalar_type())
    throw std::invalid_argument(std::string(what) + ": expected CPU float32 or bfloat16 tensors of one dtype, got " +
                                std::string(c10::toString(a.scalar_type())) + " on " + a.device().str() + " and " +
                                std::string(c10::toString(b.scalar_type())) + " on " + b.device().str());
}

}  // namespace

namespace tb {

torch::autograd::variable_list composed_gradients(const at::Tensor& y, const std::vector<at::Tensor>& inputs, const at::Tensor& grad) {
  std::vector<at::Tensor> wrt;
  for (const auto& t : inputs)
    if (t.requires_grad()) wrt.push_back(t);
  auto d = torch::autograd::grad({y}, wrt, {grad}, true, true, true);
  torch::autograd::variable_list out;
  size_t k = 0;
  for (const auto& t : inputs) out.push_back(t.requires_grad() ? d[k++] : at::Tensor());
  return out;
}

bool fusable(const at::Tensor& t) {
  return t.defined() && t.layout() == at::kStrided && t.device().is_cpu() &&
         (t.scalar_type() == at::kFloat || t.scalar_type() == at::kBFloat16) && !t.is_conj() && !t.is_neg();
}

at::Tensor fused_softmax(const at::Tensor& scores, double scale, int64_t causal_offset, int64_t group) {
  const at::Tensor x = scores.contiguous();
  const bool causal = causal_offset >= 0;
  const int64_t width = x.size(-1), length = x.dim() >= 2 ? x.size(-2) : 1, rows = width == 0 ? 0 : x.numel() / width;
  at::Tensor y = at::empty_like(x, at::MemoryFormat::Contiguous);
  const bool bf16 = x.scalar_type() == at::kBFloat16;
  at::parallel_for(0, rows, std::max<int64_t>(1, kGrain / std::max<int64_t>(1, width)), [&](int64_t begin, int64_t end) {
    std::vector<float> work(static_cast<size_t>(width));
    if (bf16) softmax_rows_bf16(ptr<bf16_bits>(x), ptr<bf16_bits>(y), work.data(), begin, end - begin, length, width, static_cast<float>(scale), causal, causal_offset, group);
    else softmax_rows_f32(ptr<float>(x), ptr<float>(y), work.data(), begin, end - begin, length, width, static_cast<float>(scale), causal, causal_offset, group);
  });
  return y;
}

at::Tensor fused_softmax_backward(const at::Tensor& weights, const at::Tensor& grad, double scale, int64_t causal_offset, int64_t group) {
  const at::Tensor p = weights.contiguous();
  const at::Tensor dp = grad.to(p.scalar_type()).contiguous();
  const bool causal = causal_offset >= 0;
  const int64_t width = p.size(-1), length = p.dim() >= 2 ? p.size(-2) : 1, rows = width == 0 ? 0 : p.numel() / width;
  at::Tensor ds = at::empty_like(p);
  const bool bf16 = p.scalar_type() == at::kBFloat16;
  at::parallel_for(0, rows, std::max<int64_t>(1, kGrain / std::max<int64_t>(1, width)), [&](int64_t begin, int64_t end) {
    if (bf16) softmax_backward_rows_bf16(ptr<bf16_bits>(p), ptr<bf16_bits>(dp), ptr<bf16_bits>(ds), begin, end - begin, length, width, static_cast<float>(scale), causal, causal_offset, group);
    else softmax_backward_rows_f32(ptr<float>(p), ptr<float>(dp), ptr<float>(ds), begin, end - begin, length, width, static_cast<float>(scale), causal, causal_offset, group);
  });
  return ds;
}

}  // namespace tb

TB_API tb_tensor tb_swiglu(tb_tensor gate, tb_tensor up) {
  TB_GUARD_BEGIN
  const at::Tensor &g = T(gate), &u = T(up);
  check_same(g, u, "swiglu");
  if (!g.sizes().equals(u.sizes()))
    throw std::invalid_argument("swiglu: gate and up must have the same shape, got " + c10::str(g.sizes()) + " and " + c10::str(u.sizes()));
  return tb::wrap(FusedSwiGLU::apply(g, u));
  TB_GUARD_END(nullptr)
}

TB_API tb_tensor tb_rms_norm(tb_tensor input, tb_tensor weight, double eps) {
  TB_GUARD_BEGIN
  const at::Tensor &x = T(input), &w = T(weight);
  check_same(x, w, "rms_norm");
  if (x.dim() < 1 || w.dim() != 1 || w.size(0) != x.size(-1))
    throw std::invalid_argument("rms_norm: weight must be [" + std::to_string(x.dim() < 1 ? 0 : x.size(-1)) +
                                "] to match the input's last dimension, got " + c10::str(w.sizes()) + " for input " + c10::str(x.sizes()));
  return tb::wrap(FusedRMSNorm::apply(x, w, eps));
  TB_GUARD_END(nullptr)
}

TB_API tb_tensor tb_softmax_scaled(tb_tensor scores, double scale, int32_t causal) {
  TB_GUARD_BEGIN
  const at::Tensor& x = T(scores);
  check_same(x, x, "softmax_scaled");
  if (x.dim() < 1) throw std::invalid_argument("softmax_scaled: expected scores with at least one dimension, got a scalar");
  if (causal != 0 && x.dim() < 2) throw std::invalid_argument("softmax_scaled: a causal mask needs [.., L, S] scores, got " + c10::str(x.sizes()));
  return tb::wrap(FusedSoftmax::apply(x, scale, causal != 0));
  TB_GUARD_END(nullptr)
}

TB_API tb_tensor tb_cross_entropy_with_gradient(tb_tensor logits, tb_tensor targets, int64_t ignore_index, double scale,
                                                int32_t want_gradient, tb_tensor* gradient) {
  TB_GUARD_BEGIN
  const at::Tensor z = T(logits).contiguous();
  const at::Tensor& t = T(targets);
  check_same(z, z, "cross_entropy_with_gradient");
  if (z.dim() != 2 || t.dim() != 1 || t.size(0) != z.size(0) || t.scalar_type() != at::kLong || !t.device().is_cpu())
    throw std::invalid_argument("cross_entropy_with_gradient: expected logits [N, V] and int64 targets [N] on the CPU, got " +
                                c10::str(z.sizes()) + " and " + std::string(c10::toString(t.scalar_type())) + " " + c10::str(t.sizes()));
  const at::Tensor targets_c = t.contiguous();
  const int64_t rows = z.size(0), width = z.size(1);
  const int64_t* tp = targets_c.data_ptr<int64_t>();
  for (int64_t r = 0; r < rows; r++)
    if (tp[r] != ignore_index && (tp[r] < 0 || tp[r] >= width))
      throw std::invalid_argument("cross_entropy_with_gradient: target " + std::to_string(tp[r]) + " at row " + std::to_string(r) +
                                  " is outside 0.." + std::to_string(width - 1) + " and is not ignore_index (" + std::to_string(ignore_index) + ")");
  if (width == 0 && rows > 0) throw std::invalid_argument("cross_entropy_with_gradient: logits have no classes");
  at::NoGradGuard no_grad;
  at::Tensor losses = at::empty({rows}, z.options().dtype(at::kFloat));
  at::Tensor grad = want_gradient != 0 ? at::empty_like(z) : at::Tensor();
  const bool bf16 = z.scalar_type() == at::kBFloat16;
  at::parallel_for(0, rows, std::max<int64_t>(1, kGrain / std::max<int64_t>(1, width)), [&](int64_t begin, int64_t end) {
    float* lp = losses.data_ptr<float>();
    if (bf16) cross_entropy_rows_bf16(ptr<bf16_bits>(z), tp, grad.defined() ? ptr<bf16_bits>(grad) : nullptr, lp, begin, end - begin, width, ignore_index, static_cast<float>(scale));
    else cross_entropy_rows_f32(ptr<float>(z), tp, grad.defined() ? ptr<float>(grad) : nullptr, lp, begin, end - begin, width, ignore_index, static_cast<float>(scale));
  });
  if (gradient != nullptr) *gradient = grad.defined() ? tb::wrap(grad) : nullptr;
  return tb::wrap(losses.sum());
  TB_GUARD_END(nullptr)
}

TB_API tb_tensor tb_rotary(tb_tensor input, tb_tensor cos, tb_tensor sin) {
  TB_GUARD_BEGIN
  const at::Tensor &x = T(input), &c = T(cos), &s = T(sin);
  check_same(x, c, "rotary");
  check_same(x, s, "rotary");
  if (x.dim() != 4 || c.dim() != 3 || !c.sizes().equals(s.sizes()) || (c.size(0) != 1 && c.size(0) != x.size(0)) ||
      c.size(1) != x.size(2) || c.size(2) != x.size(3) || x.size(3) % 2 != 0)
    throw std::invalid_argument("rotary: expected x [B, H, T, D] with D even and cos, sin [B or 1, T, D], got " + c10::str(x.sizes()) +
                                ", " + c10::str(c.sizes()) + " and " + c10::str(s.sizes()));
  if (c.requires_grad() || s.requires_grad())
    throw std::invalid_argument("rotary: the fused kernel gives no gradient for the cos and sin tables (they must not require one)");
  return tb::wrap(FusedRotary::apply(x, c, s));
  TB_GUARD_END(nullptr)
}
