using System.Text.Encodings.Web;
using System.Text.Json;

namespace Tunebook.Text.Tokenizers;

/// <summary>
/// Trains a byte-level BPE tokenizer (the GPT-2 / Llama 3 / Qwen kind) from text, reproducibly: the same
/// texts and settings always give the same tokenizer.json. The result is a standard tokenizer.json that
/// Hugging Face's libraries load.
/// </summary>
/// <remarks>
/// Training counts how often each word (a piece cut by <see cref="SplitPattern"/>) occurs, starts from the
/// 256 byte symbols, and repeatedly adds the most frequent adjacent pair as a new token (ties broken by the
/// pair's text, so the order is deterministic) until the vocabulary has <c>vocabSize</c> entries.
/// </remarks>
public static class BpeTrainer
{
    /// <summary>Llama 3's split pattern: letters, 1–3 digit groups, punctuation runs, newlines, spaces.</summary>
    public const string SplitPattern = @"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+";

    /// <summary>
    /// Trains a tokenizer. Special tokens get the first ids (0, 1, ...) in the order given, then the 256 byte
    /// symbols, then learned merges.
    /// </summary>
    /// <param name="texts">Training text.</param>
    /// <param name="vocabSize">Target vocabulary size including special tokens and the 256 bytes.</param>
    /// <param name="specialTokens">E.g. <c>["&lt;|endoftext|&gt;", "&lt;|im_start|&gt;", "&lt;|im_end|&gt;"]</c>; occurrences in the training text are skipped.</param>
    /// <param name="splitPattern">Word-splitting regex (Oniguruma/.NET syntax); defaults to <see cref="SplitPattern"/>.</param>
    /// <param name="minFrequency">Stop early when the best pair occurs fewer times than this.</param>
    /// <param name="config">tokenizer_config.json settings (BOS/EOS/PAD, chat template) to attach; null for none.</param>
    public static Tokenizer Train(IEnumerable<string> texts, int vocabSize, IReadOnlyList<string> specialTokens,
        string? splitPattern = null, int minFrequency = 2, TokenizerConfig? config = null)
    {
        ArgumentNullException.ThrowIfNull(texts);
        ArgumentNullException.ThrowIfNull(specialTokens);
        if (specialTokens.Distinct().Count() != specialTokens.Count) throw new ArgumentException("special tokens must be distinct", nameof(specialTokens));
        if (vocabSize < specialTokens.Count + 256)
            throw new ArgumentOutOfRangeException(nameof(vocabSize), $"vocabSize must be at least {specialTokens.Count + 256} (special tokens + 256 bytes)");
        splitPattern ??= SplitPattern;
        var split = Pattern.FromRegex(splitPattern);

        // 1. Word frequencies (special tokens never take part in merges).
        var specialMatcher = new AddedTokenMatcher(specialTokens.Select((s, i) => new AddedToken(i, s)), t => t.Content);
        var counts = new Dictionary<string, long>(StringComparer.Ordinal);
        foreach (var text in texts)
        {
            int last = 0;
            foreach (var m in specialMatcher.Find(text, skipSpecial: false))
            {
                CountWords(text[last..m.Start], split, counts);
                last = m.End;
            }
            CountWords(text[last..], split, counts);
        }

        // 2. Initial vocabulary: special tokens, then every byte symbol.
        var tokens = new List<string>(specialTokens);
        var vocab = new Dictionary<string, int>(StringComparer.Ordinal);
        for (int i = 0; i < tokens.Count; i++) vocab[tokens[i]] = i;
        var byteIds = new int[256];
        for (int b = 0; b < 256; b++)
        {
            var s = ByteLevelAlphabet.ByteToChar[b].ToString();
            if (!vocab.TryGetValue(s, out var id)) { id = tokens.Count; tokens.Add(s); vocab[s] = id; }
            byteIds[b] = id;
        }

        // Words in a fixed order so that training is reproducible.
        var words = counts.OrderBy(kv => kv.Key, StringComparer.Ordinal)
            .Select(kv => (Symbols: System.Text.Encoding.UTF8.GetBytes(kv.Key).Select(b => byteIds[b]).ToList(), Count: kv.Value)).ToArray();

        // 3. Pair statistics and the words each pair occurs in.
        var pairCounts = new Dictionary<long, long>();
        var pairWords = new Dictionary<long, HashSet<int>>();
        for (int w = 0; w < words.Length; w++) AddPairs(words[w].Symbols, words[w].Count, w, pairCounts, pairWords, +1);

        var queue = new PriorityQueue<long, (long Count, string A, string B)>(new PairOrder());
        foreach (var (pair, count) in pairCounts) queue.Enqueue(pair, (count, tokens[First(pair)], tokens[Second(pair)]));

        var merges = new List<(string, string)>();
        while (tokens.Count < vocabSize && queue.TryDequeue(out var best, out var priority))
        {
            long current = pairCounts.GetValueOrDefault(best);
            if (current != priority.Count)
            {
                if (current > 0) queue.Enqueue(best, (current, priority.A, priority.B)); // stale entry: requeue with today's count
                continue;
            }
            if (current < minFrequency) break;

            int a = First(best), b = Second(best);
            var merged = tokens[a] + tokens[b];
            if (!vocab.TryGetValue(merged, out var newId)) { newId = tokens.Count; tokens.Add(merged); vocab[merged] = newId; }
            merges.Add((tokens[a], tokens[b]));

            var touched = new HashSet<long>();
            foreach (var w in pairWords[best].Order().ToArray())
            {
                var symbols = words[w].Symbols;
                if (!ContainsPair(symbols, a, b)) continue;
                AddPairs(symbols, words[w].Count, w, pairCounts, pairWords, -1, touched);
                ApplyMerge(symbols, a, b, newId);
                AddPairs(symbols, words[w].Count, w, pairCounts, pairWords, +1, touched);
            }
            foreach (var pair in touched)
                if (pair != best && pairCounts.GetValueOrDefault(pair) > 0)
                    queue.Enqueue(pair, (pairCounts[pair], tokens[First(pair)], tokens[Second(pair)]));
            pairCounts.Remove(best);
        }

        var json = WriteJson(specialTokens, vocab, merges, splitPattern);
        return Tokenizer.FromJson(json, config ?? DefaultConfig(specialTokens), "trained tokenizer");
    }

