// The fused softmax of shim_fused.cpp for other translation units of the shim (blocked attention), and the
// second-derivative path the fused Functions share.
#pragma once
#include <ATen/ATen.h>
#include <torch/csrc/autograd/function.h>

namespace tb {

// create_graph: the gradients of the written-out formula `y` with respect to `inputs` (undefined for those that need
// none), computed with ATen operations so that they carry a graph of their own.
torch::autograd::variable_list composed_gradients(const at::Tensor& y, const std::vector<at::Tensor>& inputs, const at::Tensor& grad);

// CPU float32 or bfloat16 (the fused kernels' dtypes).
bool fusable(const at::Tensor& t);
// softmax(scale·scores) over the last dimension, no autograd. causal_offset ≥ 0: row i of each [L, S] matrix sees
// keys 0..causal_offset + i / group (the rest are 0; group > 1 when `group` query heads share a key/value head and
// lie side by side, one row each per position); −1: every key.
at::Tensor fused_softmax(const at::Tensor& scores, double scale, int64_t causal_offset, int64_t group = 1);
// The gradient by the scores, scale · p · (dp − Σ p·dp), from the weights p that fused_softmax returned.
at::Tensor fused_softmax_backward(const at::Tensor& weights, const at::Tensor& grad, double scale, int64_t causal_offset,
                                  int64_t group = 1);

}  // namespace tb
