// Process-wide settings: threads, seeds, random state and CUDA queries.
#include <ATen/Parallel.h>
// torch::cuda::{is_available, device_count, synchronize}: the C++ frontend's stable CUDA queries,
// present with the same signatures from 1.13 through 2.x (the ATen hooks behind them were renamed).
#include <torch/cuda.h>
#include <algorithm>
#include <climits>
#include <mutex>
#include "shim_internal.h"

TB_API const char* tb_version(void) {
  static const std::string v = std::to_string(TORCH_VERSION_MAJOR) + "." + std::to_string(TORCH_VERSION_MINOR) + "." +
                               std::to_string(TORCH_VERSION_PATCH);
  return v.c_str();
}

TB_API int32_t tb_set_num_threads(int32_t n) {
  TB_GUARD_BEGIN
  if (n < 1) throw std::invalid_argument("number of threads must be at least 1, got " + std::to_string(n));
  at::set_num_threads(n);
  return 0;
  TB_GUARD_END(-1)
}

TB_API int32_t tb_get_num_threads(void) {
  TB_GUARD_BEGIN
  return at::get_num_threads();
  TB_GUARD_END(-1)
}

TB_API int32_t tb_cuda_is_available(void) {
  TB_GUARD_BEGIN
  return torch::cuda::is_available() ? 1 : 0;
  TB_GUARD_END(0)
}

TB_API int32_t tb_cuda_device_count(void) {
  TB_GUARD_BEGIN
  return static_cast<int32_t>(torch::cuda::device_count());
  TB_GUARD_END(0)
}

TB_API int32_t tb_cuda_synchronize(int64_t device_index) {
  TB_GUARD_BEGIN
  if (!torch::cuda::is_available()) throw std::runtime_error("CUDA is not available");
  torch::cuda::synchronize(device_index);
  return 0;
  TB_GUARD_END(-1)
}

TB_API int32_t tb_manual_seed(uint64_t seed) {
  TB_GUARD_BEGIN
  {
    auto gen = at::detail::getDefaultCPUGenerator();
    std::lock_guard<std::mutex> lock(gen.mutex());
    gen.set_current_seed(seed);
  }
  if (torch::cuda::is_available()) {
    const int n = static_cast<int>(torch::cuda::device_count());
    for (int i = 0; i < n; i++) {
      // Context::defaultGenerator exists in 1.13 and 2.x alike (the CUDA hooks' accessor was renamed).
      auto gen = at::globalContext().defaultGenerator(c10::Device(c10::DeviceType::CUDA, static_cast<c10::DeviceIndex>(i)));
      std::lock_guard<std::mutex> lock(gen.mutex());
      gen.set_current_seed(seed);
    }
  }
  return 0;
  TB_GUARD_END(-1)
}

// The default generator of a device: CPU, or CUDA device `index` (-1: the current one).
static at::Generator device_generator(int32_t device_type, int32_t index) {
  if (device_type == static_cast<int32_t>(c10::DeviceType::CPU)) return at::detail::getDefaultCPUGenerator();
  if (device_type != static_cast<int32_t>(c10::DeviceType::CUDA))
    throw std::invalid_argument("random state: expected a cpu or cuda device, got device type " + std::to_string(device_type));
  if (!torch::cuda::is_available()) throw std::runtime_error("random state: CUDA is not available");
  if (index >= static_cast<int32_t>(torch::cuda::device_count()))
    throw std::invalid_argument("random state: no CUDA device " + std::to_string(index) + " (" +
                                std::to_string(torch::cuda::device_count()) + " visible)");
  return at::globalContext().defaultGenerator(c10::Device(c10::DeviceType::CUDA, static_cast<c10::DeviceIndex>(index)));
}

TB_API tb_tensor tb_rng_get_state_device(int32_t device_type, int32_t index) {
  TB_GUARD_BEGIN
  auto gen = device_generator(device_type, index);
  std::lock_guard<std::mutex> lock(gen.mutex());
  return tb::wrap(gen.get_state());
  TB_GUARD_END(nullptr)
}

TB_API int32_t tb_rng_set_state_device(int32_t device_type, int32_t index, tb_tensor state) {
  TB_GUARD_BEGIN
  auto gen = device_generator(device_type, index);
  std::lock_guard<std::mutex> lock(gen.mutex());
  gen.set_state(tb::T(state));
  return 0;
  TB_GUARD_END(-1)
}

TB_API tb_tensor tb_rng_get_state(void) {
  TB_GUARD_BEGIN
  auto gen = at::detail::getDefaultCPUGenerator();
  std::lock_guard<std::mutex> lock(gen.mutex());
  return tb::wrap(gen.get_state());
  TB_GUARD_END(nullptr)
}

TB_API int32_t tb_rng_set_state(tb_tensor state) {
  TB_GUARD_BEGIN
  auto gen = at::detail::getDefaultCPUGenerator();
  std::lock_guard<std::mutex> lock(gen.mutex());
  gen.set_state(tb::T(state));
  return 0;
  TB_GUARD_END(-1)
}

#if defined(__GLIBC__)
#include <malloc.h>
#endif

// libtorch's CPU allocator is plain malloc. With glibc's defaults, every tensor above the dynamic
// mmap threshold gets fresh pages from the kernel, and freed memory at the top of the heap goes
// straight back, so a training step that allocates and frees the same few megabytes of temporaries
// pays page faults on every step (measured: the AdamW step of a 2M-parameter MLP ran 3x slower).
// Keeping allocations up to mmap_threshold on the heap and retaining up to trim_threshold of free
// memory there makes steady-state steps reuse warm pages, like a caching allocator would.
// Returns 1 when applied, 0 when the C library has no such knobs (non-glibc).
TB_API int32_t tb_tune_host_allocator(int64_t mmap_threshold, int64_t trim_threshold) {
  TB_GUARD_BEGIN
  if (mmap_threshold < 0 || trim_threshold < 0)
    throw std::invalid_argument("allocator thresholds must be non-negative");
#if defined(__GLIBC__)
  if (mallopt(M_MMAP_THRESHOLD, static_cast<int>(std::min<int64_t>(mmap_threshold, INT32_MAX))) != 1)
    throw std::runtime_error("mallopt(M_MMAP_THRESHOLD) rejected " + std::to_string(mmap_threshold));
  if (mallopt(M_TRIM_THRESHOLD, static_cast<int>(std::min<int64_t>(trim_threshold, INT32_MAX))) != 1)
    throw std::runtime_error("mallopt(M_TRIM_THRESHOLD) rejected " + std::to_string(trim_threshold));
  return 1;
#else
  return 0;
#endif
  TB_GUARD_END(-1)
}
