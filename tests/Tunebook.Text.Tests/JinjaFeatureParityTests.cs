using System.Text.Json.Nodes;
using static Tunebook.Text.Tests.Templates.TemplateReference;

namespace Tunebook.Text.Tests.Templates;

/// <summary>
/// Small templates, one feature each, rendered by Tunebook and by @huggingface/jinja (one node process for all).
/// </summary>
public class JinjaFeatureParityTests
{
    const string Data = """
        {"s": "  Hello World  ", "n": 7, "f": 2.5, "whole": 3.0, "neg": -3, "t": true, "fa": false, "nil": null,
         "xs": [3, 1, 2], "names": ["b", "A", "c", "a"], "d": {"b": 2, "a": 1, "C": 3},
         "people": [{"name": "Ann", "age": 30, "tags": ["x", "y"], "info": {"city": "Oslo"}}, {"name": "bob", "age": 25, "info": {"city": "Rome"}}],
         "u": "héllo wörld ✓ 日本 😀 \"q\" \\ \n\t", "multi": "line1\n\nline3\n", "empty": "", "el": [], "eo": {},
         "nested": {"a": [1, {"b": [true, null, 1.5]}], "e": {}, "k": "v"}, "csv": "a,b,,c", "words": "  the quick  brown fox ",
         "mixed": [1, "two", 3.5, true, null]}
        """;

