using System.Buffers;
using System.Collections.Concurrent;
using System.Text;

namespace Tunebook.Text.Tokenizers;

/// <summary>
/// Byte-pair encoding: start from single characters (or bytes) and repeatedly merge the adjacent pair
/// whose merge was learned earliest (lowest rank) until no learned merge applies. Each word's result is
/// cached, so running text costs one dictionary lookup per word once the common words have been seen.
/// </summary>
internal sealed class BpeModel
{
    /// <summary>Tokens of one pre-tokenized word with their [start, end) UTF-16 offsets inside that word.</summary>
    internal sealed class Word(int[] ids, int[] starts, int[] ends)
    {
        public readonly int[] Ids = ids, Starts = starts, Ends = ends;
    }

    readonly record struct Merge(int Rank, int Id);

    const int MaxCachedWordLength = 256;
    const int MaxCacheEntries = 500_000;
    const int SimpleMergeLimit = 48; // below this many symbols a plain rank scan beats a heap

    readonly Dictionary<string, int>.AlternateLookup<ReadOnlySpan<char>> _vocabBySpan;
    readonly Dictionary<long, Merge> _merges;
    readonly int[] _byteCharIds = new int[256];   // id of each byte-alphabet character token (byte-level mode)
    readonly int[] _byteFallbackIds = new int[256]; // id of "<0xNN>" tokens, -1 if missing
    readonly bool _hasAllFallbackBytes;
    readonly ConcurrentDictionary<string, Word> _cache = new();
    readonly ConcurrentDictionary<string, Word>.AlternateLookup<ReadOnlySpan<char>> _cacheBySpan;
    int _cacheCount; // ConcurrentDictionary.Count takes every lock; keep our own tally
    readonly bool _splitBeforeMetaspace;

    public IReadOnlyDictionary<string, int> Vocab { get; }
    public int MergeCount => _merges.Count;
    public string? UnkToken { get; }
    public int UnkId { get; } = -1;
    public bool FuseUnk { get; }
    public bool ByteFallback { get; }
    public bool IgnoreMerges { get; }
    public string Prefix { get; }
    public string Suffix { get; }

    /// <summary>When true (a ByteLevel pre-tokenizer is present) words are turned into UTF-8 bytes first.</summary>
    public bool ByteLevel { get; set; }

    public BpeModel(Dictionary<string, int> vocab, IReadOnlyList<(int A, int B, int Merged)> merges, string? unkToken,
        bool fuseUnk, bool byteFallback, bool ignoreMerges, string? continuingSubwordPrefix, string? endOfWordSuffix)
    {
        Vocab = vocab;
        _vocabBySpan = vocab.GetAlternateLookup<ReadOnlySpan<char>>();
        _cacheBySpan = _cache.GetAlternateLookup<ReadOnlySpan<char>>();
        _merges = new Dictionary<long, Merge>(merges.Count);
        for (int rank = 0; rank < merges.Count; rank++)
            _merges.TryAdd(PairKey(merges[rank].A, merges[rank].B), new Merge(rank, merges[rank].Merged));
        UnkToken = unkToken;
        if (unkToken is not null && vocab.TryGetValue(unkToken, out var unk)) UnkId = unk;
        FuseUnk = fuseUnk;
        ByteFallback = byteFallback;
        IgnoreMerges = ignoreMerges;
        Prefix = continuingSubwordPrefix ?? "";
        Suffix = endOfWordSuffix ?? "";
        // SentencePiece-style files (Llama 2, Mistral) have no pre-tokenizer, so a whole line is one "word".
        // When no token has '▁' right after another character, no merge can cross the start of a '▁' run,
        // and cutting there gives identical tokens while letting each piece be cached.
        _splitBeforeMetaspace = vocab.ContainsKey("▁") && !vocab.Keys.Any(t => HasMetaspaceBoundary(t));
        _hasAllFallbackBytes = true;
        for (int b = 0; b < 256; b++)
        {
            _byteCharIds[b] = vocab.GetValueOrDefault(ByteLevelAlphabet.ByteToChar[b].ToString(), -1);
            _byteFallbackIds[b] = vocab.GetValueOrDefault($"<0x{b:X2}>", -1);
            _hasAllFallbackBytes &= _byteFallbackIds[b] >= 0;
        }
    }

    static long PairKey(int a, int b) => ((long)a << 32) | (uint)b;

    public bool TryGetMerge(int a, int b, out int rank, out int merged)
    {
        if (_merges.TryGetValue(PairKey(a, b), out var m)) { rank = m.Rank; merged = m.Id; return true; }
        rank = merged = 0;
        return false;
    }

    public int? TokenToId(ReadOnlySpan<char> token) => _vocabBySpan.TryGetValue(token, out var id) ? id : null;

    static bool HasMetaspaceBoundary(ReadOnlySpan<char> s)
    {
        for (int i = 1; i < s.Length; i++) if (s[i] == '▁' && s[i - 1] != '▁') return true;
        return false;
    }

