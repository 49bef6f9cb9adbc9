using Tunebook.Text.Templates;

namespace Tunebook.Text.Tests.Templates;

/// <summary>Errors name the template line and column that failed, and why.</summary>
public class TemplateErrorTests
{
    static TemplateException RenderError(string source, object? n = null) =>
        Assert.Throws<TemplateException>(() => ChatTemplate.Parse(source).RenderVariables(new Dictionary<string, object?> { ["n"] = n ?? 7 }));

    [Fact]
    public void Unknown_filter_names_line_column_and_filter()
    {
        var e = RenderError("line1\n\n  {{ n | foo }}");
        Assert.Equal(3, e.Line);
        Assert.Equal(10, e.Column);
        Assert.StartsWith("chat template line 3, col 10: unknown filter 'foo'", e.Message);
    }

    [Fact]
    public void Render_errors_of_a_template_read_from_a_file_name_the_file()
    {
        // A template that parses but fails when rendered (a misspelt variable) must still say which file to fix.
        var folder = Directory.CreateTempSubdirectory("tunebook-template-origin-");
        try
        {
            var path = Path.Combine(folder.FullName, "tokenizer_config.json");
            File.WriteAllText(path, """{"chat_template": "{% for m in meSsages %}{{ m.content }}{% endfor %}"}""");
            var template = ChatTemplate.FromTokenizerConfig(path);
            var e = Assert.Throws<TemplateException>(() => template.Render([ChatMessage.User("Hi")]));
            Assert.Contains(path, e.Message, StringComparison.Ordinal);
            Assert.Equal(1, e.Line);
            Assert.DoesNotContain(path, e.Reason, StringComparison.Ordinal);
            Assert.Equal($"chat_template of {path}", e.Origin);
        }
        finally { folder.Delete(recursive: true); }
    }

    [Fact]
    public void Lines_count_in_the_original_source_after_trim_and_lstrip_blocks()
    {
        // trim_blocks removes the newlines after the tags and lstrip_blocks the indentation; positions must not shift.
        var e = RenderError("{% if true %}\n  ok\n    {% endif %}\n{% for x in [1] %}\n{{ x | nope }}\n{% endfor %}");
        Assert.Equal((5, 8), (e.Line, e.Column));
    }

    [Fact]
    public void Undefined_arithmetic_points_at_the_operator_and_names_the_variable()
    {
        var e = RenderError("a\n{{ missing + 1 }}");
        Assert.Equal((2, 12), (e.Line, e.Column));
        Assert.Contains("'missing' is not defined", e.Reason);
    }

    [Fact]
    public void Calling_an_undefined_name_says_so()
    {
        var e = RenderError("{{ nothing(1) }}");
        Assert.Equal((1, 4), (e.Line, e.Column));
        Assert.Contains("'nothing' is undefined", e.Reason);
    }

    [Fact]
    public void Raise_exception_message_is_passed_through_with_its_location()
    {
        var e = RenderError("x\n{% if n > 5 %}\n  {{ raise_exception('too big: ' ~ n) }}\n{% endif %}");
        Assert.True(e.RaisedByTemplate);
        Assert.Equal("too big: 7", e.Reason);
        Assert.Equal((3, 6), (e.Line, e.Column));
        Assert.Equal("chat template line 3, col 6: too big: 7", e.Message);
    }

    [Fact]
    public void Errors_inside_macros_point_into_the_macro_body()
    {
        var e = RenderError("{% macro m(x) %}\n{{ x.y + 1 }}\n{% endmacro %}\n{{ m({}) }}");
        Assert.Equal(2, e.Line);
    }

    [Theory]
    [InlineData("{% if x %}\nabc", 1, 4, "'{% if %}' is never closed")]
    [InlineData("ok\n{% frobnicate %}", 2, 4, "unknown statement 'frobnicate'")]
    [InlineData("{{ 'abc }}", 1, 4, "never closed")]
    [InlineData("{{ x", 1, 4, "unexpected end of template")]
    [InlineData("{% for x in %}{% endfor %}", 1, 13, "unexpected '%}'")]
    [InlineData("{% for 1 in xs %}{% endfor %}", 1, 8, "loop variable")]
    [InlineData("{{ a ? b }}", 1, 6, "unexpected character '?'")]
    [InlineData("a {# never closed", 1, 3, "'#}'")]
    [InlineData("{% set x = [1, 2 %}", 1, 18, "unexpected '%}'")]
    public void Parse_errors_name_line_and_column(string source, int line, int column, string reason)
    {
        var e = Assert.Throws<TemplateException>(() => ChatTemplate.Parse(source));
        Assert.Contains(reason, e.Reason);
        Assert.Equal((line, column), (e.Line, e.Column));
    }

    [Fact]
    public void Runaway_recursion_is_an_error_not_a_crash()
    {
        var e = RenderError("{% macro f(k) %}{{ f(k + 1) }}{% endmacro %}{{ f(0) }}");
        Assert.Contains("nested deeper", e.Reason);
    }

    [Fact]
    public void Deeply_nested_source_is_an_error_not_a_crash()
    {
        var source = "{{ " + new string('(', 20000) + "1" + new string(')', 20000) + " }}";
        Assert.Throws<TemplateException>(() => ChatTemplate.Parse(source));
    }

    [Fact]
    public void Long_whitespace_runs_and_operator_chains_do_not_blow_up()
    {
        // Whitespace scanning must stay linear (the generation-tag rewrite once backtracked quadratically).
        var spaces = new string(' ', 200_000);
        Assert.Equal(spaces + "1" + spaces, ChatTemplate.Parse(spaces + "{{ 1 }}" + spaces + "generation").RenderVariables(new Dictionary<string, object?>())[..^10]);
        Assert.Throws<TemplateException>(() => ChatTemplate.Parse("{{ " + string.Concat(Enumerable.Repeat("- ", 100_000)) + "1 }}").RenderVariables(new Dictionary<string, object?>()));
        Assert.Throws<TemplateException>(() => ChatTemplate.Parse("{{ " + string.Concat(Enumerable.Repeat("not ", 100_000)) + "1 }}").RenderVariables(new Dictionary<string, object?>()));
    }

    [Fact]
    public void Break_outside_a_loop_is_reported()
    {
        Assert.Contains("'break' outside", RenderError("{% break %}").Reason);
    }
}
