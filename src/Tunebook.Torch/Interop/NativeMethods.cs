using System.Runtime.InteropServices;

namespace Tunebook.Torch.Interop;

/// <summary>Tagged value shared with the shim (tb_value in tunebook_torch.h).</summary>
[StructLayout(LayoutKind.Sequential)]
internal struct TbValue
{
    public int Kind;
    public int Reserved;
    public long I;
    public double D;
    public IntPtr P;
    public long N;
}

internal static class TbKind
{
    public const int None = 0, Tensor = 1, Int = 2, Double = 3, Bool = 4, IntList = 5, DoubleList = 6,
        TensorList = 7, OptTensorList = 8, DType = 9, String = 10, Device = 11, Default = 12, BoolList = 13;
}

/// <summary>P/Invoke declarations for the shim. All signatures are blittable, so calls cost one transition.</summary>
internal static unsafe partial class NativeMethods
{
    const string Lib = NativeLoader.LibraryName;

    [LibraryImport(Lib)] internal static partial IntPtr tb_last_error();
    [LibraryImport(Lib)] internal static partial IntPtr tb_version();
    [LibraryImport(Lib)] internal static partial int tb_set_num_threads(int n);
    [LibraryImport(Lib)] internal static partial int tb_tune_host_allocator(long mmapThreshold, long trimThreshold);
    [LibraryImport(Lib)] internal static partial int tb_get_num_threads();
    [LibraryImport(Lib)] internal static partial int tb_manual_seed(ulong seed);
    [LibraryImport(Lib)] internal static partial int tb_cuda_is_available();
    [LibraryImport(Lib)] internal static partial int tb_cuda_device_count();
    [LibraryImport(Lib)] internal static partial int tb_cuda_synchronize(long deviceIndex);
    [LibraryImport(Lib)] internal static partial int tb_cuda_memory_stats(int deviceIndex, out long allocated, out long peakAllocated, out long reserved, out long peakReserved);
    [LibraryImport(Lib)] internal static partial int tb_cuda_reset_peak_memory_stats(int deviceIndex);
    [LibraryImport(Lib)] internal static partial IntPtr tb_rng_get_state();
    [LibraryImport(Lib)] internal static partial int tb_rng_set_state(IntPtr state);
    [LibraryImport(Lib)] internal static partial IntPtr tb_rng_get_state_device(int deviceType, int index);
    [LibraryImport(Lib)] internal static partial int tb_rng_set_state_device(int deviceType, int index, IntPtr state);

    [LibraryImport(Lib)] internal static partial void tb_tensor_free(IntPtr t);
    [LibraryImport(Lib)] internal static partial IntPtr tb_tensor_empty(long* shape, int ndim, int dtype, int deviceType, int deviceIndex);
    [LibraryImport(Lib)] internal static partial IntPtr tb_tensor_from_host(void* data, long nbytes, long* shape, int ndim, int dtype, int deviceType, int deviceIndex);
    [LibraryImport(Lib)] internal static partial int tb_tensor_copy_to_host(IntPtr t, void* dst, long nbytes);
    [LibraryImport(Lib)] internal static partial int tb_tensor_copy_from_host(IntPtr t, void* src, long nbytes);
    [LibraryImport(Lib)] internal static partial int tb_tensor_ndim(IntPtr t);
    [LibraryImport(Lib)] internal static partial int tb_tensor_sizes(IntPtr t, long* output, int max);
    [LibraryImport(Lib)] internal static partial int tb_tensor_strides(IntPtr t, long* output, int max);
    [LibraryImport(Lib)] internal static partial long tb_tensor_numel(IntPtr t);
    [LibraryImport(Lib)] internal static partial int tb_tensor_dtype(IntPtr t);
    [LibraryImport(Lib)] internal static partial int tb_tensor_device(IntPtr t, int* type, int* index);
    [LibraryImport(Lib)] internal static partial int tb_tensor_is_contiguous(IntPtr t);
    [LibraryImport(Lib)] internal static partial void* tb_tensor_data_ptr(IntPtr t);
    [LibraryImport(Lib)] internal static partial int tb_tensor_item_double(IntPtr t, double* output);
    [LibraryImport(Lib)] internal static partial int tb_tensor_item_int64(IntPtr t, long* output);
    [LibraryImport(Lib)] internal static partial IntPtr tb_tensor_shallow_copy(IntPtr t);
    [LibraryImport(Lib)] internal static partial int tb_tensor_use_count(IntPtr t);

