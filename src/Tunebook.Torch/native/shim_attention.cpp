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
// Grouped-query attention (several query heads to one key/value head) is taken grouped: each block packs the
// queries of a key/value head's g query heads side by side, one row each per position ([B·H_kv, positions·g, E],
// row t·g + j), so one product per block multiplies all of them by their shared keys. Repeating the keys and values
// for every query head instead would copy them forward, add the copies' gradients backward, and multiply matrices
// g times smaller. The output is written straight into the [B, L, H, Ev] layout the output projection reads.
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

// libtorch's bfloat16 products copy an operand whose matrices do not lie back to back (a block of a longer stack),
// once for every product that reads it, so each block's operands are packed here, once.

// Positions [first, first + count) of a [B, H_kv, L, E] stack, packed as [B·H_kv, count, E].
at::Tensor positions_of(const at::Tensor& x, int64_t first, int64_t count) {
  return x.narrow(2, first, count).contiguous().view({-1, count, x.size(3)});
}

// The queries of positions [first, first + count) of a [B, H_kv, g, L, E] stack, packed as [B·H_kv, count·g, E] with
// row t·g + j holding query head j at position first + t.
at::Tensor grouped_rows_of(const at::Tensor& x, int64_t first, int64_t count) {
  return x.narrow(3, first, count).transpose(2, 3).contiguous().view({-1, count * x.size(2), x.size(4)});
}

// grouped_rows_of's inverse: a block's [B·H_kv, count·g, E'] result into positions [first, first + count) of the
// [B, H_kv, g, L, E'] stack x (any layout).
void copy_grouped_rows(const at::Tensor& x, const at::Tensor& result, int64_t first, int64_t count) {
  x.narrow(3, first, count).transpose(2, 3).copy_(result.view({x.size(0), x.size(1), count, x.size(2), x.size(4)}));
}

// create_graph: the written-out formula, differentiated with ATen operations so that the gradients carry a graph.
torch::autograd::variable_list composed_gradients(const at::Tensor& q, const at::Tensor& k, const at::Tensor& v, double scale,
                                                  const at::Tensor& grad) {
  const int64_t L = k.size(2);
  const at::Tensor above = at::ones({L, L}, q.options().dtype(at::kBool).requires_grad(false)).triu(1);
  // The keys and values broadcast over each key/value head's g query heads.
  const at::Tensor scores = (at::matmul(q, k.unsqueeze(2).transpose(-2, -1)) * scale).masked_fill(above, -std::numeric_limits<double>::infinity());
  auto d = tb::composed_gradients(at::matmul(at::softmax(scores, -1), v.unsqueeze(2)), {q, k, v}, grad);
  return {d[0], d[1], d[2], at::Tensor(), at::Tensor()};
}

struct BlockedCausalAttention : public torch::autograd::Function<BlockedCausalAttention> {
  // q: [B, H_kv, g, L, E]; k: [B, H_kv, L, E]; v: [B, H_kv, L, Ev]; returns [B, H_kv, g, L, Ev] laid out as
  // [B, L, H_kv, g, Ev] (that is, [B, L, H, Ev]).
  static at::Tensor forward(torch::autograd::AutogradContext* ctx, const at::Tensor& q, const at::Tensor& k, const at::Tensor& v,
                            double scale, int64_t block) {
    const int64_t group = q.size(2), L = q.size(3);
    const at::Tensor out = at::empty({q.size(0), L, q.size(1), group, v.size(3)}, v.options().requires_grad(false)).permute({0, 2, 3, 1, 4});
    std::vector<at::Tensor> saved{q, k, v};
    // Without a gradient to come (prompts under no_grad), each block's weights are dropped as soon as used.
    const bool keep = q.requires_grad() || k.requires_grad() || v.requires_grad();
    for (const Block& b : blocks_of(L, block)) {
      const at::Tensor scores = tb::cpu_matmul(grouped_rows_of(q, b.first, b.positions), transposed(positions_of(k, 0, b.keys)));
      const at::Tensor weights = tb::fused_softmax(scores, scale, b.first, group);
      copy_grouped_rows(out, tb::cpu_matmul(weights, positions_of(v, 0, b.keys)), b.first, b.positions);
      if (keep) saved.push_back(weights);
    }
    ctx->save_for_backward(saved);
    ctx->saved_data["scale"] = scale;
    ctx->saved_data["block"] = block;
    return out;
  }

