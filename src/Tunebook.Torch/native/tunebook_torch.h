// tunebook_torch: a small, regular C ABI over libtorch for the C# engine (Tunebook.Torch).
//
// Rules every entry point follows:
//  * Handles are opaque. A tensor handle is a heap-allocated at::Tensor (one reference to the
//    underlying TensorImpl); tb_tensor_free releases it.
//  * Nothing throws across the ABI. Every function catches c10::Error and std::exception, stores the
//    message in a thread-local buffer (tb_last_error) and reports failure: functions returning
//    int32_t return 0 on success and -1 on failure; functions returning a handle return NULL.
//  * Most ATen operators are reached through the dispatcher by name (tb_op_find + tb_op_call), so a
//    new operator needs no new C function and autograd keeps working.
#pragma once
#include <stdint.h>

#if defined(_WIN32)
#define TB_API extern "C" __declspec(dllexport)
#else
#define TB_API extern "C" __attribute__((visibility("default")))
#endif

typedef void* tb_tensor;  // at::Tensor*
typedef void* tb_op;      // c10::OperatorHandle* (cached for the process lifetime)

// Tagged value used for operator arguments and results. Layout is shared with C# (OpArg).
enum tb_kind : int32_t {
  TB_NONE = 0,
  TB_TENSOR = 1,          // p: at::Tensor* (NULL means None)
  TB_INT = 2,             // i
  TB_DOUBLE = 3,          // d
  TB_BOOL = 4,            // i != 0
  TB_INT_LIST = 5,        // p: const int64_t*, n
  TB_DOUBLE_LIST = 6,     // p: const double*, n
  TB_TENSOR_LIST = 7,     // p: at::Tensor* const*, n
  TB_OPT_TENSOR_LIST = 8, // p: at::Tensor* const*, n (NULL entries are None)
  TB_DTYPE = 9,           // i: c10::ScalarType
  TB_STRING = 10,         // p: UTF-8 bytes, n: length
  TB_DEVICE = 11,         // i: c10::DeviceType, n: device index (-1 for the current device)
  TB_DEFAULT = 12,        // the schema's default value
  TB_BOOL_LIST = 13,      // p: const uint8_t*, n
};

typedef struct tb_value {
  int32_t kind;
  int32_t reserved;
  int64_t i;
  double d;
  const void* p;
  int64_t n;
} tb_value;

// ---- errors -----------------------------------------------------------------------------------
TB_API const char* tb_last_error(void);

// ---- runtime ----------------------------------------------------------------------------------
TB_API const char* tb_version(void);
TB_API int32_t tb_set_num_threads(int32_t n);
// glibc malloc tuning for libtorch's CPU allocator (see shim_runtime.cpp); 1 applied, 0 unsupported, -1 error.
TB_API int32_t tb_tune_host_allocator(int64_t mmap_threshold, int64_t trim_threshold);
TB_API int32_t tb_get_num_threads(void);
TB_API int32_t tb_manual_seed(uint64_t seed);
TB_API int32_t tb_cuda_is_available(void);
TB_API int32_t tb_cuda_device_count(void);
TB_API int32_t tb_cuda_synchronize(int64_t device_index);
// The CUDA caching allocator's statistics for device `index` (-1: the current one), in bytes.
// Returns 1 when available, 0 when this shim was built without CUDA (all outputs 0), -1 on error.
TB_API int32_t tb_cuda_memory_stats(int32_t index, int64_t* allocated, int64_t* peak_allocated, int64_t* reserved,
                                    int64_t* peak_reserved);
// Starts the peak counters of tb_cuda_memory_stats afresh; same return values.
TB_API int32_t tb_cuda_reset_peak_memory_stats(int32_t index);
TB_API tb_tensor tb_rng_get_state(void);
TB_API int32_t tb_rng_set_state(tb_tensor state);
// The same for a device's default generator: device_type is c10::DeviceType (0 cpu, 1 cuda), index -1 = current.
TB_API tb_tensor tb_rng_get_state_device(int32_t device_type, int32_t index);
TB_API int32_t tb_rng_set_state_device(int32_t device_type, int32_t index, tb_tensor state);