    [LibraryImport(Lib)] internal static partial int tb_tensor_requires_grad(IntPtr t);
    [LibraryImport(Lib)] internal static partial int tb_tensor_set_requires_grad(IntPtr t, int requiresGrad);
    [LibraryImport(Lib)] internal static partial int tb_tensor_is_leaf(IntPtr t);
    [LibraryImport(Lib)] internal static partial int tb_tensor_retain_grad(IntPtr t);
    [LibraryImport(Lib)] internal static partial int tb_tensor_grad(IntPtr t, IntPtr* output);
    [LibraryImport(Lib)] internal static partial int tb_tensor_set_grad(IntPtr t, IntPtr grad);
    [LibraryImport(Lib)] internal static partial int tb_backward(IntPtr t, IntPtr grad, int retainGraph, int createGraph);
    [LibraryImport(Lib)] internal static partial int tb_grad_enabled();
    [LibraryImport(Lib)] internal static partial int tb_set_grad_enabled(int enabled);

    [LibraryImport(Lib, StringMarshalling = StringMarshalling.Utf8)] internal static partial IntPtr tb_op_find(string name, string overload);
    [LibraryImport(Lib, StringMarshalling = StringMarshalling.Utf8)] internal static partial IntPtr tb_op_try_find(string name, string overload);
    [LibraryImport(Lib)] internal static partial IntPtr tb_op_schema(IntPtr op);
    [LibraryImport(Lib)] internal static partial int tb_op_call(IntPtr op, TbValue* args, int nargs, TbValue* results, int maxResults);

    [LibraryImport(Lib)] internal static partial IntPtr tb_add(IntPtr a, IntPtr b, double alpha);
    [LibraryImport(Lib)] internal static partial IntPtr tb_sub(IntPtr a, IntPtr b, double alpha);
    [LibraryImport(Lib)] internal static partial IntPtr tb_mul(IntPtr a, IntPtr b);
    [LibraryImport(Lib)] internal static partial IntPtr tb_div(IntPtr a, IntPtr b);
    [LibraryImport(Lib)] internal static partial IntPtr tb_add_scalar(IntPtr a, double s);
    [LibraryImport(Lib)] internal static partial IntPtr tb_mul_scalar(IntPtr a, double s);
    [LibraryImport(Lib)] internal static partial IntPtr tb_matmul(IntPtr a, IntPtr b);
    [LibraryImport(Lib)] internal static partial IntPtr tb_linear(IntPtr x, IntPtr w, IntPtr b);
    [LibraryImport(Lib)] internal static partial IntPtr tb_mm(IntPtr a, IntPtr b);
    [LibraryImport(Lib)] internal static partial IntPtr tb_swiglu(IntPtr gate, IntPtr up);
    [LibraryImport(Lib)] internal static partial IntPtr tb_rms_norm(IntPtr input, IntPtr weight, double eps);
    [LibraryImport(Lib)] internal static partial IntPtr tb_softmax_scaled(IntPtr scores, double scale, int causal);
    [LibraryImport(Lib)] internal static partial IntPtr tb_rotary(IntPtr input, IntPtr cos, IntPtr sin);
    [LibraryImport(Lib)] internal static partial IntPtr tb_blocked_causal_attention(IntPtr query, IntPtr key, IntPtr value, double scale, long block);
    [LibraryImport(Lib)] internal static unsafe partial IntPtr tb_cross_entropy_with_gradient(IntPtr logits, IntPtr targets, long ignoreIndex, double scale, int wantGradient, IntPtr* gradient);
    [LibraryImport(Lib)] internal static partial IntPtr tb_onednn_version();
    [LibraryImport(Lib)] internal static partial int tb_has_mkl();
    [LibraryImport(Lib)] internal static partial int tb_set_cpu_matmul_onednn(int on);
    [LibraryImport(Lib)] internal static partial int tb_cpu_matmul_onednn();
    [LibraryImport(Lib)] internal static partial int tb_cpu_matmul_takes(long m, long k, long n);
    [LibraryImport(Lib)] internal static partial int tb_adamw_step(IntPtr param, IntPtr grad, IntPtr expAvg, IntPtr expAvgSq, IntPtr maxExpAvgSq,
        long step, double lr, double beta1, double beta2, double eps, double weightDecay, int amsgrad, int maximize);

    internal static string LastError() => Marshal.PtrToStringUTF8(tb_last_error()) ?? "unknown libtorch error";
}
