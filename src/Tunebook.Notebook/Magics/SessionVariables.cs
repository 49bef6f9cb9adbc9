using Tunebook.Interactive;
using Tunebook.Models;
using Tunebook.Tuning.Data;
using Tunebook.Tuning.Lora;
using Tunebook.Tuning.Training;

namespace Tunebook.Notebook.Magics;

/// <summary>The session variables the magics share (model, tokenizer, data, lora, trainer), read with a clear error when missing.</summary>
static class SessionVariables
{
    public const string Model = "model", Tokenizer = "tokenizer", Data = "data", Lora = "lora", Trainer = "trainer";

    public static T Require<T>(IMagicContext context, string name, string hint) where T : class =>
        context.GetVariable(name) switch
        {
            T value => value,
            null => throw new InvalidOperationException($"no `{name}` variable yet: {hint}"),
            var other => throw new InvalidOperationException($"`{name}` is a {other.GetType().Name}, expected a {typeof(T).Name}: {hint}"),
        };

    public static CausalLM RequireModel(IMagicContext c) => Require<CausalLM>(c, Model, "load one with #!model load starter (or a model folder)");
    public static PreparedData RequireData(IMagicContext c) => Require<PreparedData>(c, Data, "load a data file with #!data load FILE");
    public static LoraModel RequireLora(IMagicContext c) => Require<LoraModel>(c, Lora, "add adapters with #!lora");
    public static Trainer RequireTrainer(IMagicContext c) => Require<Trainer>(c, Trainer, "start a run with #!train --steps N");
}
