#!/usr/bin/env python3
"""Generates ../jinja_cases_data_test.cpp: small templates exercising tricky Jinja
features, with the output (or error) that the reference renderer
../../../../shared/chat-templates/render_reference.py (python3-jinja2, set up
as transformers sets it up) produces. Run it again after adding a case:

  python3 src/chat/testdata/make_jinja_cases.py > src/chat/jinja_cases_data_test.cpp
"""
import importlib.util, json, os, sys

here = os.path.dirname(os.path.abspath(__file__))
ref_path = os.path.join(here, "..", "..", "..", "..", "shared", "chat-templates", "render_reference.py")
if not os.path.exists(ref_path):
    ref_path = os.environ.get("JARVIS_SHARED_DIR", "/work/shared") + "/chat-templates/render_reference.py"
spec = importlib.util.spec_from_file_location("render_reference", ref_path)
ref = importlib.util.module_from_spec(spec)
spec.loader.exec_module(ref)

CTX = {"xs": [1, 2, 3], "d": {"b": 1, "a": [True, None, "x"]}, "ds": [{"n": 1}, {"n": 2}, {"n": 3, "m": "z"}],
       "x": 1, "s": "h\u00e9llo w\u00f6rld"}

CASES = [
    ("loop_vars", "{% for x in xs %}{{ loop.index }}{{ loop.index0 }}{{ loop.revindex }}{{ loop.revindex0 }}"
                  "{{ loop.first }}{{ loop.last }}{{ loop.length }}{{ loop.previtem }}{{ loop.nextitem }}"
                  "{{ loop.cycle('a', 'b') }}|{% endfor %}"),
    ("for_filter_else", "{% for x in xs if x > 1 %}{{ x }}/{{ loop.length }};{% else %}none{% endfor %}"
                        "{% for x in [] %}x{% else %}empty{% endfor %}"),
    ("for_unpack_items", "{% for k, v in d.items() %}{{ k }}={{ v }};{% endfor %}{{ d.keys() | list }}"
                         "{{ d.get('zz', 'def') }}{{ d.get('b') }}{{ d.values() | list }}"),
    ("break_continue", "{% for x in xs %}{% if x == 2 %}{% continue %}{% endif %}{{ x }}{% if x == 3 %}{% break %}{% endif %}{% endfor %}"),
    ("namespace", "{% set ns = namespace(n=0, seen=false) %}{% for x in xs %}{% set ns.n = ns.n + x %}"
                  "{% if x == 2 %}{% set ns.seen = true %}{% endif %}{% endfor %}{{ ns.n }} {{ ns.seen }}"),
    ("loop_scope", "{% set y = 1 %}{% for x in xs %}{% set y = x %}{{ y }}{% endfor %}{{ y }}"
                   "{% if true %}{% set z = 5 %}{% endif %}{{ z }}"),
    ("macro_defaults_varargs", "{% macro m(a, b=2) %}[{{ a }}{{ b }}{{ varargs | list }}{{ kwargs }}]{% endmacro %}"
                               "{{ m(1) }}{{ m(1, 3) }}{{ m(1, 2, 3, k=4) }}{{ m(b=5, a=6) }}"),
    ("macro_call_caller", "{% macro w(tag) %}<{{ tag }}>{{ caller() }}</{{ tag }}>{% endmacro %}"
                          "{% call w('p') %}inner {{ x }}{% endcall %}"
                          "{% macro each(items) %}{% for i in items %}{{ caller(i) }}{% endfor %}{% endmacro %}"
                          "{% call(item) each(xs) %}({{ item }}){% endcall %}"),
    ("whitespace_control", "a  {% if true %}\n  b\n  {% endif %}\n{{- ' c ' -}}\n d\n{#- comment -#}\n e {%+ if true %}f{% endif +%}\ng"),
    ("lstrip_trim_blocks", "x\n    {% if true %}\n    y\n    {% endif %}\n  {# note #}\nz {{ 1 }}  {% if true %}w{% endif %}\n"),
    ("slicing", "{{ xs[1:] }}{{ xs[::-1] }}{{ xs[:-1] }}{{ 'hello'[1:3] }}{{ s[-5:] }}{{ s[1] }}{{ xs[-1] }}{{ xs[0:10:2] }}"),
    ("string_methods", "{{ ' a b '.strip() }}|{{ 'a,b,,c'.split(',') }}|{{ ' x  y z '.split() }}|{{ 'abc'.upper() }}|"
                       "{{ 'hello wORLD'.title() }}|{{ 'aXa'.replace('a', 'b') }}|{{ 'abc'.startswith('ab') }}|"
                       "{{ 'abc'.endswith(('x', 'c')) }}|{{ '--a--'.lstrip('-') }}|{{ '--a--'.rstrip('-') }}|"
                       "{{ 'a b c'.rsplit(' ', 1) }}|{{ 'a b c'.split(' ', 1) }}|{{ 'Hi'.lower() }}|{{ 'abcabc'.find('c') }}|"
                       "{{ '{} and {}'.format(1, 'x') }}"),
    ("tojson", "{{ d | tojson }}|{{ d | tojson(indent=2) }}|{{ d | tojson(separators=(',', ':')) }}|"
               "{{ 'caf\u00e9 \"q\" \\n' | tojson }}|{{ 1.5 | tojson }}|{{ [1e-7, 1e20, 0.1, 100.0, 1e16, 12345.678] | tojson }}|"
               "{{ {'z': 1, 'a': 2} | tojson(sort_keys=true) }}|{{ [] | tojson(indent=2) }}|{{ {'k': {}} | tojson(indent=2) }}"),
    ("filters_sequences", "{{ xs | join(',') }}|{{ xs | map('string') | join }}|{{ ds | map(attribute='n') | list }}|"
                          "{{ ds | selectattr('n', 'gt', 1) | map(attribute='n') | list }}|"
                          "{{ ds | rejectattr('n', 'equalto', 1) | list | length }}|{{ ds | selectattr('m') | list }}|"
                          "{{ xs | select('odd') | list }}|{{ xs | reject('even') | list }}|{{ xs | first }}{{ xs | last }}|"
                          "{{ [3, 1, 2] | sort }}|{{ [3, 1, 2] | sort(reverse=true) }}|{{ [1, 1, 2] | unique | list }}|"
                          "{{ xs | reverse | list }}|{{ xs | length }}{{ s | length }}{{ d | count }}|{{ xs | sum }}|"
                          "{{ xs | max }}{{ xs | min }}|{{ ds | map(attribute='m', default='-') | join }}"),
    ("filters_values", "{{ none | default('d') }}|{{ nothing | default('u') }}|{{ '' | default('e', true) }}|"
                       "{% for k, v in {'b': 1, 'A': 2, 'a': 0} | dictsort %}{{ k }}{{ v }}{% endfor %}|{{ 'a\\nb\\n\\nc' | indent(2) }}|{{ 'a\\nb' | indent(2, true) }}|"
                       "{{ -3 | abs }}|{{ '42' | int + 1 }}|{{ 'x' | int }}|{{ '2.5' | float }}|{{ 3 | float }}|{{ 'hi there' | capitalize }}|"
                       "{{ 'hi there' | title }}|{{ '  t  ' | trim }}|{{ 'xxaxx' | trim('x') }}|{{ 'aaa' | replace('a', 'b', 2) }}|"
                       "{{ 'A' | lower }}{{ 'b' | upper }}|{{ 3 | string }}{{ none | string }}|{{ '<a>' | escape }}|{{ '<a>' | safe }}|"
                       "{{ d | items | list | length }}|{{ 2.5 | round }}|{{ 'a b c' | wordcount }}|{{ '%s-%d' | format('x', 3) }}"),
    ("tests", "{{ x is defined }}{{ y is undefined }}{{ none is none }}{{ 's' is string }}{{ {} is mapping }}"
              "{{ [] is iterable }}{{ 's' is sequence }}{{ 1 is number }}{{ 1 is integer }}{{ true is boolean }}"
              "{{ 1.0 is float }}{{ 3 is odd }}{{ 4 is even }}{{ 9 is divisibleby 3 }}{{ 1 is in [1] }}{{ 2 is eq 2 }}"
              "{{ false is false }}{{ true is true }}{{ 2 is ne 3 }}{{ none is sameas none }}{{ 3 is gt 2 }}{{ 1 is string }}"
              "{{ d is mapping }}{{ xs is sequence }}{{ 1 is iterable }}{{ true is integer }}"),
    ("operators", "{{ 7 // 2 }} {{ -7 // 2 }} {{ 7 % 3 }} {{ -7 % 3 }} {{ 2 ** 10 }} {{ 7 / 2 }} {{ 1 + 2 * 3 }} "
                  "{{ 'a' ~ 1 ~ none }} {{ 1 in [1, 2] }} {{ 'b' not in 'abc' }} {{ 3 > 2 > 1 }} {{ 1 < 2 < 3 }} "
                  "{{ not true }} {{ true and 0 }} {{ 0 or 'x' }} {{ 'a' if false }}{{ 'b' if x else 'c' }} "
                  "{{ [1] + [2] }} {{ 'ab' * 2 }} {{ 1.5 + 1 }} {{ 10 / 4 }} {{ -x }} {{ 1 == 1.0 }} {{ 'a' < 'b' }} {{ (1, 2) | list }}"),
    ("literals_repr", "{{ {'a': \"it's\", 'b': [1, 2.0, none, true], 'c': {'d': 'e\\nf'}} }}|{{ [] }}|{{ 1e3 }}|{{ 0.1 + 0.2 }}|{{ 1e-5 }}|{{ 123456789012345678.0 }}"),
    ("undefined", "[{{ foo }}]|{{ foo | length }}|{% for i in foo %}x{% endfor %}|{{ foo is defined }}|[{{ d.missing }}]|"
                  "{{ d.missing is defined }}|{{ d['missing'] is defined }}|{{ xs[10] is defined }}|{{ foo | default('z') }}|"
                  "{{ 'k' in foo }}|{{ foo == foo }}|{{ not foo }}"),
    ("undefined_attr_error", "{{ foo.bar }}"),
    ("missing_attr_chain_error", "{{ d.missing.more }}"),
    ("none_attr_error", "{{ none.split(',') }}"),
    ("raise_exception", "{% if true %}{{ raise_exception('Only user and assistant roles are supported!') }}{% endif %}"),
    ("list_append_unsafe", "{% set l = [] %}{{ l.append(1) }}"),
    ("dict_pop_unsafe", "{{ d.pop('b') }}"),
    ("concat_none_error", "{{ 'a' + none }}"),
    ("iterate_none_error", "{% for x in none %}{% endfor %}"),
    ("len_none_error", "{{ none | length }}"),
    ("unknown_filter_error", "{{ xs | from_json }}"),
    ("tojson_generator_error", "{{ xs | map('string') | tojson }}"),
    ("strftime", "{{ strftime_now('%d %b %Y') }}|{{ strftime_now('%Y-%m-%d %H:%M') }}"),
    ("set_block_filter_block", "{% set x %}a{{ 1 }}b{% endset %}[{{ x }}]{% set y | upper %}q{% endset %}{{ y }}"
                               "{% filter upper %}abc {{ 'd' }}{% endfilter %}{% generation %}gen{% endgeneration %}"),
    ("range_and_dict", "{{ range(3) | list }}{{ range(1, 7, 2) | list }}{{ dict(a=1, b=2) }}{{ dict(a=1).a }}"
                       "{% for i in range(2) %}{{ i }}{% endfor %}"),
    ("markup_plus", "{{ 'a<'|safe + '<b>' }}|{{ '<c>' + 'd'|safe }}|{{ ('x'|safe) ~ '<y>' }}"),
    ("raw_block", "{% raw %}{{ not rendered }}{% endraw %}"),
    ("trailing_newline", "line\n"),
    ("nested_loops", "{% for a in [1, 2] %}{% for b in ['x', 'y'] %}{{ loop.index }}{{ a }}{{ b }}{% endfor %}{{ loop.index }};{% endfor %}"),
    ("string_iteration", "{% for c in 'h\u00e9!' %}[{{ c }}]{% endfor %}{{ 'h\u00e9!' | list }}{{ 'ab' | reverse }}"),
]


