using System.Text;

namespace Tunebook.Tuning.Data.Quality;

/// <summary>
/// The parts of a raw example the checks compare and scan: the prompt (what the model is asked), the answer (what it
/// is taught to say) and every text field with its name, whatever the example's layout.
/// </summary>
public static class ExampleParts
{
    /// <summary>The prompt: Alpaca instruction and input, the prompt, the user turns of a chat, or the whole text.</summary>
    public static string Prompt(RawExample e) => e.Format switch
    {
        DataFormat.Alpaca => e.Input is { Length: > 0 } input ? e.Instruction + "\n\n" + input : e.Instruction ?? "",
        DataFormat.PromptCompletion => e.Prompt ?? "",
        DataFormat.Chat => string.Join("\n", (e.Messages ?? []).Where(m => m.Role == "user").Select(m => m.Content ?? "")),
        _ => e.Text ?? "",
    };

    /// <summary>The answer: Alpaca output, completion, assistant turns of a chat; empty for plain text.</summary>
    public static string Answer(RawExample e) => e.Format switch
    {
        DataFormat.Alpaca => e.Output ?? "",
        DataFormat.PromptCompletion => e.Completion ?? "",
        DataFormat.Chat => string.Join("\n", (e.Messages ?? []).Where(m => m.Role == "assistant").Select(m => m.Content ?? "")),
        _ => "",
    };

    /// <summary>Prompt and answer together: what near-duplicate search compares.</summary>
    public static string Whole(RawExample e) => Answer(e) is { Length: > 0 } a ? Prompt(e) + "\n" + a : Prompt(e);

    /// <summary>Every text field of the example with the name an error message would use (<c>messages[2].content</c>).</summary>
    public static IEnumerable<(string Field, string Text)> Fields(RawExample e)
    {
        if (e.System is { } s) yield return ("system", s);
        if (e.Instruction is { } i) yield return ("instruction", i);
        if (e.Input is { Length: > 0 } input) yield return ("input", input);
        if (e.Output is { } o) yield return ("output", o);
        if (e.Prompt is { } p) yield return ("prompt", p);
        if (e.Completion is { } c) yield return ("completion", c);
        if (e.Text is { } t) yield return ("text", t);
        if (e.Messages is { } messages)
            for (int k = 0; k < messages.Count; k++)
                if (messages[k].Content is { } content) yield return ($"messages[{k}].content", content);
    }

    /// <summary>The example with each text field passed through <paramref name="rewrite"/> (given the field's name).</summary>
    public static RawExample Rewrite(RawExample e, Func<string, string, string> rewrite)
    {
        string? R(string field, string? text) => text is null ? null : rewrite(field, text);
        return e with
        {
            System = R("system", e.System), Instruction = R("instruction", e.Instruction),
            Input = e.Input is { Length: > 0 } ? R("input", e.Input) : e.Input,
            Output = R("output", e.Output), Prompt = R("prompt", e.Prompt), Completion = R("completion", e.Completion),
            Text = R("text", e.Text),
            Messages = e.Messages?.Select((m, k) => m.Content is null ? m : m with { Content = rewrite($"messages[{k}].content", m.Content) }).ToList(),
        };
    }

    /// <summary>
    /// Lower case with every run of white space made one space and the ends trimmed: two texts that differ only in
    /// case or spacing are the same text here.
    /// </summary>
    public static string Normalize(string text)
    {
        var sb = new StringBuilder(text.Length);
        bool space = false;
        foreach (char ch in text)
        {
            if (char.IsWhiteSpace(ch)) { space = sb.Length > 0; continue; }
            if (space) { sb.Append(' '); space = false; }
            sb.Append(char.ToLowerInvariant(ch));
        }
        return sb.ToString();
    }
}
