using Tunebook.Text.Templates;

namespace Tunebook.Text.Tests.Templates;

/// <summary>
/// Jinja features the reference engine (@huggingface/jinja) does not support — it fails on them — implemented with
/// Python Jinja's documented semantics, so templates written for transformers' Python side still render.
/// </summary>
public class JinjaExtensionTests
{
    static string Render(string source, Dictionary<string, object?>? vars = null) =>
        ChatTemplate.Parse(source).RenderVariables(vars ?? new Dictionary<string, object?> { ["xs"] = new[] { 1, 2, 3, 4, 5, 6 } });

    [Theory]
    [InlineData("{{ 9 is divisibleby 3 }}{{ 10 is divisibleby(3) }}", "truefalse")]
    [InlineData("{{ 2 is in [1, 2] }}{{ 'a' is in 'cat' }}{{ 'k' is in {'k': 1} }}{{ 5 is in xs }}", "truetruetruetrue")]
    [InlineData("{{ 3 is eq 3 }}{{ 3 is equalto(4) }}{{ 'a' is ne 'b' }}{{ 5 is gt 2 }}{{ 5 is le 4 }}", "truefalsetruetruefalse")]
    [InlineData("{% for x in xs if x is divisibleby(2) %}{{ x }}{% endfor %}", "246")]
    public void Tests_with_arguments(string source, string expected) => Assert.Equal(expected, Render(source));

    [Theory]
    [InlineData("{{ xs|select('odd')|list }}", "[1, 3, 5]")]
    [InlineData("{{ xs|reject('divisibleby', 3)|list }}", "[1, 2, 4, 5]")]
    [InlineData("{{ [0, 1, '', 'a']|select|list }}", "[1, \"a\"]")]
    [InlineData("{{ ['a', 'b']|map('upper')|join(',') }}", "A,B")]
    [InlineData("{{ xs|map('string')|join('') }}", "123456")]
    [InlineData("{{ xs|count }}{{ 'abc'|count }}", "63")]
    [InlineData("{{ 2.5|round }}|{{ 3.14159|round(2) }}|{{ 2.1|round(0, 'ceil') }}|{{ 7|round }}", "3.0|3.14|3.0|7.0")]
    [InlineData("[{{ missing|d('x') }}][{{ missing|default }}][{{ ''|d('y', true) }}]", "[x][][y]")]
    [InlineData("{{ '<a href=\"x\">&\\'</a>'|e }}", "&lt;a href=&#34;x&#34;&gt;&amp;&#39;&lt;/a&gt;")]
    [InlineData("{{ '%s is %d years'|format('Ann', 30) }}", "Ann is 30 years")]
    [InlineData("{{ xs|sum }}{{ [1.5, 2]|sum }}", "213.5")]
    [InlineData("{{ xs|min }}{{ xs|max }}", "16")]
    [InlineData("{{ 'héllo'|first }}{{ 'héllo'|last }}{{ 'ab'|list }}", "ho[\"a\", \"b\"]")]
    [InlineData("{{ 'long sentence here'|truncate(12) }}", "long...")]
    [InlineData("{{ {'a': 1}|attr('a') }}", "1")]
    public void Filters_the_reference_lacks(string source, string expected) => Assert.Equal(expected, Render(source));

    [Theory]
    [InlineData("{{ '{} and {}'.format('a', 'b') }}", "a and b")]
    [InlineData("{{ '{1}{0}{name}'.format('x', 'y', name='z') }}", "yxz")]
    [InlineData("{{ 'a-b-a'.count('a') }}{{ 'abc'.find('c') }}{{ ','.join(['x', 'y']) }}", "22x,y")]
    [InlineData("{{ '42'.isdigit() }}{{ 'x1'.isalpha() }}", "truefalse")]
    public void String_methods_the_reference_lacks(string source, string expected) => Assert.Equal(expected, Render(source));

    [Theory]
    [InlineData("a{% raw %}{{ not evaluated }} {% if %}{% endraw %}b", "a{{ not evaluated }} {% if %}b")]
    [InlineData("a  {%- raw -%}  {{ x }}  {%- endraw -%}  b", "a{{ x }}b")]
    [InlineData("{% raw %}\nkeep{% endraw %}\n{{ 1 }}", "keep1")] // trim_blocks applies to raw tags too
    public void Raw_blocks_are_verbatim(string source, string expected) =>
        Assert.Equal(expected, Render(source));

    [Fact]
    public void Unclosed_raw_block_is_a_located_error()
    {
        var e = Assert.Throws<TemplateException>(() => ChatTemplate.Parse("x\n{% raw %}abc"));
        Assert.Equal((2, 1), (e.Line, e.Column));
    }

    [Fact]
    public void Strings_can_be_iterated_by_character()
    {
        Assert.Equal("h-é-😀-", Render("{% for c in 'hé😀' %}{{ c }}-{% endfor %}"));
    }
}
