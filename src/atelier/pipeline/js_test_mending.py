"""Mend a generated JavaScript test file before it runs (`node --test`).

A test file that cannot load runs no test at all: the whole file is one error and the
verdict can only be `untested`. Small models write Jest habits into node:test files, so
the common load failures are mended here, all without a model call:

- `describe` / `it` / `test` / hooks used without importing them from `node:test`;
- `assert` used without importing `node:assert`;
- Jest's `expect(...)` matchers, which node does not have: a small `expect` built on
  `node:assert` is put in front of the file;
- a relative `require` / `import` of a module that does not exist (`../src/calc` for a
  project whose `calc.js` sits at the root): pointed at the project file of that name,
  or at the only source file when the project has one;
- a "throws" test whose try block checks nothing passes when nothing is thrown: it is
  rewritten to `assert.throws` (`js_expected_throws`);
- a test repeated word for word (a looping model) is dropped (`repeated_tests`);
- a file of top-level asserts without `test(…)`, whose first failing assert stops it
  from loading, has its sections wrapped in tests (`js_script_tests`);
- a file cut off mid-way (token limit, loop guard) is closed after its last complete
  statement (`js_cut_tail`).

CommonJS or ES modules: the file's own style decides how an import is written.
"""

from __future__ import annotations

import posixpath
import re
from collections.abc import Iterable, Mapping

from atelier.pipeline.js_cut_tail import with_cut_tail_closed
from atelier.pipeline.js_expected_throws import with_expected_throws_checked
from atelier.pipeline.js_script_tests import with_script_checks_as_tests
from atelier.pipeline.project_files import is_test_module
from atelier.pipeline.repeated_tests import drop_repeated_javascript_tests

JS_SUFFIXES = (".js", ".mjs", ".cjs")
_TEST_DIRS = ("tests/", "test/", "__tests__/")
_NODE_TEST_NAMES = ("describe", "it", "test", "before", "after", "beforeEach", "afterEach")
_ESM = re.compile(r"^\s*(?:import\s[^(]|import\s*['\"{*]|export\s)", re.MULTILINE)
_RELATIVE_SPEC = re.compile(
    r"(?P<pre>\brequire\(\s*|\bfrom\s+|\bimport\s+|\bimport\(\s*)"
    r"(?P<q>['\"])(?P<spec>\.{1,2}/[^'\"]+)(?P=q)"
)

# Jest's matchers on node:assert, for test files written with `expect`. `toEqual`
# compares own enumerable data like Jest (class instances equal plain objects; undefined
# properties ignored); `toStrictEqual` is node's deepStrictEqual.
_EXPECT_SHIM = """\
// Added by Atelier: node --test has no Jest `expect`; this one is built on node:assert.
const expect = (actual) => {
  const plain = (v) => Array.isArray(v) ? v.map(plain)
    : v && typeof v === 'object' && !(v instanceof Date) && !(v instanceof RegExp)
        && !(v instanceof Map) && !(v instanceof Set)
      ? Object.fromEntries(Object.entries(v).filter(([, x]) => x !== undefined)
          .map(([k, x]) => [k, plain(x)]))
      : v;
  const same = (x, y, strict) => {
    try { __atelierAssert.deepStrictEqual(strict ? x : plain(x), strict ? y : plain(y)); }
    catch { return false; }
    return true;
  };
  const thrown = (expected) => {
    try { actual(); } catch (error) {
      if (expected === undefined) return true;
      if (typeof expected === 'function') return error instanceof expected;
      const text = String(error && error.message);
      return expected instanceof RegExp ? expected.test(text) : text.includes(String(expected));
    }
    return false;
  };
  const show = (v) => { try { return JSON.stringify(v); } catch { return String(v); } };
  const matchers = (negate) => {
    const check = (ok, what) => {
      if (Boolean(ok) === negate) {
        __atelierAssert.fail(`expected ${show(actual)} ${negate ? 'not ' : ''}${what}`);
      }
    };
    return {
      toBe: (e) => check(Object.is(actual, e), `to be ${show(e)}`),
      toEqual: (e) => check(same(actual, e, false), `to equal ${show(e)}`),
      toStrictEqual: (e) => check(same(actual, e, true), `to strictly equal ${show(e)}`),
      toThrow: (e) => check(thrown(e), `to throw ${e === undefined ? '' : show(String(e))}`),
      toThrowError: (e) => check(thrown(e), `to throw ${e === undefined ? '' : show(String(e))}`),
      toBeTruthy: () => check(actual, 'to be truthy'),
      toBeFalsy: () => check(!actual, 'to be falsy'),
      toBeNull: () => check(actual === null, 'to be null'),
      toBeUndefined: () => check(actual === undefined, 'to be undefined'),
      toBeDefined: () => check(actual !== undefined, 'to be defined'),
      toBeNaN: () => check(Number.isNaN(actual), 'to be NaN'),
      toContain: (e) => check(actual != null && actual.includes(e), `to contain ${show(e)}`),
      toContainEqual: (e) => check(actual != null && [...actual].some((x) => same(x, e, false)),
        `to contain ${show(e)}`),
      toHaveLength: (n) => check(actual != null && actual.length === n, `to have length ${n}`),
      toHaveProperty: (k) => check(actual != null && k in Object(actual), `to have ${show(k)}`),
      toMatch: (re) => check(typeof actual === 'string' && (re instanceof RegExp
        ? re.test(actual) : actual.includes(re)), `to match ${String(re)}`),
      toBeInstanceOf: (c) => check(actual instanceof c, `to be an instance of ${c && c.name}`),
      toBeGreaterThan: (n) => check(actual > n, `to be > ${n}`),
      toBeGreaterThanOrEqual: (n) => check(actual >= n, `to be >= ${n}`),
      toBeLessThan: (n) => check(actual < n, `to be < ${n}`),
      toBeLessThanOrEqual: (n) => check(actual <= n, `to be <= ${n}`),
      toBeCloseTo: (n, digits = 2) => check(Math.abs(actual - n) < 10 ** -digits / 2,
        `to be close to ${n}`),
    };
  };
  return Object.assign(matchers(false), { not: matchers(true) });
};
"""


