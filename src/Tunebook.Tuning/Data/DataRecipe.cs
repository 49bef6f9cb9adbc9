using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.Json.Serialization;
using Tunebook.Text.Templates;
using Tunebook.Text.Tokenizers;
using Tunebook.Tuning.Data.Quality;
using Tunebook.Tuning.Runs;

namespace Tunebook.Tuning.Data;

/// <summary>A file a recipe reads, with its SHA-256 and size when it was read.</summary>
/// <param name="Role">"train" (the loaded file, or each file of a loaded folder) or "heldout".</param>
public sealed record RecipeFile(string Role, string Path, string Sha256, long Bytes);

/// <summary>
/// How a <see cref="PreparedData"/> was made, as data: the files read (with their SHA-256 when they were read), how they
/// were loaded (format, text split, bad rows), the preparation options (template, lengths, masking, split, seed,
/// packing) and the data checks. A run record keeps it (run.json's <c>options.data</c>) so a notebook run can be
/// replayed: <see cref="Prepare"/> makes the same data again from the same files. Data built in memory
/// (<c>Dataset.FromRecords</c>, <see cref="Dataset.FromJsonLines"/>) has no recipe: there is no file to read again.
/// </summary>
public sealed record DataRecipe
{
    /// <summary>The file or folder given to <see cref="Dataset.Load"/>.</summary>
    public required string Path { get; init; }
    /// <summary>The layout as given; null when it was detected from the fields.</summary>
    public DataFormat? Format { get; init; }
    public TextSplit TextSplit { get; init; }
    public bool SkipBadRows { get; init; }
    /// <summary>The held-out file checked for leakage, or null.</summary>
    public string? HeldOut { get; init; }
    /// <summary>Every file read, with its digest when it was read.</summary>
    public required IReadOnlyList<RecipeFile> Files { get; init; }
    public required PrepareOptions Prepare { get; init; }
    /// <summary><see cref="PrepareOptions.TemplateVariables"/>, as JSON values.</summary>
    public IReadOnlyDictionary<string, JsonNode?>? TemplateVariables { get; init; }
    /// <summary>The source of a chat template passed explicitly; null: the tokenizer's (or the built-in one named in the options).</summary>
    public string? ChatTemplate { get; init; }
    /// <summary>The data checks (<see cref="RawDataset.PrepareChecked"/>); null when the data was prepared without them.</summary>
    public DataCheckOptions? Checks { get; init; }

    /// <summary>The recipe of preparing <paramref name="data"/> with these settings, or null (with the reason) when it cannot be written down.</summary>
    internal static (DataRecipe? Recipe, string? Missing) Of(RawDataset data, ChatTemplate? template, PrepareOptions options, DataCheckOptions? checks, RawDataset? heldOut)
    {
        if (data.Origin is not { } origin) return (null, $"the data was built in memory ({data.Source}), not loaded from a file");
        if (heldOut is not null && heldOut.Origin is null) return (null, $"the held-out examples were built in memory ({heldOut.Source}), not loaded from a file");
        Dictionary<string, JsonNode?>? variables = null;
        if (options.TemplateVariables is { } given)
        {
            variables = [];
            foreach (var (name, value) in given)
            {
                if (value is not (null or bool or string or int or long or double))
                    return (null, $"the template variable '{name}' is a {value.GetType().Name}; a recipe holds only strings, numbers and booleans");
                variables[name] = value switch
                {
                    bool v => JsonValue.Create(v), string v => JsonValue.Create(v), int v => JsonValue.Create(v),
                    long v => JsonValue.Create(v), double v => JsonValue.Create(v), _ => null,
                };
            }
        }
        return (new DataRecipe
        {
            Path = origin.Path, Format = origin.Format, TextSplit = origin.Options.TextSplit, SkipBadRows = origin.Options.SkipBadRows,
            HeldOut = heldOut?.Origin!.Path,
            Files = [.. origin.Files, .. heldOut?.Origin!.Files.Select(f => f with { Role = "heldout" }) ?? []],
            Prepare = options, TemplateVariables = variables, ChatTemplate = template?.Source, Checks = checks,
        }, null);
    }

    /// <summary>
    /// Prepares the data again: loads <see cref="Path"/> (and <see cref="HeldOut"/>) as they are now and applies the recorded
    /// options. Whether the files are still those of the recipe is the caller's to check (<see cref="Files"/> holds their digests).
    /// </summary>
    public PreparedData Rebuild(Tokenizer tokenizer)
    {
        ArgumentNullException.ThrowIfNull(tokenizer);
        var load = new LoadOptions { TextSplit = TextSplit, SkipBadRows = SkipBadRows };
        var raw = Dataset.Load(Path, Format, load);
        var heldOut = HeldOut is null ? null : Dataset.Load(HeldOut);
        var template = ChatTemplate is null ? null : Text.Templates.ChatTemplate.Parse(ChatTemplate);
        var options = Prepare with { TemplateVariables = TemplateVariables?.ToDictionary(kv => kv.Key, kv => Value(kv.Value)) };
        return Checks is null ? raw.Prepare(tokenizer, template, options) : raw.PrepareChecked(tokenizer, template, options, Checks, heldOut);
    }

    static object? Value(JsonNode? node) => node?.GetValueKind() switch
    {
        null or JsonValueKind.Null => null,
        JsonValueKind.True => true,
        JsonValueKind.False => false,
        JsonValueKind.String => node.GetValue<string>(),
        JsonValueKind.Number => node.AsValue().TryGetValue<long>(out var l) ? l : node.GetValue<double>(),
        _ => node.ToJsonString(),
    };

    /// <summary>The recipe with every path mapped by <paramref name="map"/> (relative to a run folder and back).</summary>
    public DataRecipe MapPaths(Func<string, string> map)
    {
        ArgumentNullException.ThrowIfNull(map);
        return this with
        {
            Path = map(Path), HeldOut = HeldOut is null ? null : map(HeldOut),
            Files = Files.Select(f => f with { Path = map(f.Path) }).ToList(),
        };
    }

    /// <summary>The recipe as JSON (snake_case, enums as strings), as run.json holds it.</summary>
    public JsonNode ToJson() => JsonSerializer.SerializeToNode(this, DataRecipeJson.Default.DataRecipe)!;

    /// <summary>A recipe read back from <see cref="ToJson"/>; a malformed one throws <see cref="JsonException"/> with the path of the field.</summary>
    public static DataRecipe FromJson(JsonNode node) =>
        node.Deserialize(DataRecipeJson.Default.DataRecipe) ?? throw new JsonException("the data recipe is null");
}

/// <summary>Where a <see cref="RawDataset"/> was loaded from: what a <see cref="DataRecipe"/> needs to load it again.</summary>
internal sealed record DataOrigin(string Path, DataFormat? Format, LoadOptions Options, IReadOnlyList<RecipeFile> Files)
{
    public static DataOrigin Of(string path, IEnumerable<string> files, DataFormat? format, LoadOptions options) =>
        new(System.IO.Path.GetFullPath(path), format, options,
            files.Select(f => new RecipeFile("train", System.IO.Path.GetFullPath(f), FileDigest.Sha256(f), new FileInfo(f).Length)).ToList());
}

[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower, UseStringEnumConverter = true,
    DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull, NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals)]
[JsonSerializable(typeof(DataRecipe))]
internal sealed partial class DataRecipeJson : JsonSerializerContext;