    /// <summary>Tokenizes one word (the text of a pre-tokenized piece).</summary>
    public Word Tokenize(ReadOnlySpan<char> word)
    {
        if (_splitBeforeMetaspace && !ByteLevel && word.Length > 16 && HasMetaspaceBoundary(word)) return TokenizeChunks(word);
        return TokenizeCached(word);
    }

    Word TokenizeCached(ReadOnlySpan<char> word)
    {
        if (_cacheBySpan.TryGetValue(word, out var cached)) return cached;
        var result = Compute(word);
        if (word.Length <= MaxCachedWordLength && _cacheCount < MaxCacheEntries && _cacheBySpan.TryAdd(word, result))
            Interlocked.Increment(ref _cacheCount);
        return result;
    }

    /// <summary>Tokenizes the pieces that start at each '▁' run separately and joins the results.</summary>
    Word TokenizeChunks(ReadOnlySpan<char> word)
    {
        var ids = new List<int>(word.Length / 3);
        var starts = new List<int>(word.Length / 3);
        var ends = new List<int>(word.Length / 3);
        int start = 0;
        for (int i = 1; i <= word.Length; i++)
        {
            if (i < word.Length && !(word[i] == '▁' && word[i - 1] != '▁')) continue;
            var piece = TokenizeCached(word[start..i]);
            ids.AddRange(piece.Ids);
            foreach (var s in piece.Starts) starts.Add(s + start);
            foreach (var e in piece.Ends) ends.Add(e + start);
            start = i;
        }
        return new Word(ids.ToArray(), starts.ToArray(), ends.ToArray());
    }

    Word Compute(ReadOnlySpan<char> word)
    {
        // Symbols: one per character (or per UTF-8 byte in byte-level mode), as parallel arrays.
        int capacity = ByteLevel ? System.Text.Encoding.UTF8.GetMaxByteCount(word.Length) : word.Length * 4 + 4;
        var pool = ArrayPool<int>.Shared;
        int[] ids = pool.Rent(capacity), starts = pool.Rent(capacity), ends = pool.Rent(capacity);
        char[] mapped = ArrayPool<char>.Shared.Rent(capacity + Prefix.Length + Suffix.Length + 8);
        try
        {
            int n = ByteLevel
                ? ByteSymbols(word, ids, starts, ends, mapped, out int mappedLength)
                : CharSymbols(word, ids, starts, ends, mapped, out mappedLength);

            // Llama 3 sets ignore_merges: a word that is itself a vocabulary entry is emitted whole.
            if (IgnoreMerges && _vocabBySpan.TryGetValue(mapped.AsSpan(0, mappedLength), out var whole))
                return new Word([whole], [0], [word.Length]);

            n = n <= SimpleMergeLimit ? MergeByScan(ids, starts, ends, n) : MergeByHeap(ids, starts, ends, n);
            return new Word(ids.AsSpan(0, n).ToArray(), starts.AsSpan(0, n).ToArray(), ends.AsSpan(0, n).ToArray());
        }
        finally
        {
            pool.Return(ids); pool.Return(starts); pool.Return(ends);
            ArrayPool<char>.Shared.Return(mapped);
        }
    }

    /// <summary>Byte-level symbols: each UTF-8 byte is one symbol; its offsets are those of the character it belongs to.</summary>
    int ByteSymbols(ReadOnlySpan<char> word, int[] ids, int[] starts, int[] ends, char[] mapped, out int mappedLength)
    {
        Span<byte> utf8 = stackalloc byte[4];
        int n = 0;
        mappedLength = 0;
        bool affixes = Prefix.Length > 0 || Suffix.Length > 0;
        for (int i = 0; i < word.Length;)
        {
            int len = char.IsHighSurrogate(word[i]) && i + 1 < word.Length && char.IsLowSurrogate(word[i + 1]) ? 2 : 1;
            int count = System.Text.Encoding.UTF8.GetBytes(word.Slice(i, len), utf8);
            for (int k = 0; k < count; k++)
            {
                char c = ByteLevelAlphabet.ByteToChar[utf8[k]];
                mapped[mappedLength++] = c;
                int id = _byteCharIds[utf8[k]];
                if (affixes) id = AffixedId(c.ToString(), n == 0, i + len == word.Length && k == count - 1);
                n = Push(ids, starts, ends, n, id, i, i + len, [utf8[k]]);
            }
            i += len;
        }
        return n;
    }

    /// <summary>Character symbols (SentencePiece-style BPE): unknown characters fall back to &lt;0xNN&gt; bytes or unk.</summary>
    int CharSymbols(ReadOnlySpan<char> word, int[] ids, int[] starts, int[] ends, char[] mapped, out int mappedLength)
    {
        Span<byte> utf8 = stackalloc byte[4];
        int n = 0;
        word.CopyTo(mapped);
        mappedLength = word.Length;
        for (int i = 0; i < word.Length;)
        {
            int len = char.IsHighSurrogate(word[i]) && i + 1 < word.Length && char.IsLowSurrogate(word[i + 1]) ? 2 : 1;
            var ch = word.Slice(i, len);
            int id = Prefix.Length > 0 || Suffix.Length > 0
                ? AffixedId(ch.ToString(), i == 0, i + len == word.Length)
                : _vocabBySpan.TryGetValue(ch, out var v) ? v : -1;
            int count = System.Text.Encoding.UTF8.GetBytes(ch, utf8);
            n = Push(ids, starts, ends, n, id, i, i + len, utf8[..count]);
            i += len;
        }
        return n;
    }

