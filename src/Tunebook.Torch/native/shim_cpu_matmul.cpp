// Float32 matrix products on the CPU through oneDNN's sgemm instead of libtorch's BLAS.
//
// Why: a libtorch built without MKL (Debian's, for one) sends float32 products to OpenBLAS, which runs them on
// its own pthread pool while every other operation runs on libtorch's OpenMP pool; in a training step the two
// pools' idle threads wait on the cores the other one needs. The kernels are not faster: each library alone
// multiplies the training shapes at the same rate. oneDNN runs on libtorch's OpenMP threads, so with the
// step's products on it one pool does all the work (docs/engine.md, "Float32 products on the CPU"). It is
// already in the process (libtorch's mkldnn ops and bfloat16 products use it); its C API is found at run
// time, and where libtorch does not export it (builds that link oneDNN statically and hide it) everything
// stays on ATen.
//
// Products go through one autograd Function, OneDnnMatmul (C = A·B, or a stack of them): linear is A = x,
// B = Wᵀ, and its backward is two more products of the same Function (so create_graph works too). Only the
// inputs that need a gradient are saved, as ATen's own formulas do, so a frozen weight keeps no activation
// alive.
#include <dlfcn.h>
#include <torch/csrc/autograd/custom_function.h>
#include <ATen/Parallel.h>
#include <atomic>
#include "shim_internal.h"

using tb::T;

