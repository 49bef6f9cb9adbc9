namespace Tunebook.Starter;

/// <summary>What a question asks about.</summary>
public enum QaKind
{
    /// <summary>"How do I water the lawn zone?" → the command that does it.</summary>
    Task,
    /// <summary>"What does `puddle sync` do?"</summary>
    CommandPurpose,
    /// <summary>"What does --dry-run do in puddle water?"</summary>
    OptionMeaning,
    /// <summary>"What does --minutes default to?"</summary>
    OptionDefault,
    /// <summary>"What does the global --quiet option do?"</summary>
    GlobalOption,
    /// <summary>"What does PUDDLE_TOKEN do?"</summary>
    EnvVar,
    /// <summary>"What does exit code 3 mean?"</summary>
    ExitCode,
    /// <summary>"What does the water.max_minutes setting do?"</summary>
    ConfigKey,
    /// <summary>"What is the default of water.max_minutes?"</summary>
    ConfigDefault,
}

/// <summary>
/// Question phrasings, per kind. The domain training set uses <see cref="Train"/>; the held-out set uses
/// <see cref="HeldOut"/> only, so held-out questions are paraphrases the fine-tuned model never saw. The
/// starter corpus uses every set (about other tools), the way a real base model has met many phrasings.
/// Placeholders: {tool} {task} {cmd} {opt} {env} {code} {key}.
/// </summary>
public sealed class QuestionTemplates
{
    public required IReadOnlyDictionary<QaKind, string[]> ByKind { get; init; }

    /// <summary>The phrasings of one kind (empty when the set has none).</summary>
    public string[] For(QaKind kind) => ByKind.TryGetValue(kind, out var t) ? t : [];

    /// <summary>Phrasings used to build the domain training set.</summary>
    public static QuestionTemplates Train { get; } = new()
    {
        ByKind = new Dictionary<QaKind, string[]>
        {
            [QaKind.Task] =
            [
                "How do I {task}?",
                "How can I {task} with {tool}?",
                "What is the {tool} command to {task}?",
                "I want to {task}. What should I run?",
                "Which command do I use to {task}?",
            ],
            [QaKind.CommandPurpose] = ["What does `{tool} {cmd}` do?", "What is {tool} {cmd} used for?"],
            [QaKind.OptionMeaning] = ["What does the {opt} option of {tool} {cmd} do?", "What is {opt} for in {tool} {cmd}?"],
            [QaKind.OptionDefault] = ["What is the default value of {opt} in {tool} {cmd}?", "What does {opt} default to in {tool} {cmd}?"],
            [QaKind.GlobalOption] = ["What does the global {opt} option of {tool} do?", "What is {opt} for in {tool}?"],
            [QaKind.EnvVar] = ["What does the {env} environment variable do?", "What is {env} for in {tool}?"],
            [QaKind.ExitCode] = ["What does exit code {code} from {tool} mean?", "When {tool} exits with code {code}, what does that mean?"],
            [QaKind.ConfigKey] = ["What does the {key} setting do in {tool}?", "What is the {key} setting?"],
            [QaKind.ConfigDefault] = ["What is the default of {key} in {tool}?", "What is {key} set to by default?"],
        },
    };

    /// <summary>Phrasings reserved for the held-out set: never used in the domain training set.</summary>
    public static QuestionTemplates HeldOut { get; } = new()
    {
        ByKind = new Dictionary<QaKind, string[]>
        {
            [QaKind.Task] =
            [
                "What would I type to {task}?",
                "Using {tool}, how would you {task}?",
                "Tell me the command that will {task}.",
                "What's the right way to {task} in {tool}?",
            ],
            [QaKind.CommandPurpose] = ["Explain what {tool} {cmd} is for."],
            [QaKind.OptionMeaning] = ["Explain the {opt} flag of {tool} {cmd}.", "In {tool} {cmd}, what is {opt} used for?"],
            [QaKind.OptionDefault] = ["If I leave out {opt}, what does {tool} {cmd} use?"],
            [QaKind.GlobalOption] = ["Explain the {opt} flag that every {tool} command accepts."],
            [QaKind.EnvVar] = ["Explain the {env} variable."],
            [QaKind.ExitCode] = ["Why would {tool} return exit status {code}?"],
            [QaKind.ConfigKey] = ["Explain the {key} key in the {tool} config file."],
            [QaKind.ConfigDefault] = ["Out of the box, what is {key} set to?"],
        },
    };

    /// <summary>More phrasings that only the starter corpus uses, for variety.</summary>
    public static QuestionTemplates Extra { get; } = new()
    {
        ByKind = new Dictionary<QaKind, string[]>
        {
            [QaKind.Task] =
            [
                "Can you show me how to {task}?",
                "How would I {task}?",
                "What command lets me {task}?",
                "I need to {task} with {tool}. How?",
                "Show me the {tool} command to {task}.",
            ],
            [QaKind.CommandPurpose] = ["What is `{tool} {cmd}` for?", "Describe the {tool} {cmd} command."],
            [QaKind.OptionMeaning] = ["What happens when I pass {opt} to {tool} {cmd}?"],
            [QaKind.OptionDefault] = ["What value does {tool} {cmd} use for {opt} when I don't give one?"],
            [QaKind.EnvVar] = ["How does {tool} use {env}?"],
            [QaKind.ExitCode] = ["Why did {tool} return {code}?"],
        },
    };

    /// <summary>Every phrasing of the given sets together.</summary>
    public static QuestionTemplates Union(params QuestionTemplates[] sets) => new()
    {
        ByKind = Enum.GetValues<QaKind>().ToDictionary(k => k, k => sets.SelectMany(s => s.For(k)).Distinct().ToArray()),
    };
}
