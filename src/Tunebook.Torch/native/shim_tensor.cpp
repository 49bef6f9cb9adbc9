// Tensor lifetime, creation from host memory, metadata queries and host copies.
#include <cstring>
#include "shim_internal.h"

using tb::T;

namespace {

std::vector<int64_t> shape_of(const int64_t* shape, int32_t ndim) {
  if (ndim < 0 || ndim > 64) throw std::invalid_argument("ndim out of range: " + std::to_string(ndim));
  if (ndim > 0 && shape == nullptr) throw std::invalid_argument("null shape pointer");
  std::vector<int64_t> v(shape, shape + ndim);
  for (int32_t i = 0; i < ndim; i++)
    if (v[i] < 0) throw std::invalid_argument("negative size " + std::to_string(v[i]) + " in dimension " + std::to_string(i));
  return v;
}

int64_t nbytes_of(const at::Tensor& t) { return t.numel() * static_cast<int64_t>(t.element_size()); }

}  // namespace

TB_API void tb_tensor_free(tb_tensor t) { delete static_cast<at::Tensor*>(t); }

TB_API tb_tensor tb_tensor_empty(const int64_t* shape, int32_t ndim, int32_t dtype, int32_t device_type, int32_t device_index) {
  TB_GUARD_BEGIN
  auto options = at::TensorOptions().dtype(tb::scalar_type(dtype)).device(tb::device(device_type, device_index));
  return tb::wrap(at::empty(shape_of(shape, ndim), options));
  TB_GUARD_END(nullptr)
}

TB_API tb_tensor tb_tensor_from_host(const void* data, int64_t nbytes, const int64_t* shape, int32_t ndim,
                                     int32_t dtype, int32_t device_type, int32_t device_index) {
  TB_GUARD_BEGIN
  auto sizes = shape_of(shape, ndim);
  auto st = tb::scalar_type(dtype);
  at::Tensor t = at::empty(sizes, at::TensorOptions().dtype(st));
  int64_t expected = nbytes_of(t);
  if (expected != nbytes)
    throw std::invalid_argument("host buffer holds " + std::to_string(nbytes) + " bytes but shape " +
                                c10::str(t.sizes()) + " of " + c10::toString(st) + " needs " + std::to_string(expected));
  if (nbytes > 0) {
    if (data == nullptr) throw std::invalid_argument("null host pointer");
    std::memcpy(t.data_ptr(), data, static_cast<size_t>(nbytes));
  }
  auto dev = tb::device(device_type, device_index);
  if (!dev.is_cpu()) t = t.to(dev);
  return tb::wrap(std::move(t));
  TB_GUARD_END(nullptr)
}

TB_API int32_t tb_tensor_copy_to_host(tb_tensor h, void* dst, int64_t nbytes) {
  TB_GUARD_BEGIN
  const at::Tensor& t = T(h);
  int64_t expected = nbytes_of(t);
  if (expected != nbytes)
    throw std::invalid_argument("destination holds " + std::to_string(nbytes) + " bytes but the tensor " +
                                c10::str(t.sizes()) + " of " + c10::toString(t.scalar_type()) + " has " + std::to_string(expected));
  if (nbytes == 0) return 0;
  if (dst == nullptr) throw std::invalid_argument("null destination pointer");
  at::Tensor src = t.detach();
  if (!src.device().is_cpu()) src = src.to(at::kCPU);
  src = src.contiguous();
  std::memcpy(dst, src.data_ptr(), static_cast<size_t>(nbytes));
  return 0;
  TB_GUARD_END(-1)
}