namespace {

// oneDNN's C API (dnnl.h, stable since oneDNN 1.0): row-major C = alpha·op(A)·op(B) + beta·C.
using sgemm_fn = int (*)(char transa, char transb, int64_t M, int64_t N, int64_t K, float alpha, const float* A,
                         int64_t lda, const float* B, int64_t ldb, float beta, float* C, int64_t ldc);
struct dnnl_version_t { int major, minor, patch; const char* hash; };
using version_fn = const dnnl_version_t* (*)();
using omp_set_num_threads_fn = void (*)(int);

struct OneDnn {
  sgemm_fn sgemm = nullptr;
  omp_set_num_threads_fn set_omp_threads = nullptr;
  std::string version;
};

const OneDnn& onednn() {
  static const OneDnn lib = [] {
    OneDnn l;
    // Look only where libtorch's own dependencies put it: RTLD_DEFAULT finds a libdnnl that libtorch
    // linked, or symbols libtorch itself exports; nothing new is loaded.
    l.sgemm = reinterpret_cast<sgemm_fn>(dlsym(RTLD_DEFAULT, "dnnl_sgemm"));
    if (l.sgemm == nullptr) return l;
    if (auto v = reinterpret_cast<version_fn>(dlsym(RTLD_DEFAULT, "dnnl_version")); v != nullptr && v() != nullptr)
      l.version = std::to_string(v()->major) + "." + std::to_string(v()->minor) + "." + std::to_string(v()->patch);
    l.set_omp_threads = reinterpret_cast<omp_set_num_threads_fn>(dlsym(RTLD_DEFAULT, "omp_set_num_threads"));
    return l;
  }();
  return lib;
}

// 0: ATen (libtorch's BLAS), 1: oneDNN. The default is chosen in C# (torch.cpu_matmul).
std::atomic<int> g_use_onednn{0};

// One matrix of an operand as sgemm reads it: rows contiguous ('N') or columns contiguous ('T'), with its
// leading dimension. `t` is the tensor the pointers come from (a copy when the layout is neither).
struct Operand {
  at::Tensor t;
  char trans;
  int64_t ld;
};

// x is [rows, cols] or [batch, rows, cols]; only the last two dimensions' strides matter to sgemm.
Operand as_operand(const at::Tensor& x) {
  const int64_t rows = x.size(-2), cols = x.size(-1), rs = x.stride(-2), cs = x.stride(-1);
  if (cs == 1 && rs >= std::max<int64_t>(1, cols)) return {x, 'N', rs};
  if (rs == 1 && cs >= std::max<int64_t>(1, rows)) return {x, 'T', cs};
  at::Tensor c = x.contiguous();
  return {c, 'N', std::max<int64_t>(1, cols)};
}

bool is_plain_cpu_float(const at::Tensor& t) {
  return t.defined() && t.layout() == at::kStrided && t.device().is_cpu() && t.scalar_type() == at::kFloat &&
         !t.is_conj() && !t.is_neg();
}

// Products of M·N·K up to this run on the calling thread alone in OpenBLAS (its GEMM_MULTITHREAD_THRESHOLD
// of 4 × 65536), so they wake no second pool, and oneDNN's per-call setup would only cost time there (the
// attention of one decoded token, for one).
constexpr int64_t kSingleThreadedWork = int64_t{1} << 18;

bool size_takes_onednn(int64_t M, int64_t K, int64_t N) {
  if (g_use_onednn.load(std::memory_order_relaxed) == 0 || onednn().sgemm == nullptr) return false;
  if (M <= 0 || K <= 0 || N <= 0) return false;  // empty products stay with ATen, which defines them
  return static_cast<double>(M) * static_cast<double>(K) * static_cast<double>(N) > static_cast<double>(kSingleThreadedWork);
}

// Whether a·b goes to oneDNN: float32 CPU matrices ([M, K]·[K, N]) or stacks of them with the same count
// ([n, M, K]·[n, K, N]), each product above the single-threaded size.
bool takes_onednn(const at::Tensor& a, const at::Tensor& b) {
  if (!is_plain_cpu_float(a) || !is_plain_cpu_float(b) || a.dim() != b.dim() || (a.dim() != 2 && a.dim() != 3)) return false;
  if (a.dim() == 3 && (a.size(0) != b.size(0) || a.size(0) == 0)) return false;
  return a.size(-1) == b.size(-2) && size_takes_onednn(a.size(-2), a.size(-1), b.size(-1));
}

void check_status(int status, int64_t M, int64_t K, int64_t N) {
  if (status != 0)
    throw std::runtime_error("oneDNN sgemm failed with status " + std::to_string(status) + " for [" + std::to_string(M) +
                             ", " + std::to_string(K) + "] x [" + std::to_string(K) + ", " + std::to_string(N) + "]");
}

at::Tensor sgemm(const at::Tensor& a, const at::Tensor& b) {
  const Operand A = as_operand(a), B = as_operand(b);
  const int64_t M = a.size(-2), K = a.size(-1), N = b.size(-1);
  const float* pa = A.t.data_ptr<float>();
  const float* pb = B.t.data_ptr<float>();
  // oneDNN's OpenMP regions take the calling thread's team size; libtorch's count is the one users set.
  const int threads = at::get_num_threads();
  if (onednn().set_omp_threads != nullptr) onednn().set_omp_threads(threads);
  if (a.dim() == 2) {
    at::Tensor c = at::empty({M, N}, a.options().requires_grad(false));  // beta = 0: C is never read
    check_status(onednn().sgemm(A.trans, B.trans, M, N, K, 1.0f, pa, A.ld, pb, B.ld, 0.0f, c.data_ptr<float>(), N), M, K, N);
    return c;
  }
  // A stack: the matrices share out the threads (oneDNN runs one thread inside a parallel region) when there
  // are enough of them to keep every thread busy, else each product uses all threads in turn.
  const int64_t n = a.size(0), sa = A.t.stride(0), sb = B.t.stride(0);
  at::Tensor c = at::empty({n, M, N}, a.options().requires_grad(false));
  float* pc = c.data_ptr<float>();
  auto run = [&](int64_t begin, int64_t end) {
    for (int64_t i = begin; i < end; ++i)
      check_status(onednn().sgemm(A.trans, B.trans, M, N, K, 1.0f, pa + i * sa, A.ld, pb + i * sb, B.ld, 0.0f,
                                  pc + i * M * N, N), M, K, N);
  };
  if (n >= threads) at::parallel_for(0, n, 1, run);
  else run(0, n);
  return c;
}

struct OneDnnMatmul : public torch::autograd::Function<OneDnnMatmul> {
  static at::Tensor forward(torch::autograd::AutogradContext* ctx, const at::Tensor& a, const at::Tensor& b) {
    // d/dA = G·Bᵀ needs B; d/dB = Aᵀ·G needs A. Only what a gradient needs is kept alive.
    ctx->save_for_backward({b.requires_grad() ? a : at::Tensor(), a.requires_grad() ? b : at::Tensor()});
    return sgemm(a, b);
  }

