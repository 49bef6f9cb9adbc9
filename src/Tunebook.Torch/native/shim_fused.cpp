// Fused CPU passes for the two elementwise blocks of every Llama-family layer: SwiGLU (silu(gate)·up) and
// RMSNorm, forward and backward, in float32 and bfloat16.
//
// Why: libtorch has no single kernel for either (1.13 has none at all; 2.x's rms_norm is the composite
// formula on the CPU), so the written-out formulas cost a pass over memory per operation: RMSNorm in bfloat16
// is a cast up, a square, a mean, a product, a cast down and the weight's product, and its backward twice that;
// SwiGLU saves silu(gate) as a third activation, and 1.13's bfloat16 silu and silu_backward run on scalar code
// (1.7 and 3.2 ms for one 32M-model layer's [4, 256, 1376], against 0.8 and 1.3 ms here on one core). Each
// kernel below reads its inputs once and writes its outputs once, computing in float32 whatever the storage.
//
// Results match the written-out formulas up to rounding: bfloat16 values are rounded once, where the formulas
// round after every operation, and sums run in another order. Second derivatives (create_graph) take the
// written-out backward, built from ATen operations, so they stay exact.
#include <torch/csrc/autograd/autograd.h>
#include <torch/csrc/autograd/custom_function.h>
#include <ATen/Parallel.h>
#include <cstring>
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

// ---- dispatch ---------------------------------------------------------------------------------------------

bool fusable(const at::Tensor& t) {
  return t.defined() && t.layout() == at::kStrided && t.device().is_cpu() &&
         (t.scalar_type() == at::kFloat || t.scalar_type() == at::kBFloat16) && !t.is_conj() && !t.is_neg();
}

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

// create_graph: the gradients of the written-out formula `y` with respect to `inputs` (those that need one),
// computed with ATen operations so that they carry a graph of their own.
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

struct FusedSwiGLU : public torch::autograd::Function<FusedSwiGLU> {
  static at::Tensor forward(torch::autograd::AutogradContext* ctx, const at::Tensor& gate, const at::Tensor& up) {
    ctx->save_for_backward({gate, up});
    return swiglu_forward(gate.contiguous(), up.contiguous());
  }

  static torch::autograd::variable_list backward(torch::autograd::AutogradContext* ctx, torch::autograd::variable_list grads) {
    const auto saved = ctx->get_saved_variables();
    if (at::GradMode::is_enabled()) return composed_gradients(swiglu_composed(saved[0], saved[1]), {saved[0], saved[1]}, grads[0]);
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
      auto d = composed_gradients(rms_norm_composed(saved[0], saved[1], ctx->saved_data["eps"].toDouble()), {saved[0], saved[1]}, grads[0]);
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

void check_same(const at::Tensor& a, const at::Tensor& b, const char* what) {
  if (!fusable(a) || !fusable(b) || a.scalar_type() != b.scalar_type())
    throw std::invalid_argument(std::string(what) + ": expected CPU float32 or bfloat16 tensors of one dtype, got " +
                                std::string(c10::toString(a.scalar_type())) + " on " + a.device().str() + " and " +
                                std::string(c10::toString(b.scalar_type())) + " on " + b.device().str());
}

}  // namespace

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
