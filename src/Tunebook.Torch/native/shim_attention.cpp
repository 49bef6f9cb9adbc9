// Causal self-attention in blocks of query rows, so the products skip the keys no query of a block can see.
//
// Why: written out, causal attention multiplies every query by every key and then masks half the scores away,
// so half of its four products (Q·Kᵀ and P·V forward, two more each backward) and of the scores it keeps for
// the backward are wasted. Block i of b query rows sees keys [0, (i+1)·b) alone: with n blocks the products
// and the kept weights shrink to (n + 1) / 2n of the full square (3/4 for two blocks, 9/16 for eight), which
// matters more the longer the sequence. Each block's softmax is the fused scaled, causally masked one
// (shim_fused.cpp) with the block's offset; the products are libtorch's (float32 on the CPU through oneDNN as
// every other product, tb::cpu_matmul). This is the outer loop of FlashAttention without its inner tiling of
// the keys: a block's scores still exist whole, which on a CPU's caches costs little at these sizes.
//
// Grouped-query attention (several query heads to one key/value head) comes in grouped: the `group` query heads of
// a key/value head lie side by side, one row each per position ([N, L·group, E], row t·group + g), so one product
// per block multiplies all of them by their shared keys. Repeating the keys and values for every query head instead
// would copy them forward, add the copies' gradients backward, and multiply matrices `group` times smaller.
#include <torch/csrc/autograd/autograd.h>
#include <torch/csrc/autograd/custom_function.h>
#include <limits>
#include "shim_fused.h"
#include "shim_internal.h"

using tb::T;

namespace {

struct Block {
  int64_t first, positions, keys;  // the queries of positions [first, first + positions) see keys [0, keys)
};

std::vector<Block> blocks_of(int64_t length, int64_t block) {
  std::vector<Block> out;
  for (int64_t first = 0; first < length; first += block) {
    const int64_t positions = std::min(block, length - first);
    out.push_back({first, positions, first + positions});
  }
  return out;
}

at::Tensor transposed(const at::Tensor& x) { return x.transpose(1, 2); }

// Rows [first, first + count) of every matrix of a [N, rows, E] stack, packed. libtorch's bfloat16 products copy
// an operand whose matrices are not packed back to back (any block but a stack's whole), once for every product
// that reads it; packing each block once here spares the copies of the ones a block reads twice.
at::Tensor rows_of(const at::Tensor& x, int64_t first, int64_t count) { return x.narrow(1, first, count).contiguous(); }

// create_graph: the written-out formula, differentiated with ATen operations so that the gradients carry a graph.
torch::autograd::variable_list composed_gradients(const at::Tensor& q, const at::Tensor& k, const at::Tensor& v, double scale,
                                                  int64_t group, const at::Tensor& grad) {
  const int64_t L = k.size(1);
  // Row r of the queries is position r / group; it sees keys 0..r / group.
  const at::Tensor position = at::arange(q.size(1), q.options().dtype(at::kLong).requires_grad(false)).div(group, "floor");
  const at::Tensor above = at::arange(L, position.options()).unsqueeze(0).gt(position.unsqueeze(1));
  const at::Tensor scores = (at::matmul(q, transposed(k)) * scale).masked_fill(above, -std::numeric_limits<double>::infinity());
  auto d = tb::composed_gradients(at::matmul(at::softmax(scores, -1), v), {q, k, v}, grad);
  return {d[0], d[1], d[2], at::Tensor(), at::Tensor(), at::Tensor()};
}

struct BlockedCausalAttention : public torch::autograd::Function<BlockedCausalAttention> {
  // q: [N, L·group, E] (row t·group + g: position t of the group's query head g); k: [N, L, E]; v: [N, L, Ev];
  // returns [N, L·group, Ev] in the queries' row order.
  static at::Tensor forward(torch::autograd::AutogradContext* ctx, const at::Tensor& q, const at::Tensor& k, const at::Tensor& v,
                            double scale, int64_t block, int64_t group) {
    at::Tensor out = at::empty({q.size(0), q.size(1), v.size(2)}, v.options().requires_grad(false));
    std::vector<at::Tensor> saved{q, k, v};
    // Without a gradient to come (prompts under no_grad), each block's weights are dropped as soon as used.
    const bool keep = q.requires_grad() || k.requires_grad() || v.requires_grad();
    for (const Block& b : blocks_of(k.size(1), block)) {
      const at::Tensor qi = rows_of(q, b.first * group, b.positions * group);
      const at::Tensor scores = tb::cpu_matmul(qi, transposed(rows_of(k, 0, b.keys)));
      const at::Tensor weights = tb::fused_softmax(scores, scale, b.first, group);
      out.narrow(1, b.first * group, b.positions * group).copy_(tb::cpu_matmul(weights, rows_of(v, 0, b.keys)));
      if (keep) saved.push_back(weights);
    }
    ctx->save_for_backward(saved);
    ctx->saved_data["scale"] = scale;
    ctx->saved_data["block"] = block;
    ctx->saved_data["group"] = group;
    return out;
  }