def _is_esm(path: str, source: str) -> bool:
    return path.endswith(".mjs") or bool(_ESM.search(source))


def _declared(name: str, source: str) -> bool:
    """Bound in the file: a declaration, a destructured require / import, a default import."""
    return bool(
        re.search(rf"\b(?:const|let|var|function|class)\s+{name}\b", source)
        or re.search(rf"\{{[^}}]*\b{name}\b[^}}]*\}}\s*(?:=\s*require\(|from\s)", source)
        or re.search(rf"\bimport\s+{name}\b", source)
        or re.search(rf"\bimport\s+\*\s+as\s+{name}\b", source)
    )


def _called(name: str, source: str) -> bool:
    """`name(` or `name.x(` (`it.skip(`), not as a property (`obj.test(`)."""
    return bool(re.search(rf"(?<![.\w$]){name}(?:\.\w+)?\s*\(", source))


def _import_line(names: Iterable[str], module: str, *, esm: bool, default: bool = False) -> str:
    listed = ", ".join(names)
    if esm:
        return f"import {listed} from '{module}';" if default else (
            f"import {{ {listed} }} from '{module}';")
    return f"const {listed} = require('{module}');" if default else (
        f"const {{ {listed} }} = require('{module}');")


def _with_header(source: str, header: list[str]) -> str:
    """`header` lines at the top, after a shebang or a 'use strict' directive."""
    if not header:
        return source
    lines = source.splitlines(keepends=True)
    at = 0
    while at < len(lines) and (lines[at].startswith("#!") or re.match(
            r"\s*['\"]use strict['\"];?\s*$", lines[at])):
        at += 1
    return "".join([*lines[:at], *(h + "\n" for h in header), *lines[at:]])


def _resolves(target: str, files: Mapping[str, str]) -> bool:
    candidates = [target, *(target + s for s in (*JS_SUFFIXES, ".json")),
                  *(posixpath.join(target, "index" + s) for s in JS_SUFFIXES)]
    return any(c in files for c in candidates)


def _repointed_spec(spec: str, test_path: str, files: Mapping[str, str]) -> str | None:
    """A relative module spec that resolves to nothing, pointed at the project file of
    that name (or the only source file); None when it resolves or no file fits."""
    base = posixpath.dirname(test_path)
    if _resolves(posixpath.normpath(posixpath.join(base, spec)), files):
        return None
    stem, extension = posixpath.splitext(posixpath.basename(spec))
    if extension not in JS_SUFFIXES:
        stem, extension = posixpath.basename(spec), ""
    modules = [p for p in files if p.endswith(JS_SUFFIXES) and not is_test_module(p)
               and not p.startswith(_TEST_DIRS)]
    named = [p for p in modules if posixpath.splitext(posixpath.basename(p))[0] == stem]
    chosen = named if named else modules
    if len(chosen) != 1:
        return None
    target = chosen[0] if extension else posixpath.splitext(chosen[0])[0]
    relative = posixpath.relpath(target, base or ".")
    return relative if relative.startswith("../") else f"./{relative}"


def mend_javascript_test(path: str, source: str, files: Mapping[str, str]) -> str:
    """The test file at `path` with its load failures mended (see the module docstring);
    `files` are the project's files (path → content). Unchanged when nothing is wrong."""
    esm = _is_esm(path, source)

    def repoint(match: re.Match[str]) -> str:
        spec = _repointed_spec(match["spec"], path, files)
        if spec is None:
            return match.group(0)
        if esm and posixpath.splitext(spec)[1] not in JS_SUFFIXES:
            spec += ".js"  # ES modules name the file exactly
        return f"{match['pre']}{match['q']}{spec}{match['q']}"

    source = _RELATIVE_SPEC.sub(repoint, with_cut_tail_closed(source))
    source = drop_repeated_javascript_tests(
        with_expected_throws_checked(with_script_checks_as_tests(source)))
    header: list[str] = []
    missing = [n for n in _NODE_TEST_NAMES if _called(n, source) and not _declared(n, source)]
    if missing:
        header.append(_import_line(missing, "node:test", esm=esm))
    if re.search(r"(?<![.\w$])assert\s*[.(]", source) and not _declared("assert", source):
        header.append(_import_line(["assert"], "node:assert", esm=esm, default=True))
    if _called("expect", source) and not _declared("expect", source):
        header.append(_import_line(["__atelierAssert"], "node:assert", esm=esm, default=True))
        header.append(_EXPECT_SHIM.rstrip("\n"))
    return _with_header(source, header)