    int AffixedId(string symbol, bool first, bool last)
    {
        var s = (first ? "" : Prefix) + symbol + (last ? Suffix : "");
        return Vocab.TryGetValue(s, out var id) ? id : -1;
    }

    /// <summary>Appends one symbol, handling unknown ones the way Hugging Face's BPE does.</summary>
    int Push(int[] ids, int[] starts, int[] ends, int n, int id, int start, int end, ReadOnlySpan<byte> bytes)
    {
        if (id >= 0)
        {
            ids[n] = id; starts[n] = start; ends[n] = end;
            return n + 1;
        }
        if (ByteFallback && _hasAllFallbackBytes)
        {
            foreach (var b in bytes)
            {
                ids[n] = _byteFallbackIds[b]; starts[n] = start; ends[n] = end;
                n++;
            }
            return n;
        }
        if (UnkId < 0) return n; // no unk token: the character is dropped, as in Hugging Face tokenizers
        if (FuseUnk && n > 0 && ids[n - 1] == UnkId)
        {
            ends[n - 1] = end;
            return n;
        }
        ids[n] = UnkId; starts[n] = start; ends[n] = end;
        return n + 1;
    }

    /// <summary>
    /// For short words: keep the rank of every adjacent pair, merge the lowest-ranked (leftmost on ties),
    /// and re-rank only the two pairs the merge touched.
    /// </summary>
    int MergeByScan(int[] ids, int[] starts, int[] ends, int n)
    {
        if (n < 2) return n;
        Span<int> ranks = stackalloc int[SimpleMergeLimit];
        Span<int> mergedIds = stackalloc int[SimpleMergeLimit];
        for (int i = 0; i + 1 < n; i++) Rank(ids, i, ranks, mergedIds);
        while (n > 1)
        {
            int best = -1, bestRank = int.MaxValue;
            for (int i = 0; i + 1 < n; i++)
                if (ranks[i] < bestRank) { best = i; bestRank = ranks[i]; }
            if (best < 0) break;
            ids[best] = mergedIds[best];
            ends[best] = ends[best + 1];
            int tail = n - best - 2;
            Array.Copy(ids, best + 2, ids, best + 1, tail);
            Array.Copy(starts, best + 2, starts, best + 1, tail);
            Array.Copy(ends, best + 2, ends, best + 1, tail);
            ranks.Slice(best + 2, tail).CopyTo(ranks[(best + 1)..]);
            mergedIds.Slice(best + 2, tail).CopyTo(mergedIds[(best + 1)..]);
            n--;
            if (best > 0) Rank(ids, best - 1, ranks, mergedIds);
            if (best + 1 < n) Rank(ids, best, ranks, mergedIds);
        }
        return n;
    }

    void Rank(int[] ids, int i, Span<int> ranks, Span<int> mergedIds)
    {
        if (_merges.TryGetValue(PairKey(ids[i], ids[i + 1]), out var m)) { ranks[i] = m.Rank; mergedIds[i] = m.Id; }
        else ranks[i] = int.MaxValue;
    }

    /// <summary>For long words: a priority queue of candidate merges ordered by (rank, position), over a linked list.</summary>
    int MergeByHeap(int[] ids, int[] starts, int[] ends, int n)
    {
        var next = new int[n];
        var prev = new int[n];
        for (int i = 0; i < n; i++) { next[i] = i + 1 < n ? i + 1 : -1; prev[i] = i - 1; }
        var queue = new PriorityQueue<(int Left, int LeftId, int Right, int RightId, int Merged), long>();
        void Offer(int left)
        {
            int right = left >= 0 ? next[left] : -1;
            if (right < 0) return;
            if (_merges.TryGetValue(PairKey(ids[left], ids[right]), out var m))
                queue.Enqueue((left, ids[left], right, ids[right], m.Id), ((long)m.Rank << 32) | (uint)left);
        }
        for (int i = 0; i + 1 < n; i++) Offer(i);
        while (queue.TryDequeue(out var c, out _))
        {
            // Entries go stale when a neighbour merged first; skip those.
            if (ids[c.Left] != c.LeftId || next[c.Left] != c.Right || ids[c.Right] != c.RightId) continue;
            ids[c.Left] = c.Merged;
            ends[c.Left] = ends[c.Right];
            ids[c.Right] = -1;
            next[c.Left] = next[c.Right];
            if (next[c.Right] >= 0) prev[next[c.Right]] = c.Left;
            Offer(prev[c.Left]);
            Offer(c.Left);
        }
        int w = 0;
        for (int i = 0; i >= 0; i = next[i])
        {
            ids[w] = ids[i]; starts[w] = starts[i]; ends[w] = ends[i];
            w++;
        }
        return w;
    }
}