TB_API int32_t tb_tensor_copy_from_host(tb_tensor h, const void* src, int64_t nbytes) {
  TB_GUARD_BEGIN
  at::Tensor& t = T(h);
  int64_t expected = nbytes_of(t);
  if (expected != nbytes)
    throw std::invalid_argument("source holds " + std::to_string(nbytes) + " bytes but the tensor " +
                                c10::str(t.sizes()) + " of " + c10::toString(t.scalar_type()) + " needs " + std::to_string(expected));
  if (nbytes == 0) return 0;
  if (src == nullptr) throw std::invalid_argument("null source pointer");
  at::NoGradGuard no_grad;
  if (t.device().is_cpu() && t.is_contiguous()) {
    std::memcpy(t.data_ptr(), src, static_cast<size_t>(nbytes));
  } else {
    at::Tensor staging = at::empty(t.sizes(), at::TensorOptions().dtype(t.scalar_type()));
    std::memcpy(staging.data_ptr(), src, static_cast<size_t>(nbytes));
    t.copy_(staging);
  }
  return 0;
  TB_GUARD_END(-1)
}

TB_API int32_t tb_tensor_ndim(tb_tensor h) {
  TB_GUARD_BEGIN
  return static_cast<int32_t>(T(h).dim());
  TB_GUARD_END(-1)
}

TB_API int32_t tb_tensor_sizes(tb_tensor h, int64_t* out, int32_t max) {
  TB_GUARD_BEGIN
  auto sizes = T(h).sizes();
  int32_t n = static_cast<int32_t>(sizes.size());
  for (int32_t i = 0; i < n && i < max; i++) out[i] = sizes[i];
  return n;
  TB_GUARD_END(-1)
}

TB_API int32_t tb_tensor_strides(tb_tensor h, int64_t* out, int32_t max) {
  TB_GUARD_BEGIN
  auto strides = T(h).strides();
  int32_t n = static_cast<int32_t>(strides.size());
  for (int32_t i = 0; i < n && i < max; i++) out[i] = strides[i];
  return n;
  TB_GUARD_END(-1)
}

TB_API int64_t tb_tensor_numel(tb_tensor h) {
  TB_GUARD_BEGIN
  return T(h).numel();
  TB_GUARD_END(-1)
}

TB_API int32_t tb_tensor_dtype(tb_tensor h) {
  TB_GUARD_BEGIN
  return static_cast<int32_t>(T(h).scalar_type());
  TB_GUARD_END(-1)
}

TB_API int32_t tb_tensor_device(tb_tensor h, int32_t* type, int32_t* index) {
  TB_GUARD_BEGIN
  auto d = T(h).device();
  *type = static_cast<int32_t>(d.type());
  *index = d.has_index() ? d.index() : -1;
  return 0;
  TB_GUARD_END(-1)
}

TB_API int32_t tb_tensor_is_contiguous(tb_tensor h) {
  TB_GUARD_BEGIN
  return T(h).is_contiguous() ? 1 : 0;
  TB_GUARD_END(-1)
}

TB_API void* tb_tensor_data_ptr(tb_tensor h) {
  TB_GUARD_BEGIN
  const at::Tensor& t = T(h);
  if (!t.device().is_cpu()) throw std::invalid_argument("data_ptr needs a CPU tensor, got one on " + t.device().str());
  return t.data_ptr();
  TB_GUARD_END(nullptr)
}

TB_API int32_t tb_tensor_item_double(tb_tensor h, double* out) {
  TB_GUARD_BEGIN
  const at::Tensor& t = T(h);
  if (t.numel() != 1)
    throw std::invalid_argument("item() needs a tensor with one element, got shape " + c10::str(t.sizes()));
  *out = t.item<double>();
  return 0;
  TB_GUARD_END(-1)
}

TB_API int32_t tb_tensor_item_int64(tb_tensor h, int64_t* out) {
  TB_GUARD_BEGIN
  const at::Tensor& t = T(h);
  if (t.numel() != 1)
    throw std::invalid_argument("item() needs a tensor with one element, got shape " + c10::str(t.sizes()));
  *out = t.item<int64_t>();
  return 0;
  TB_GUARD_END(-1)
}

TB_API tb_tensor tb_tensor_shallow_copy(tb_tensor h) {
  TB_GUARD_BEGIN
  return tb::wrap(T(h));
  TB_GUARD_END(nullptr)
}

TB_API int32_t tb_tensor_use_count(tb_tensor h) {
  TB_GUARD_BEGIN
  return static_cast<int32_t>(T(h).use_count());
  TB_GUARD_END(-1)
}
