// Autograd: requires_grad, gradients, backward and the thread-local grad mode.
#include "shim_internal.h"

using tb::T;

TB_API int32_t tb_tensor_requires_grad(tb_tensor h) {
  TB_GUARD_BEGIN
  return T(h).requires_grad() ? 1 : 0;
  TB_GUARD_END(-1)
}

TB_API int32_t tb_tensor_set_requires_grad(tb_tensor h, int32_t requires_grad) {
  TB_GUARD_BEGIN
  T(h).requires_grad_(requires_grad != 0);
  return 0;
  TB_GUARD_END(-1)
}

TB_API int32_t tb_tensor_is_leaf(tb_tensor h) {
  TB_GUARD_BEGIN
  return T(h).is_leaf() ? 1 : 0;
  TB_GUARD_END(-1)
}

TB_API int32_t tb_tensor_retain_grad(tb_tensor h) {
  TB_GUARD_BEGIN
  T(h).retain_grad();
  return 0;
  TB_GUARD_END(-1)
}

TB_API int32_t tb_tensor_grad(tb_tensor h, tb_tensor* out) {
  TB_GUARD_BEGIN
  *out = nullptr;
  const at::Tensor& t = T(h);
  // Reading .grad of a non-leaf that does not retain its gradient logs a warning through glog; the
  // answer is "no gradient" either way, so skip the call.
  if (!t.is_leaf() && !t.retains_grad()) return 0;
  const at::Tensor& g = t.grad();
  if (g.defined()) *out = tb::wrap(g);
  return 0;
  TB_GUARD_END(-1)
}

TB_API int32_t tb_tensor_set_grad(tb_tensor h, tb_tensor g) {
  TB_GUARD_BEGIN
  at::Tensor& t = T(h);
  if (g == nullptr) {
    t.mutable_grad().reset();
  } else {
    const at::Tensor& gt = T(g);
    if (!gt.sizes().equals(t.sizes()))
      throw std::invalid_argument("gradient shape " + c10::str(gt.sizes()) + " does not match tensor shape " + c10::str(t.sizes()));
    if (gt.scalar_type() != t.scalar_type() || gt.device() != t.device())
      throw std::invalid_argument(std::string("gradient must be ") + c10::toString(t.scalar_type()) + " on " + t.device().str() +
                                  ", got " + c10::toString(gt.scalar_type()) + " on " + gt.device().str());
    t.mutable_grad() = gt;
  }
  return 0;
  TB_GUARD_END(-1)
}

TB_API int32_t tb_backward(tb_tensor h, tb_tensor grad, int32_t retain_graph, int32_t create_graph) {
  TB_GUARD_BEGIN
  const at::Tensor& t = T(h);
  at::Tensor g;
  if (grad != nullptr) {
    g = T(grad);
    if (!g.sizes().equals(t.sizes()))
      throw std::invalid_argument("backward: gradient shape " + c10::str(g.sizes()) + " does not match output shape " + c10::str(t.sizes()));
  } else if (t.numel() != 1) {
    throw std::invalid_argument("backward() without a gradient needs a scalar output, got shape " + c10::str(t.sizes()) +
                                "; pass a gradient of the same shape");
  }
  if (!t.requires_grad())
    throw std::invalid_argument("backward: the tensor does not require grad and has no grad_fn "
                                "(was it computed under no_grad, or from tensors without requires_grad?)");
  c10::optional<bool> retain = retain_graph ? c10::optional<bool>(true) : c10::nullopt;
  t.backward(g, retain, create_graph != 0);
  return 0;
  TB_GUARD_END(-1)
}

TB_API int32_t tb_grad_enabled(void) { return c10::GradMode::is_enabled() ? 1 : 0; }

TB_API int32_t tb_set_grad_enabled(int32_t enabled) {
  c10::GradMode::set_enabled(enabled != 0);
  return 0;
}