def cpp_raw(s):
    return 'R"JINJA(' + s + ')JINJA"'


def main():
    out = []
    out.append("// GENERATED by src/chat/testdata/make_jinja_cases.py from the reference renderer")
    out.append("// ../shared/chat-templates/render_reference.py (python3-jinja2 "
               + __import__("jinja2").__version__ + "); do not edit by hand.")
    out.append("// Each case: a template, the context below, and what jinja2 rendered (or its error).")
    out.append('#include "chat/jinja_cases.h"')
    out.append("")
    out.append("namespace jarvis::jinja::testing {")
    out.append("")
    out.append("const char* const kCaseContext = " + cpp_raw(json.dumps(CTX, ensure_ascii=False)) + ";")
    out.append("")
    out.append("const std::vector<JinjaCase>& JinjaCases() {")
    out.append("  static const std::vector<JinjaCase> cases = {")
    for name, tmpl in CASES:
        try:
            rendered = ref.render(tmpl, CTX)
            ok = True
        except Exception as e:  # the reference raised
            rendered = str(e)
            ok = False
        out.append("      {%s, %s, %s, %s}," % (json.dumps(name), cpp_raw(tmpl), "true" if ok else "false", cpp_raw(rendered)))
    out.append("  };")
    out.append("  return cases;")
    out.append("}")
    out.append("")
    out.append("}  // namespace jarvis::jinja::testing")
    print("\n".join(out))


if __name__ == "__main__":
    main()