  static torch::autograd::variable_list backward(torch::autograd::AutogradContext* ctx,
                                                 torch::autograd::variable_list grads) {
    const auto saved = ctx->get_saved_variables();
    const at::Tensor& g = grads[0];
    at::Tensor grad_a, grad_b;
    if (ctx->needs_input_grad(0)) grad_a = tb::cpu_matmul(g, saved[1].transpose(-2, -1));
    if (ctx->needs_input_grad(1)) grad_b = tb::cpu_matmul(saved[0].transpose(-2, -1), g);
    return {grad_a, grad_b};
  }
};

// [.., M, K]·[K, N] as one [rows, K]·[K, N] product on oneDNN (the caller checked that it takes it), viewed
// back to [.., N].
at::Tensor rows_times(const at::Tensor& rows, const at::Tensor& a, const at::Tensor& b) {
  at::Tensor y = OneDnnMatmul::apply(rows, b);
  std::vector<int64_t> sizes = a.sizes().vec();
  sizes.back() = b.size(1);
  return y.view(sizes);
}

}  // namespace

namespace tb {

at::Tensor cpu_mm(const at::Tensor& a, const at::Tensor& b) {
  if (a.dim() != 2 || b.dim() != 2 || !takes_onednn(a, b)) return at::mm(a, b);
  return OneDnnMatmul::apply(a, b);
}

at::Tensor cpu_matmul(const at::Tensor& a, const at::Tensor& b) {
  // Stacks with the same leading dimensions fold into one [n, M, K]·[n, K, N] product (a view whenever the
  // leading dimensions are contiguous among themselves); [.., M, K]·[K, N] folds into one [.., K]·[K, N].
  // Broadcasting, vectors and empty operands (which reshape(-1, ..) cannot fold) are left to at::matmul.
  if (a.numel() == 0 || b.numel() == 0) return at::matmul(a, b);
  if (a.dim() >= 2 && b.dim() == 2) {
    const at::Tensor rows = a.dim() == 2 ? a : a.reshape({-1, a.size(-1)});
    return takes_onednn(rows, b) ? rows_times(rows, a, b) : at::matmul(a, b);
  }
  if (a.dim() >= 3 && a.dim() == b.dim() && a.sizes().slice(0, a.dim() - 2).equals(b.sizes().slice(0, b.dim() - 2))) {
    const at::Tensor sa = a.reshape({-1, a.size(-2), a.size(-1)});
    const at::Tensor sb = b.reshape({-1, b.size(-2), b.size(-1)});
    if (!takes_onednn(sa, sb)) return at::matmul(a, b);
    at::Tensor y = OneDnnMatmul::apply(sa, sb);
    std::vector<int64_t> sizes = a.sizes().vec();
    sizes.back() = b.size(-1);
    return y.view(sizes);
  }
  return at::matmul(a, b);
}

bool cpu_linear(const at::Tensor& x, const at::Tensor& w, const at::Tensor* bias, at::Tensor& out) {
  if (x.dim() < 2 || w.dim() != 2 || x.size(-1) != w.size(1) || x.numel() == 0 || w.numel() == 0) return false;
  if (bias != nullptr && (!is_plain_cpu_float(*bias) || bias->dim() != 1 || bias->size(0) != w.size(0))) return false;
  const at::Tensor rows = x.reshape({-1, x.size(-1)});
  const at::Tensor wt = w.t();
  if (!takes_onednn(rows, wt)) return false;
  out = rows_times(rows, x, wt);
  if (bias != nullptr) out = out + *bias;
  return true;
}

}  // namespace tb

TB_API const char* tb_onednn_version(void) {
  // Empty when libtorch does not expose oneDNN's sgemm (the C# side reads that as "not available").
  return onednn().sgemm == nullptr ? "" : (onednn().version.empty() ? "unknown" : onednn().version.c_str());
}

TB_API int32_t tb_has_mkl(void) { return at::hasMKL() ? 1 : 0; }

TB_API int32_t tb_set_cpu_matmul_onednn(int32_t on) {
  if (on != 0 && onednn().sgemm == nullptr) {
    tb::set_error("oneDNN's sgemm is not available in this libtorch");
    return -1;
  }
  g_use_onednn.store(on != 0 ? 1 : 0);
  return 0;
}

TB_API int32_t tb_cpu_matmul_onednn(void) { return g_use_onednn.load(); }

TB_API int32_t tb_cpu_matmul_takes(int64_t m, int64_t k, int64_t n) { return size_takes_onednn(m, k, n) ? 1 : 0; }

TB_API tb_tensor tb_mm(tb_tensor a, tb_tensor b) {
  TB_GUARD_BEGIN
  return tb::wrap(tb::cpu_mm(T(a), T(b)));
  TB_GUARD_END(nullptr)
}