    public static readonly (string Id, string Template)[] Templates =
    [
        // output of values
        ("print-int", "{{ n }}|{{ neg }}|{{ -n }}|{{ +n }}|{{ 10 }}|{{ 1000000 }}"),
        ("print-float", "{{ f }}|{{ whole }}|{{ 1.0 }}|{{ 0.1 + 0.2 }}|{{ 2.50 }}|{{ 7 / 2 }}|{{ 6 / 3 }}"),
        ("print-bool-none", "[{{ t }}][{{ fa }}][{{ nil }}][{{ none }}][{{ True }}][{{ undefined_var }}]"),
        ("print-containers", "{{ xs }}|{{ d }}|{{ nested }}|{{ el }}|{{ eo }}|{{ mixed }}"),
        ("print-unicode", "{{ u }}"),
        // arithmetic and operators
        ("arith", "{{ 7 // 2 }} {{ -7 // 2 }} {{ 7 % 3 }} {{ -7 % 3 }} {{ 2 ** 10 }} {{ 2 ** -1 }} {{ 2.0 * 3 }} {{ 1 + 2 * 3 - 4 }} {{ (1 + 2) * 3 }}"),
        ("concat", "{{ 'a' ~ n ~ f ~ t ~ whole }}|{{ 'x' + 'y' }}|{{ 'n=' + n|string }}|{{ xs ~ '' }}|{{ n ~ d }}"),
        ("compare", "{{ 1 < 2 }}{{ 2 <= 2 }}{{ 3 > 4 }}{{ 1 == 1.0 }}{{ 'a' == 'a' }}{{ 'a' != 'b' }}{{ 1 == '1' }}{{ nil == none }}{{ undefined_var == none }}"),
        ("logic", "{{ true and 'x' }}|{{ false or 'y' }}|{{ '' or el or 'z' }}|{{ not t }}|{{ not not n }}|{{ xs and 'nonempty' }}|{{ el and 'never' }}"),
        ("in-operator", "{{ 1 in xs }}{{ 5 in xs }}{{ 'ell' in s }}{{ 'a' in d }}{{ 'z' not in d }}{{ 'x' not in s }}{{ 'q' in undefined_var }}"),
        ("ternary", "{{ 'yes' if t else 'no' }}|{{ 'yes' if fa else 'no' }}|{{ 'a' if n > 10 else 'b' if n > 5 else 'c' }}|[{{ 'only' if fa }}]"),
        // strings
        ("string-methods", "[{{ s.strip() }}][{{ s.lstrip() }}][{{ s.rstrip() }}][{{ s.upper() }}][{{ s.lower() }}][{{ 'hello there-you'.title() }}][{{ 'hELLO'.capitalize() }}]"),
        ("string-strip-arg", "[{{ '\\n\\nabc\\n'.strip('\\n') }}][{{ 'xxaxx'.lstrip('x') }}]"),
        ("string-split", "{{ csv.split(',') }}|{{ words.split() }}|{{ words.split(none, 1) }}|{{ csv.split(',', 1) }}|{{ 'a b'.split(' ')[-1] }}"),
        ("string-startswith", "{{ s.strip().startswith('Hello') }}{{ s.endswith('x') }}{{ 'abc'.startswith(('x', 'a')) }}{{ 'abc'.endswith(('b', 'c')) }}"),
        ("string-replace", "{{ s.replace('l', 'L') }}|{{ s.replace('l', 'L', 1) }}|{{ 'aaa'.replace('a', 'b', 2) }}|{{ 'ab'.replace('', '-') }}"),
        ("string-index-slice", "{{ 'hello'[0] }}{{ 'hello'[-1] }}{{ 'hello'[1:3] }}{{ 'hello'[::-1] }}{{ 'hello'[:-2] }}{{ u[-3:] }}|{{ 'hello'.length }}"),
        ("string-escapes", "{{ 'tab\\there' }}|{{ \"dq 'x'\" }}|{{ 'a\\\\b' }}|{{ '\\u00e9\\x41' }}|{{ 'one' 'two' }}"),
        // lists
        ("list-index", "{{ xs[0] }}{{ xs[-1] }}{{ xs[1:] }}{{ xs[:2] }}{{ xs[::2] }}{{ xs[::-1] }}{{ xs[5] is undefined }}{{ xs.length }}"),
        ("list-literals", "{{ [1, 'a', [2]] }}|{{ (1, 2)|length }}|{{ {'k': 'v', 'n': [1]} }}|{{ xs + [4] }}|{{ {'a': {'b': {}}}['a'] }}"),
        // dicts
        ("dict-access", "{{ d.a }}{{ d['b'] }}{{ d.get('a') }}{{ d.get('zz', 'dflt') }}[{{ d.get('zz') }}]{{ nested.a[1].b[2] }}{{ d.missing is defined }}"),
        ("dict-methods", "{% for k, v in d.items() %}{{ k }}={{ v }};{% endfor %}|{{ d.keys() }}|{{ d.values() }}|{% for k in d %}{{ k }}{% endfor %}"),
        // for loops
        ("loop-vars", "{% for x in xs %}{{ loop.index }}{{ loop.index0 }}{{ loop.revindex }}{{ loop.revindex0 }}{{ loop.first }}{{ loop.last }}{{ loop.length }};{% endfor %}"),
        ("loop-prev-next", "{% for x in xs %}[{{ loop.previtem }}<{{ x }}>{{ loop.nextitem }}]{% endfor %}"),
        ("loop-filter", "{% for x in xs if x > 1 %}{{ x }}:{{ loop.index }}/{{ loop.length }} {% endfor %}"),
        ("loop-else", "{% for x in el %}{{ x }}{% else %}empty{% endfor %}|{% for x in xs %}{{ x }}{% else %}never{% endfor %}"),
        ("loop-unpack", "{% for a, b in [[1, 2], [3, 4]] %}{{ a + b }} {% endfor %}{% for name, p in {'x': 1}.items() %}{{ name }}{{ p }}{% endfor %}"),
        ("loop-nested", "{% for p in people %}{% for t in p.tags or [] if t != 'z' %}{{ p.name }}-{{ t }}-{{ loop.index }} {% endfor %}{{ loop.index }}{% endfor %}"),
        ("loop-break-continue", "{% for x in [1, 2, 3, 4, 5] %}{% if x == 2 %}{% continue %}{% endif %}{% if x == 4 %}{% break %}{% endif %}{{ x }}{% endfor %}"),
        ("loop-scope", "{% set v = 'outer' %}{% for x in xs %}{% set v = x %}{% endfor %}{{ v }}"),
        ("range", "{% for i in range(3) %}{{ i }}{% endfor %}|{% for i in range(1, 7, 2) %}{{ i }}{% endfor %}|{% for i in range(5, 0, -2) %}{{ i }}{% endfor %}"),
        // if / set / namespace
        ("if-elif-else", "{% for x in [1, 5, 10] %}{% if x < 3 %}small{% elif x < 7 %}mid{% else %}big{% endif %} {% endfor %}"),
        ("set-forms", "{% set a = 1 %}{% set b, c = 2, 3 %}{% set block %}B{{ a }}{% endset %}{{ a }}{{ b }}{{ c }}{{ block }}"),
        ("namespace", "{% set ns = namespace(count=0, found=false) %}{% for x in xs %}{% set ns.count = ns.count + x %}{% if x == 1 %}{% set ns.found = true %}{% endif %}{% endfor %}{{ ns.count }}{{ ns.found }}{{ ns }}"),
        // macros
        ("macro-basic", "{% macro greet(name, greeting='Hello', punct='!') %}{{ greeting }}, {{ name }}{{ punct }}{% endmacro %}{{ greet('Ann') }}|{{ greet('Bob', 'Hi') }}|{{ greet('Cy', punct='?') }}"),
        ("macro-call-block", "{% macro wrap(tag) %}<{{ tag }}>{{ caller() }}</{{ tag }}>{% endmacro %}{% call wrap('b') %}inner {{ n }}{% endcall %}"),
        ("macro-varargs-kwargs", "{% macro f(a) %}{{ a }}{{ varargs }}{{ kwargs }}{% endmacro %}{{ f(1, 2, 3, x=4) }}"),
        ("macro-recursive", "{% macro count(k) %}{{ k }}{% if k > 0 %}{{ count(k - 1) }}{% endif %}{% endmacro %}{{ count(4) }}"),
        // filters
        ("filter-trim-case", "[{{ s|trim }}][{{ s|upper }}][{{ s|lower }}][{{ 'mY tItle'|title }}][{{ 'mY tItle'|capitalize }}][{{ s|length }}]"),
        ("filter-tojson", "{{ nested|tojson }}|{{ u|tojson }}|{{ people|tojson }}|{{ nil|tojson }}|{{ undefined_var|tojson }}|{{ whole|tojson }}|{{ 'x'|tojson }}"),
        ("filter-tojson-indent", "{{ nested|tojson(indent=2) }}|{{ people|tojson(indent=4) }}|{{ el|tojson(indent=2) }}|{{ eo|tojson(indent=2) }}"),
        ("filter-tojson-options", "{{ d|tojson(sort_keys=true) }}|{{ u|tojson(ensure_ascii=true) }}|{{ d|tojson(separators=(',', ':')) }}"),
        ("filter-list-basics", "{{ xs|first }}{{ xs|last }}{{ xs|length }}{{ xs|reverse }}{{ xs|sort }}{{ names|sort }}{{ xs|join }}{{ names|join(', ') }}{{ xs|list }}"),
        ("filter-sort-options", "{{ names|sort(reverse=true) }}{{ names|sort(case_sensitive=true) }}{{ people|sort(attribute='age')|map(attribute='name')|join(',') }}{{ people|sort(attribute='info.city', reverse=true)|map(attribute='name')|join(',') }}"),
        ("filter-default", "[{{ undefined_var|default('dflt') }}][{{ nil|default('dflt') }}][{{ empty|default('dflt') }}][{{ empty|default('dflt', true) }}][{{ n|default(0) }}]"),
        ("filter-map-select", "{{ people|map(attribute='name')|join('/') }}|{{ people|map(attribute='missing', default='?')|list }}|{{ people|selectattr('name', 'equalto', 'bob')|map(attribute='name')|list }}|{{ people|rejectattr('tags')|length }}|{{ people|selectattr('tags')|map(attribute='name')|first }}|{{ people|map(attribute='info.city')|list }}"),
        ("filter-numbers", "{{ neg|abs }}{{ -2.5|abs }}{{ '42'|int }}{{ '4.7'|int }}{{ 'x'|int }}{{ 'x'|int(9) }}{{ '3.25'|float }}{{ f|int }}{{ n|float }}{{ t|int }}{{ n|string }}{{ f|string }}"),
        ("filter-indent", "{{ multi|indent }}|{{ multi|indent(2) }}|{{ multi|indent(2, true) }}|{{ multi|indent(2, true, true) }}|{{ multi|indent(width=3, first=true) }}"),
        ("filter-misc", "{{ s|safe }}|{{ [1, 1, 2, 1, 'a', 'a']|unique }}|{{ d|items }}|{{ d|dictsort }}|{{ d|dictsort(reverse=true) }}|{{ d|dictsort(by='value') }}|{{ d|length }}|{{ s|replace('l', '_') }}|{{ t|string }}"),
        ("filter-chain", "{{ people|map(attribute='name')|join|upper }}|{{ csv.split(',')|reverse|join('-')|length }}"),
        ("filter-block", "{% filter upper %}shout {{ n }}{% endfilter %}"),
        // tests
        ("tests-types", "{{ n is number }}{{ f is number }}{{ n is integer }}{{ s is string }}{{ d is mapping }}{{ xs is mapping }}{{ xs is iterable }}{{ s is iterable }}{{ d is iterable }}{{ xs is sequence }}{{ nil is none }}{{ t is boolean }}"),
        ("tests-defined", "{{ n is defined }}{{ zz is defined }}{{ zz is undefined }}{{ zz is not defined }}{{ nil is not none }}{{ d.zz is defined }}"),
        ("tests-values", "{{ t is true }}{{ fa is false }}{{ 1 is true }}{{ n is odd }}{{ n is even }}{{ 4 is even }}{{ 'abc' is lower }}{{ 'ABC' is upper }}{{ raise_exception is callable }}"),
        // whitespace control and comments
        ("ws-control", "a  {{- ' b ' -}}  c\n  {%- if true %}  d  {% endif -%}  \n e {#- comment -#}  f"),
        ("ws-blocks", "line1\n    {% if true %}\n    inside\n    {% endif %}\nline2\n{# c #}\nline3\n"),
        ("ws-lstrip-only-blocks", "x\n    {{ 'expr keeps indent' }}\n  {% for i in xs %}\n  item{{ i }}\n  {% endfor %}\nend"),
        ("comments", "a{# a comment with {{ braces }} and {% tags %} #}b{#- stripped -#} c"),
        ("generation-tag", "{% for m in ['a', 'b'] %}{% generation %}{{ m }}{% endgeneration %} {% endfor %}"),
        ("generation-tag-ws", "a \n {%- generation -%} \n b {% endgeneration %}\n c {% generation %}\n\n{{ n }}  {%- endgeneration %}  d"),
        ("messages-basic", "{% for m in messages %}{{ m.role }}:{{ m['content'] }}{% if not loop.last %}\n{% endif %}{% endfor %}{{ add_generation_prompt }}{{ tools }}{{ documents is none }}"),
        ("strftime", "{{ strftime_now('%d %b %Y') }}|{{ strftime_now('%Y-%m-%d %H:%M') }}|{{ strftime_now('%B') }}|{{ strftime_now('100%% %A') }}"),
        ("raise-exception", "before{% if n > 5 %}{{ raise_exception('n is too big: ' ~ n) }}{% endif %}"),
        // JavaScript number formatting and JSON escaping the reference inherits
        ("numbers-format", "{{ 123456789012345680000 * 10 }}|{{ 0.000001 }}|{{ 0.0000001 * 1 }}|{{ 1 / 3 }}|{{ 2 ** 53 }}|{{ -0.0 }}|{{ 100.0 }}|{{ 1.25 }}|{{ 1000000000000000000000 }}"),
        ("json-escapes", "{{ '\\x01\\x1f\\x7f\\b\\f\\r\\t/<>&'|tojson }}|{{ u|tojson(ensure_ascii=true) }}|{{ {'é': [1.5, -2, 0.1]}|tojson }}"),
        ("string-conversions", "{{ xs|string }}|{{ mixed|string }}|{{ 1.0 ~ '' }}|{{ [1.0, 2.5] ~ '' }}|{{ mixed|join(',') }}|{{ [[1, 2], 'x']|join(';') }}"),
        ("parse-numbers", "{{ '  12abc'|int }}|{{ '-7'|int }}|{{ '1e3x'|float }}|{{ '.5'|float }}|{{ 'abc'|float }}|{{ '3.9'|int }}|{{ -2.5|int }}"),
        ("split-replace-edge", "{{ 'a,b,c,d'.split(',', 2) }}|{{ '  a  b  '.split(none, 1) }}|{{ 'aXbXc'.replace('X', '-', count=1) }}|{{ 'aaa'|replace('a', 'bb', 2) }}"),
        ("sort-edge", "{{ ['b', 'B', 'a', 'A', 'c']|sort }}|{{ ['b', 'B', 'a', 'A']|sort(case_sensitive=true) }}|{{ [3, 1.5, true, 0]|sort }}|{{ [2, 1, 2.0, 1]|unique }}|{{ d|dictsort(true) }}"),
        ("nested-loops", "{% for a in [1, 2] %}{% for b in ['x', 'y'] %}{{ loop.index }}{{ a }}{{ b }}{% endfor %}{{ loop.index }};{% endfor %}{{ loop is defined }}"),
        ("macro-caller-args", "{% macro each(items) %}{% for i in items %}{{ caller(i, loop.index) }}{% endfor %}{% endmacro %}{% call(item, n) each(['a', 'b']) %}[{{ n }}:{{ item }}]{% endcall %}"),
        ("macro-defaults-ref-args", "{% macro f(a, b=a * 2, c=none) %}{{ a }},{{ b }},{{ c }}{% endmacro %}{{ f(1) }}|{{ f(1, c='z') }}|{{ f(a=5) }}"),
        ("macro-sees-caller-scope", "{% macro show() %}{{ outer_var }}{% endmacro %}{% set outer_var = 'seen' %}{{ show() }}"),
        ("namespace-init", "{% set ns = namespace({'a': 1}, b=2) %}{{ ns.a }}{{ ns.b }}{% set ns.c = [ns.a, ns.b] %}{{ ns.c }}{{ ns|tojson }}"),
        ("tuple-membership", "{{ 2 in (1, 2) }}|{{ 'b' in ('a', 'b') }}|{{ (1, 2)|length }}|{{ ('x', 'y')|join('-') }}"),
        ("dict-literal-keys", "{{ {'a': 1, 'a': 2, 'b': 3} }}|{{ {'k': n, 'l': [n, f]}.l[1] }}|{{ {}|length }}"),
        ("select-expr", "[{{ 'shown' if n }}][{{ 'hidden' if nil }}][{{ xs[0] if xs }}]"),
        ("filter-precedence", "{{ -n|abs }}|{{ n + 1|string if false else 'p' }}|{{ 'a' ~ 'b'|upper }}|{{ not fa and t }}|{{ (1 + 2) is odd }}"),
        ("undefined-chains", "[{{ zz.a.b }}][{{ d.zz }}][{{ xs[10] }}][{{ nil.attr }}][{{ zz is defined and zz.x }}]"),
        ("crlf-and-trailing-newline", "a\r\n{% if true %}\r\nb\r\n{% endif %}\r\nc\n"),
        ("lstrip-tabs-comments", "x\n\t  {# comment #}\n\t{%- if true %}y{% endif %}\n  {{ 'z' }}"),
        ("minus-forms", "{{ 5-3 }}{{ 5 - -3 }}{{ xs[-1] }}{{ (-1) }}{{ [-1, -2.5] }}{{ 2*-1 }}{{ - n }}"),
        ("case-special", "{{ 'ΟΔΟΣ ΣΑΣ Σ ΑΣ.'|lower }}|{{ 'straße ﬁne ŉ ǰ'|upper }}|{{ 'İstanbul'|lower }}|{{ 'ß-word ﬁrst'|title }}|{{ 'ﬀ'.capitalize() }}"),
        // errors both sides must report
        ("error-unknown-filter", "{{ n|frobnicate }}"),
        ("error-undefined-arith", "{{ missing + 1 }}"),
        ("error-call-undefined", "{{ nothing() }}"),
        ("error-bad-compare", "{{ 'a' < 1 }}"),
    ];