    static TokenizerConfig DefaultConfig(IReadOnlyList<string> specials) => new()
    {
        BosToken = null,
        EosToken = specials.Contains("<|im_end|>") ? "<|im_end|>" : specials.FirstOrDefault(),
        PadToken = specials.Contains("<|endoftext|>") ? "<|endoftext|>" : specials.FirstOrDefault(),
        CleanUpTokenizationSpaces = false,
        TokenizerClass = "PreTrainedTokenizerFast",
    };

    sealed class PairOrder : IComparer<(long Count, string A, string B)>
    {
        // Highest count first; ties by the pair's text so training never depends on hash order.
        public int Compare((long Count, string A, string B) x, (long Count, string A, string B) y)
        {
            int c = y.Count.CompareTo(x.Count);
            if (c != 0) return c;
            c = string.CompareOrdinal(x.A, y.A);
            return c != 0 ? c : string.CompareOrdinal(x.B, y.B);
        }
    }

    static long Key(int a, int b) => ((long)a << 32) | (uint)b;
    static int First(long pair) => (int)(pair >> 32);
    static int Second(long pair) => (int)(uint)pair;

    static void CountWords(string text, Pattern split, Dictionary<string, long> counts)
    {
        if (text.Length == 0) return;
        int last = 0;
        foreach (var (s, e) in split.Matches(text))
        {
            if (s > last) Add(text[last..s]);
            Add(text[s..e]);
            last = e;
        }
        if (last < text.Length) Add(text[last..]);

        void Add(string w) => counts[w] = counts.GetValueOrDefault(w) + 1;
    }

    static void AddPairs(List<int> symbols, long count, int word, Dictionary<long, long> pairCounts,
        Dictionary<long, HashSet<int>> pairWords, int sign, HashSet<long>? touched = null)
    {
        for (int i = 0; i + 1 < symbols.Count; i++)
        {
            long key = Key(symbols[i], symbols[i + 1]);
            pairCounts[key] = pairCounts.GetValueOrDefault(key) + sign * count;
            touched?.Add(key);
            if (sign > 0)
            {
                if (!pairWords.TryGetValue(key, out var set)) pairWords[key] = set = new HashSet<int>();
                set.Add(word);
            }
        }
    }

    static bool ContainsPair(List<int> s, int a, int b)
    {
        for (int i = 0; i + 1 < s.Count; i++) if (s[i] == a && s[i + 1] == b) return true;
        return false;
    }

    /// <summary>Left-to-right, non-overlapping replacement of (a, b) by the merged id, as BPE encoding applies it.</summary>
    static void ApplyMerge(List<int> s, int a, int b, int merged)
    {
        int w = 0;
        for (int r = 0; r < s.Count; r++)
        {
            if (r + 1 < s.Count && s[r] == a && s[r + 1] == b) { s[w++] = merged; r++; }
            else s[w++] = s[r];
        }
        s.RemoveRange(w, s.Count - w);
    }

    static string WriteJson(IReadOnlyList<string> specials, Dictionary<string, int> vocab, List<(string, string)> merges, string splitPattern)
    {
        using var ms = new MemoryStream();
        using (var w = new Utf8JsonWriter(ms, new JsonWriterOptions { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping, Indented = false }))
        {
            w.WriteStartObject();
            w.WriteString("version", "1.0");
            w.WriteNull("truncation");
            w.WriteNull("padding");
            w.WriteStartArray("added_tokens");
            for (int i = 0; i < specials.Count; i++) TokenizerJsonWriter.WriteAddedToken(w, i, specials[i], special: true);
            w.WriteEndArray();
            w.WriteNull("normalizer");
            w.WriteStartObject("pre_tokenizer");
            w.WriteString("type", "Sequence");
            w.WriteStartArray("pretokenizers");
            w.WriteStartObject();
            w.WriteString("type", "Split");
            w.WriteStartObject("pattern");
            w.WriteString("Regex", splitPattern);
            w.WriteEndObject();
            w.WriteString("behavior", "Isolated");
            w.WriteBoolean("invert", false);
            w.WriteEndObject();
            w.WriteStartObject();
            w.WriteString("type", "ByteLevel");
            w.WriteBoolean("add_prefix_space", false);
            w.WriteBoolean("trim_offsets", true);
            w.WriteBoolean("use_regex", false);
            w.WriteEndObject();
            w.WriteEndArray();
            w.WriteEndObject();
            TokenizerJsonWriter.WriteByteLevel(w, "post_processor", addPrefixSpace: true, trimOffsets: false, useRegex: true);
            TokenizerJsonWriter.WriteByteLevel(w, "decoder", addPrefixSpace: true, trimOffsets: true, useRegex: true);
            TokenizerJsonWriter.WriteBpeModel(w, vocab.OrderBy(kv => kv.Value).Select(kv => (kv.Key, kv.Value)), merges);
            w.WriteEndObject();
        }
        return System.Text.Encoding.UTF8.GetString(ms.ToArray());
    }
}
