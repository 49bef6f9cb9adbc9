using System.Text.Json.Nodes;
using Tunebook.Tuning.Data;
using static Tunebook.Tuning.Tests.DataFixtures;

namespace Tunebook.Tuning.Tests;

public class HeldOutQuestionsTests
{
    [Fact]
    public void Reads_the_last_user_and_assistant_message_of_each_line_up_to_the_count()
    {
        var path = Write("heldout.jsonl", Lines(
            Chat(("system", "be brief"), ("user", "q1"), ("assistant", "a1")),
            Chat(("user", "first"), ("assistant", "x"), ("user", "q2"), ("assistant", "a2")),
            Chat(("user", "q3"), ("assistant", "a3"))) + "\n");
        var two = HeldOutQuestions.Load(path, 2);
        Assert.Equal(["q1", "q2"], two.Questions);
        Assert.Equal(["a1", "a2"], two.Answers);
        Assert.Equal(3, HeldOutQuestions.Load(path).Questions.Count);
    }

    [Theory]
    [InlineData("{\"messages\": [", "invalid JSON")]
    [InlineData("{\"text\": \"no messages\"}", "expected an object with \"messages\"")]
    [InlineData("{\"messages\": [{\"role\": \"assistant\", \"content\": \"a\"}]}", "no user message")]
    [InlineData("{\"messages\": [{\"role\": \"user\", \"content\": \"q\"}]}", "no assistant message")]
    [InlineData("{\"messages\": [{\"role\": \"user\", \"content\": 3}, {\"role\": \"assistant\", \"content\": \"a\"}]}", "not a string")]
    public void A_bad_line_is_an_error_naming_file_and_line(string bad, string expected)
    {
        var good = new JsonObject { ["messages"] = new JsonArray(new JsonObject { ["role"] = "user", ["content"] = "q" }, new JsonObject { ["role"] = "assistant", ["content"] = "a" }) };
        var path = Write("bad-heldout.jsonl", good.ToJsonString() + "\n\n" + bad + "\n");
        var e = Assert.Throws<FormatException>(() => HeldOutQuestions.Load(path));
        Assert.StartsWith($"{path}:3: ", e.Message);
        Assert.Contains(expected, e.Message);
    }
}