  static torch::autograd::variable_list backward(torch::autograd::AutogradContext* ctx, torch::autograd::variable_list grads) {
    const auto saved = ctx->get_saved_variables();
    const at::Tensor &q = saved[0], &k = saved[1], &v = saved[2];
    const double scale = ctx->saved_data["scale"].toDouble();
    const int64_t block = ctx->saved_data["block"].toInt(), group = ctx->saved_data["group"].toInt();
    if (at::GradMode::is_enabled()) return composed_gradients(q, k, v, scale, group, grads[0]);
    const at::Tensor dout = grads[0].to(v.scalar_type());
    at::Tensor dq = at::empty_like(q), dk = at::zeros_like(k), dv = at::zeros_like(v);
    const auto list = blocks_of(k.size(1), block);
    for (size_t i = 0; i < list.size(); i++) {
      const Block& b = list[i];
      const at::Tensor& weights = saved[3 + i];
      const at::Tensor doi = rows_of(dout, b.first * group, b.positions * group);
      const at::Tensor qi = rows_of(q, b.first * group, b.positions * group);
      const at::Tensor ki = rows_of(k, 0, b.keys), vi = rows_of(v, 0, b.keys);
      // The products by the shared keys and values sum over the group's query heads as they sum over positions.
      dv.narrow(1, 0, b.keys).add_(tb::cpu_matmul(transposed(weights), doi));
      const at::Tensor dscores = tb::fused_softmax_backward(weights, tb::cpu_matmul(doi, transposed(vi)), scale, b.first, group);
      dq.narrow(1, b.first * group, b.positions * group).copy_(tb::cpu_matmul(dscores, ki));
      dk.narrow(1, 0, b.keys).add_(tb::cpu_matmul(transposed(dscores), qi));
    }
    return {dq, dk, dv, at::Tensor(), at::Tensor(), at::Tensor()};
  }
};

}  // namespace

TB_API tb_tensor tb_blocked_causal_attention(tb_tensor query, tb_tensor key, tb_tensor value, double scale, int64_t block, int64_t group) {
  TB_GUARD_BEGIN
  const at::Tensor &q = T(query), &k = T(key), &v = T(value);
  if (group < 1) throw std::invalid_argument("blocked causal attention: group must be at least 1 query head per key/value head, got " + std::to_string(group));
  if (q.dim() != 3 || k.dim() != 3 || v.dim() != 3 || k.size(0) != q.size(0) || k.size(2) != q.size(2) || q.size(1) != k.size(1) * group ||
      v.size(0) != k.size(0) || v.size(1) != k.size(1))
    throw std::invalid_argument("blocked causal attention: expected query [N, L·" + std::to_string(group) + ", E], key [N, L, E] and value [N, L, Ev], got " +
                                c10::str(q.sizes()) + ", " + c10::str(k.sizes()) + ", " + c10::str(v.sizes()));
  if (!tb::fusable(q) || q.scalar_type() != k.scalar_type() || q.scalar_type() != v.scalar_type() || !k.device().is_cpu() || !v.device().is_cpu())
    throw std::invalid_argument("blocked causal attention: expected CPU float32 or bfloat16 tensors of one dtype");
  if (block < 1) throw std::invalid_argument("blocked causal attention: block must be at least 1 position, got " + std::to_string(block));
  return tb::wrap(BlockedCausalAttention::apply(q, k, v, scale, block, group));
  TB_GUARD_END(nullptr)
}
