using Tunebook.Torch;

namespace Tunebook.Models;

/// <summary>
/// Builds the attention mask of one forward pass. Query i (absolute position past + i) may look at key
/// j when j is not in its future, the key is a real token (attention mask 1), both belong to the same
/// packed segment, and j lies within the sliding window when there is one. A query that would see no
/// key at all (a left-padding position) is allowed to see itself, so softmax never meets a row of −∞.
/// </summary>
public static class AttentionMask
{
    /// <summary>
    /// The additive mask [B, 1, T, S] (0 = attend, −∞ = blocked) in <paramref name="dtype"/>, or null
    /// when plain causal attention (or, for a single new token, no mask at all) is exact.
    /// </summary>
    /// <param name="batch">B.</param>
    /// <param name="queryLength">T, the new tokens.</param>
    /// <param name="pastLength">Tokens already in the KV cache.</param>
    /// <param name="keyMask">[B, past + T] with 1 for tokens and 0 for padding, or null.</param>
    /// <param name="segmentIds">[B, T] packed-sequence ids, or null.</param>
    /// <param name="slidingWindow">Window in tokens, or null.</param>
    public static Tensor? Build(long batch, long queryLength, long pastLength, Tensor? keyMask, Tensor? segmentIds, int? slidingWindow,
        ScalarType dtype, Device device)
    {
        long total = pastLength + queryLength;
        bool windowMatters = slidingWindow is { } w && total > w;
        if (keyMask is null && segmentIds is null && !windowMatters && (pastLength == 0 || queryLength == 1))
            return null;
        using var scope = torch.NewDisposeScope();
        var q = torch.arange(pastLength, total, device: device).view(queryLength, 1);
        var k = torch.arange(0, total, device: device).view(1, total);
        var allowed = k.le(q);                                               // causal [T, S]
        if (windowMatters) allowed = allowed.logical_and(k.gt(q - slidingWindow!.Value));
        allowed = allowed.view(1, 1, queryLength, total).expand(batch, 1, queryLength, total);
        if (keyMask is not null)
            allowed = allowed.logical_and(keyMask.to(ScalarType.Bool).view(batch, 1, 1, total));
        if (segmentIds is not null)
        {
            var same = segmentIds.unsqueeze(2).eq(segmentIds.unsqueeze(1)).unsqueeze(1); // [B, 1, T, T]
            allowed = allowed.logical_and(same);
        }
        allowed = allowed.bitwise_or(k.eq(q).view(1, 1, queryLength, total));
        var mask = torch.zeros([batch, 1, queryLength, total], dtype, device).masked_fill(allowed.logical_not(), double.NegativeInfinity);
        return scope.MoveToOuter(mask);
    }

    /// <summary>
    /// Position ids for a forward pass: from the attention mask (count of real tokens before each,
    /// so left padding does not shift positions), restarted at every segment boundary when packing,
    /// or simply past..past+T−1.
    /// </summary>
    public static Tensor PositionIds(long batch, long queryLength, long pastLength, Tensor? keyMask, Tensor? segmentIds, Device device)
    {
        using var scope = torch.NewDisposeScope();
        Tensor result;
        if (segmentIds is not null)
        {
            var seg = segmentIds.to(Device.CPU, ScalarType.Int64).contiguous().data<long>();
            var pos = new long[seg.Length];
            for (long b = 0; b < batch; b++)
            {
                long start = 0;
                for (long t = 0; t < queryLength; t++)
                {
                    long i = b * queryLength + t;
                    if (t > 0 && seg[i] != seg[i - 1]) start = t;
                    pos[i] = t - start;
                }
            }
            result = torch.tensor(pos, [batch, queryLength], device: device);
        }
        else if (keyMask is not null)
        {
            // Count real tokens before each position (on the host: masks are small, and this keeps
            // the arithmetic in integers). Padding positions get 1, as in transformers.
            long total = pastLength + queryLength;
            var m = keyMask.to(Device.CPU, ScalarType.Int64).contiguous().data<long>();
            var pos = new long[batch * queryLength];
            for (long b = 0; b < batch; b++)
            {
                long seen = 0;
                for (long t = 0; t < total; t++)
                {
                    bool real = m[b * total + t] != 0;
                    if (real) seen++;
                    if (t >= pastLength) pos[b * queryLength + t - pastLength] = real ? seen - 1 : 1;
                }
            }
            result = torch.tensor(pos, [batch, queryLength], device: device);
        }
        else
        {
            result = torch.arange(pastLength, pastLength + queryLength, device: device).view(1, queryLength).expand(batch, queryLength);
        }
        return scope.MoveToOuter(result.contiguous());
    }
}