    static readonly Lazy<(ParityCase Case, TemplateReference.Result Expected)[]> Results = new(() =>
    {
        var data = Obj(Data);
        var messages = Json("""[{"role": "system", "content": "Be brief."}, {"role": "user", "content": "Hi ✓"}]""");
        var cases = Templates.Select(t => new ParityCase(t.Id, t.Template, messages, AddGenerationPrompt: true, Kwargs: (JsonObject)data.DeepClone())).ToArray();
        var expected = Run(cases);
        return cases.Select(c => (c, expected[c.Id])).ToArray();
    });

    public static IEnumerable<object[]> Ids => Templates.Select(t => new object[] { t.Id });

    [Theory]
    [MemberData(nameof(Ids))]
    public void Matches_reference(string id)
    {
        var (c, expected) = Results.Value.Single(r => r.Case.Id == id);
        AssertParity(c, expected);
    }

    [Fact]
    public void Reference_renders_every_case_except_the_error_cases()
    {
        var unexpected = Results.Value.Where(r => r.Expected.Ok == (r.Case.Id.StartsWith("error-") || r.Case.Id == "raise-exception"))
            .Select(r => $"{r.Case.Id}: {r.Expected.Error}").ToList();
        Assert.True(unexpected.Count == 0, string.Join("\n", unexpected));
    }

    [Fact]
    public void Error_cases_fail_in_the_reference_too()
    {
        foreach (var (c, expected) in Results.Value.Where(r => r.Case.Id.StartsWith("error-")))
            Assert.False(expected.Ok, $"{c.Id} was expected to fail in the reference");
        var raised = Results.Value.Single(r => r.Case.Id == "raise-exception").Expected;
        Assert.Equal("n is too big: 7", raised.Error);
    }
}
