// Hot paths called directly (no boxing) to keep per-call overhead low: elementwise arithmetic on
// tiny tensors is dominated by call overhead, and the optimizer step runs once per parameter.
#include <cmath>
#include "shim_internal.h"

using tb::T;

// alpha arrives as a double; a whole number is passed on as an integer Scalar, because ATen
// rejects a floating alpha for integer tensors ("alpha must not be a floating point number").
// For floating tensors both forms convert to the same value.
static c10::Scalar alpha_scalar(double alpha) {
  if (std::isfinite(alpha) && std::floor(alpha) == alpha && std::fabs(alpha) < 9007199254740992.0)
    return c10::Scalar(static_cast<int64_t>(alpha));
  return c10::Scalar(alpha);
}

TB_API tb_tensor tb_add(tb_tensor a, tb_tensor b, double alpha) {
  TB_GUARD_BEGIN
  return tb::wrap(at::add(T(a), T(b), alpha_scalar(alpha)));
  TB_GUARD_END(nullptr)
}

TB_API tb_tensor tb_sub(tb_tensor a, tb_tensor b, double alpha) {
  TB_GUARD_BEGIN
  return tb::wrap(at::sub(T(a), T(b), alpha_scalar(alpha)));
  TB_GUARD_END(nullptr)
}

TB_API tb_tensor tb_mul(tb_tensor a, tb_tensor b) {
  TB_GUARD_BEGIN
  return tb::wrap(at::mul(T(a), T(b)));
  TB_GUARD_END(nullptr)
}

TB_API tb_tensor tb_div(tb_tensor a, tb_tensor b) {
  TB_GUARD_BEGIN
  return tb::wrap(at::div(T(a), T(b)));
  TB_GUARD_END(nullptr)
}

TB_API tb_tensor tb_add_scalar(tb_tensor a, double s) {
  TB_GUARD_BEGIN
  return tb::wrap(at::add(T(a), s));
  TB_GUARD_END(nullptr)
}

TB_API tb_tensor tb_mul_scalar(tb_tensor a, double s) {
  TB_GUARD_BEGIN
  return tb::wrap(at::mul(T(a), s));
  TB_GUARD_END(nullptr)
}

TB_API tb_tensor tb_matmul(tb_tensor a, tb_tensor b) {
  TB_GUARD_BEGIN
  return tb::wrap(tb::cpu_matmul(T(a), T(b)));
  TB_GUARD_END(nullptr)
}

// A single input row on the CPU (each step of decoding one sequence) is a matrix-vector product.
// at::linear sends it to BLAS's gemm, and OpenBLAS (0.3.21 in Debian 12) packs the whole weight into
// panels even for one row: measured 2-10x slower than gemv on the same weight (docs/engine.md, Single
// rows). gemv is only faster for float32/float64; bfloat16 has no BLAS gemv and stays with linear.
static bool is_single_row_on_cpu(const at::Tensor& x, const at::Tensor& w, const at::Tensor* b) {
  if (!x.device().is_cpu() || !w.device().is_cpu() || x.dim() < 1 || w.dim() != 2) return false;
  const auto dtype = x.scalar_type();
  if ((dtype != at::kFloat && dtype != at::kDouble) || w.scalar_type() != dtype) return false;
  if (b != nullptr && (b->dim() != 1 || b->scalar_type() != dtype || !b->device().is_cpu() || b->size(0) != w.size(0))) return false;
  const int64_t features = x.size(-1);
  return features > 0 && features == w.size(1) && x.numel() == features && w.size(0) > 0;
}

TB_API tb_tensor tb_linear(tb_tensor x, tb_tensor w, tb_tensor b) {
  TB_GUARD_BEGIN
  const at::Tensor& input = T(x);
  const at::Tensor& weight = T(w);
  if (is_single_row_on_cpu(input, weight, b == nullptr ? nullptr : &T(b))) {
    const at::Tensor row = input.reshape({-1});
    at::Tensor y = b == nullptr ? at::mv(weight, row) : at::addmv(T(b), weight, row);
    std::vector<int64_t> sizes = input.sizes().vec();
    sizes.back() = weight.size(0);
    return tb::wrap(y.reshape(sizes));
  }
  at::Tensor y;
  if (tb::cpu_linear(input, weight, b == nullptr ? nullptr : &T(b), y)) return tb::wrap(std::move(y));
  c10::optional<at::Tensor> bias;
  if (b != nullptr) bias = T(b);
  return tb::wrap(at::linear(input, weight, bias));
  TB_GUARD_END(nullptr)
}

TB_API int32_t tb_adamw_step(tb_tensor param_h, tb_tensor grad_h, tb_tensor exp_avg_h, tb_tensor exp_avg_sq_h,
                             tb_tensor max_exp_avg_sq_h, int64_t step, double lr, double beta1, double beta2,
                             double eps, double weight_decay, int32_t amsgrad, int32_t maximize) {
  TB_GUARD_BEGIN
  at::NoGradGuard no_grad;
  at::Tensor& param = T(param_h);
  at::Tensor grad = maximize ? at::neg(T(grad_h)) : T(grad_h);
  at::Tensor& exp_avg = T(exp_avg_h);
  at::Tensor& exp_avg_sq = T(exp_avg_sq_h);
  if (step < 1) throw std::invalid_argument("AdamW step count must be at least 1, got " + std::to_string(step));
  // Same operations in the same order as torch.optim.AdamW (single-tensor path), so results match
  // PyTorch bit for bit on the same libtorch.
  param.mul_(1 - lr * weight_decay);
  exp_avg.mul_(beta1).add_(grad, 1 - beta1);
  exp_avg_sq.mul_(beta2).addcmul_(grad, grad, 1 - beta2);
  double s = static_cast<double>(step);
  double bias_correction1 = 1 - std::pow(beta1, s);
  double bias_correction2 = 1 - std::pow(beta2, s);
  double step_size = lr / bias_correction1;
  double bias_correction2_sqrt = std::sqrt(bias_correction2);
  at::Tensor denom;
  if (amsgrad) {
    at::Tensor& max_sq = T(max_exp_avg_sq_h);
    at::maximum_out(max_sq, max_sq, exp_avg_sq);
    denom = (max_sq.sqrt() / bias_correction2_sqrt).add_(eps);
  } else {
    denom = (exp_avg_sq.sqrt() / bias_correction2_sqrt).add_(eps);
  }
  param.addcdiv_(exp_avg, denom, -step_size);
  return 0;
  TB_GUARD_END(-1)
}
