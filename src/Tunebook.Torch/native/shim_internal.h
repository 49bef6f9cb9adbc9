// Helpers shared by the shim's translation units (not part of the C ABI).
#pragma once
#include <ATen/ATen.h>
#include <torch/version.h>  // TORCH_VERSION_MAJOR/MINOR: guards for calls that differ between 1.13 and 2.x
#include <exception>
#include <string>
#include "tunebook_torch.h"

namespace tb {

void set_error(const std::string& message);

inline at::Tensor& T(tb_tensor h) {
  if (h == nullptr) throw std::invalid_argument("null tensor handle");
  return *static_cast<at::Tensor*>(h);
}

inline tb_tensor wrap(at::Tensor t) { return new at::Tensor(std::move(t)); }

c10::ScalarType scalar_type(int32_t code);
c10::Device device(int32_t type, int32_t index);

// Float32 CPU products through oneDNN when torch.cpu_matmul says so, else ATen (shim_cpu_matmul.cpp).
at::Tensor cpu_mm(const at::Tensor& a, const at::Tensor& b);
// at::matmul, with float32 CPU stacks of matrices ([.., M, K]·[.., K, N], same leading sizes) through oneDNN.
at::Tensor cpu_matmul(const at::Tensor& a, const at::Tensor& b);
// x·Wᵀ + b through cpu_mm; false (out untouched) when the operands are not float32 CPU tensors it takes.
bool cpu_linear(const at::Tensor& x, const at::Tensor& w, const at::Tensor* bias, at::Tensor& out);

}  // namespace tb

// Every entry point body runs inside TB_GUARD: exceptions become the thread's last error.
#define TB_GUARD_BEGIN try {
#define TB_GUARD_END(fail_value)                                   \
  }                                                                \
  catch (const c10::Error& e) {                                    \
    tb::set_error(e.what_without_backtrace());                     \
    return fail_value;                                             \
  }                                                                \
  catch (const std::exception& e) {                                \
    tb::set_error(e.what());                                       \
    return fail_value;                                             \
  }                                                                \
  catch (...) {                                                    \
    tb::set_error("unknown native exception");                     \
    return fail_value;                                             \
  }