// ---- tensors ----------------------------------------------------------------------------------
TB_API void tb_tensor_free(tb_tensor t);
TB_API tb_tensor tb_tensor_empty(const int64_t* shape, int32_t ndim, int32_t dtype, int32_t device_type, int32_t device_index);
// Copies nbytes of host memory into a new tensor (validated against shape and dtype).
TB_API tb_tensor tb_tensor_from_host(const void* data, int64_t nbytes, const int64_t* shape, int32_t ndim,
                                     int32_t dtype, int32_t device_type, int32_t device_index);
// Copies the tensor's elements (row-major, dense) into host memory of exactly nbytes.
TB_API int32_t tb_tensor_copy_to_host(tb_tensor t, void* dst, int64_t nbytes);
// Copies host memory into an existing tensor in place (any device/layout); nbytes must match.
TB_API int32_t tb_tensor_copy_from_host(tb_tensor t, const void* src, int64_t nbytes);
TB_API int32_t tb_tensor_ndim(tb_tensor t);
// Writes up to max sizes; returns ndim or -1.
TB_API int32_t tb_tensor_sizes(tb_tensor t, int64_t* out, int32_t max);
TB_API int32_t tb_tensor_strides(tb_tensor t, int64_t* out, int32_t max);
TB_API int64_t tb_tensor_numel(tb_tensor t);
TB_API int32_t tb_tensor_dtype(tb_tensor t);
TB_API int32_t tb_tensor_device(tb_tensor t, int32_t* type, int32_t* index);
TB_API int32_t tb_tensor_is_contiguous(tb_tensor t);
TB_API void* tb_tensor_data_ptr(tb_tensor t);
TB_API int32_t tb_tensor_item_double(tb_tensor t, double* out);
TB_API int32_t tb_tensor_item_int64(tb_tensor t, int64_t* out);
TB_API tb_tensor tb_tensor_shallow_copy(tb_tensor t);
TB_API int32_t tb_tensor_use_count(tb_tensor t);

// ---- autograd ---------------------------------------------------------------------------------
TB_API int32_t tb_tensor_requires_grad(tb_tensor t);
TB_API int32_t tb_tensor_set_requires_grad(tb_tensor t, int32_t requires_grad);
TB_API int32_t tb_tensor_is_leaf(tb_tensor t);
TB_API int32_t tb_tensor_retain_grad(tb_tensor t);
// *out receives the gradient or NULL when there is none.
TB_API int32_t tb_tensor_grad(tb_tensor t, tb_tensor* out);
// Sets (g != NULL) or clears (g == NULL) the gradient.
TB_API int32_t tb_tensor_set_grad(tb_tensor t, tb_tensor g);
TB_API int32_t tb_backward(tb_tensor t, tb_tensor grad, int32_t retain_graph, int32_t create_graph);
TB_API int32_t tb_grad_enabled(void);
TB_API int32_t tb_set_grad_enabled(int32_t enabled);

// ---- dispatcher ---------------------------------------------------------------------------------
// Returns a cached handle, or NULL (with tb_last_error set) when no such operator exists.
TB_API tb_op tb_op_find(const char* name, const char* overload);
// Like tb_op_find, but NULL without an error when the operator is missing.
TB_API tb_op tb_op_try_find(const char* name, const char* overload);
TB_API const char* tb_op_schema(tb_op op);
// Calls the operator; missing trailing arguments take the schema's defaults. Writes up to
// maxresults results (tensor lists are flattened) and returns their count, -1 on error, or -2 when
// the operator ran but returned more than maxresults results (they are freed).
TB_API int32_t tb_op_call(tb_op op, const tb_value* args, int32_t nargs, tb_value* results, int32_t maxresults);

