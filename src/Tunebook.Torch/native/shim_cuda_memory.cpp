// The CUDA caching allocator's statistics (what torch.cuda.memory_allocated and friends report).
// Compiled in only against a CUDA build of libtorch (CMake defines TUNEBOOK_WITH_CUDA); a CPU-only
// build exports the same functions and answers 0 = "not available", so the C# side needs no guard.
#include "shim_internal.h"

#if defined(TUNEBOOK_WITH_CUDA)
#include <c10/cuda/CUDACachingAllocator.h>
#include <c10/cuda/CUDAFunctions.h>
#include <torch/cuda.h>

static c10::DeviceIndex checked_device(int32_t index) {
  if (!torch::cuda::is_available()) throw std::runtime_error("CUDA memory statistics: no CUDA device is available");
  if (index < 0) return c10::cuda::current_device();
  if (index >= static_cast<int32_t>(torch::cuda::device_count()))
    throw std::invalid_argument("CUDA memory statistics: no CUDA device " + std::to_string(index) + " (" +
                                std::to_string(torch::cuda::device_count()) + " visible)");
  return static_cast<c10::DeviceIndex>(index);
}
#endif

TB_API int32_t tb_cuda_memory_stats(int32_t index, int64_t* allocated, int64_t* peak_allocated, int64_t* reserved,
                                    int64_t* peak_reserved) {
  TB_GUARD_BEGIN
  if (!allocated || !peak_allocated || !reserved || !peak_reserved)
    throw std::invalid_argument("CUDA memory statistics: null output pointer");
  *allocated = *peak_allocated = *reserved = *peak_reserved = 0;
#if defined(TUNEBOOK_WITH_CUDA)
  auto stats = c10::cuda::CUDACachingAllocator::getDeviceStats(checked_device(index));
  // Entry 0 of every StatArray is StatType::AGGREGATE (small and large pools together) in 1.x and 2.x;
  // indexing by number avoids the enum, which moved namespaces in 2.x.
  *allocated = stats.allocated_bytes[0].current;
  *peak_allocated = stats.allocated_bytes[0].peak;
  *reserved = stats.reserved_bytes[0].current;
  *peak_reserved = stats.reserved_bytes[0].peak;
  return 1;
#else
  return 0;
#endif
  TB_GUARD_END(-1)
}

TB_API int32_t tb_cuda_reset_peak_memory_stats(int32_t index) {
  TB_GUARD_BEGIN
#if defined(TUNEBOOK_WITH_CUDA)
  c10::cuda::CUDACachingAllocator::resetPeakStats(checked_device(index));
  return 1;
#else
  return 0;
#endif
  TB_GUARD_END(-1)
}