  static torch::autograd::variable_list backward(torch::autograd::AutogradContext* ctx, torch::autograd::variable_list grads) {
    const auto saved = ctx->get_saved_variables();
    const at::Tensor &q = saved[0], &k = saved[1], &v = saved[2];
    const double scale = ctx->saved_data["scale"].toDouble();
    const int64_t block = ctx->saved_data["block"].toInt(), group = q.size(2);
    if (at::GradMode::is_enabled()) return composed_gradients(q, k, v, scale, grads[0]);
    const at::Tensor dout = grads[0].to(v.scalar_type());
    at::Tensor dq = at::empty_like(q, at::MemoryFormat::Contiguous), dk = at::zeros_like(k, at::MemoryFormat::Contiguous),
               dv = at::zeros_like(v, at::MemoryFormat::Contiguous);
    const at::Tensor dkeys = dk.view({-1, k.size(2), k.size(3)}), dvalues = dv.view({-1, v.size(2), v.size(3)});
    const auto list = blocks_of(q.size(3), block);
    for (size_t i = 0; i < list.size(); i++) {
      const Block& b = list[i];
      const at::Tensor& weights = saved[3 + i];
      const at::Tensor doi = grouped_rows_of(dout, b.first, b.positions);
      const at::Tensor ki = positions_of(k, 0, b.keys), vi = positions_of(v, 0, b.keys);
      // The products by the shared keys and values sum over the group's query heads as they sum over positions.
      dvalues.narrow(1, 0, b.keys).add_(tb::cpu_matmul(transposed(weights), doi));
      const at::Tensor dscores = tb::fused_softmax_backward(weights, tb::cpu_matmul(doi, transposed(vi)), scale, b.first, group);
      copy_grouped_rows(dq, tb::cpu_matmul(dscores, ki), b.first, b.positions);
      dkeys.narrow(1, 0, b.keys).add_(tb::cpu_matmul(transposed(dscores), grouped_rows_of(q, b.first, b.positions)));
    }
    return {dq, dk, dv, at::Tensor(), at::Tensor()};
  }
};

}  // namespace

TB_API tb_tensor tb_blocked_causal_attention(tb_tensor query, tb_tensor key, tb_tensor value, double scale, int64_t block) {
  TB_GUARD_BEGIN
  const at::Tensor &q = T(query), &k = T(key), &v = T(value);
  if (q.dim() != 5 || k.dim() != 4 || v.dim() != 4 || k.size(0) != q.size(0) || k.size(1) != q.size(1) || k.size(2) != q.size(3) ||
      k.size(3) != q.size(4) || v.size(0) != k.size(0) || v.size(1) != k.size(1) || v.size(2) != k.size(2))
    throw std::invalid_argument("blocked causal attention: expected query [B, H_kv, g, L, E], key [B, H_kv, L, E] and value [B, H_kv, L, Ev], got " +
                                c10::str(q.sizes()) + ", " + c10::str(k.sizes()) + ", " + c10::str(v.sizes()));
  if (!tb::fusable(q) || q.scalar_type() != k.scalar_type() || q.scalar_type() != v.scalar_type() || !k.device().is_cpu() || !v.device().is_cpu())
    throw std::invalid_argument("blocked causal attention: expected CPU float32 or bfloat16 tensors of one dtype");
  if (block < 1) throw std::invalid_argument("blocked causal attention: block must be at least 1 position, got " + std::to_string(block));
  return tb::wrap(BlockedCausalAttention::apply(q, k, v, scale, block));
  TB_GUARD_END(nullptr)
}