// ---- hot paths (direct calls, no boxing) -------------------------------------------------------
TB_API tb_tensor tb_add(tb_tensor a, tb_tensor b, double alpha);
TB_API tb_tensor tb_sub(tb_tensor a, tb_tensor b, double alpha);
TB_API tb_tensor tb_mul(tb_tensor a, tb_tensor b);
TB_API tb_tensor tb_div(tb_tensor a, tb_tensor b);
TB_API tb_tensor tb_add_scalar(tb_tensor a, double s);
TB_API tb_tensor tb_mul_scalar(tb_tensor a, double s);
TB_API tb_tensor tb_matmul(tb_tensor a, tb_tensor b);
TB_API tb_tensor tb_linear(tb_tensor x, tb_tensor w, tb_tensor b);

// Float32 CPU products through oneDNN (shim_cpu_matmul.cpp). tb_onednn_version: "" when libtorch does not
// expose oneDNN's sgemm. tb_set_cpu_matmul_onednn: 1 routes float32 CPU products (mm, matmul of matrices or of
// same-size stacks, linear) to oneDNN, 0 back to ATen; -1 when oneDNN is not available. Products too small for
// OpenBLAS to thread stay with ATen.
TB_API const char* tb_onednn_version(void);
TB_API int32_t tb_has_mkl(void);
TB_API int32_t tb_set_cpu_matmul_onednn(int32_t on);
TB_API int32_t tb_cpu_matmul_onednn(void);
// 1 when a float32 CPU product [m, k]·[k, n] would run on oneDNN (the switch is on and it is large enough).
TB_API int32_t tb_cpu_matmul_takes(int64_t m, int64_t k, int64_t n);
TB_API tb_tensor tb_mm(tb_tensor a, tb_tensor b);
// Fused CPU kernels (shim_fused.cpp) for float32 or bfloat16 tensors of one dtype, with autograd:
// silu(gate)·up, and Llama's RMSNorm weight·(x / √(mean(x²) + eps)) over the last dimension.
TB_API tb_tensor tb_swiglu(tb_tensor gate, tb_tensor up);
TB_API tb_tensor tb_rms_norm(tb_tensor input, tb_tensor weight, double eps);
// softmax(scale·scores) over the last dimension; causal != 0 masks keys after each query ([.., L, S], top-left).
TB_API tb_tensor tb_softmax_scaled(tb_tensor scores, double scale, int32_t causal);
// Rotary position embedding x·cos + rotate_half(x)·sin of x [B, H, T, D] (D even), with cos and sin [B or 1, T, D]
// (sin carrying rotate_half's sign); the result is a contiguous [B, H, T, D]. No gradient for cos and sin.
TB_API tb_tensor tb_rotary(tb_tensor input, tb_tensor cos, tb_tensor sin);
// Causal attention of query [B, H_kv, g, L, E] (g query heads to each key/value head), key [B, H_kv, L, E] and value
// [B, H_kv, L, Ev] (position t sees keys 0..t) in blocks of `block` positions, each multiplying only the keys it can
// see (shim_attention.cpp); returns [B, H_kv, g, L, Ev] laid out as [B, L, H_kv·g, Ev]. CPU float32 or bfloat16.
TB_API tb_tensor tb_blocked_causal_attention(tb_tensor query, tb_tensor key, tb_tensor value, double scale, int64_t block);
// Σ over rows with target != ignore_index of logsumexp(z) − z[target] (a float32 scalar), and when want_gradient,
// *gradient = scale·(softmax(z) − one_hot(target)) in the logits' dtype (rows of ignore_index: 0). No autograd.
TB_API tb_tensor tb_cross_entropy_with_gradient(tb_tensor logits, tb_tensor targets, int64_t ignore_index, double scale,
                                                int32_t want_gradient, tb_tensor* gradient);
// One AdamW (decoupled weight decay) step, identical in order of operations to
// torch.optim.AdamW's single-tensor path. max_exp_avg_sq may be NULL unless amsgrad.
TB_API int32_t tb_adamw_step(tb_tensor param, tb_tensor grad, tb_tensor exp_avg, tb_tensor exp_avg_sq,
                             tb_tensor max_exp_avg_sq, int64_t step, double lr, double beta1, double beta2,
                             double eps, double weight_decay, int32_t amsgrad, int32_t maximize);
