"""The spec's inline examples (`mean([1, 2]) === 1.5`) as a `node:test` file.

The JavaScript counterpart of the pytest file in `examples`: each example imports the
project's modules (CommonJS or ES modules, through `import()`), calls the function
with the example's arguments and compares the result structurally.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence

from atelier.domain.paths import is_test_path
from atelier.spec.inline_examples import SPEC_EXAMPLES_NAME, InlineExample
from atelier.spec.stated_cases import StatedCase

JS_EXAMPLES_TEST_PATH = f"tests/{SPEC_EXAMPLES_NAME}.test.js"

_HEADER = """// Examples from the spec, checked against the project's exports (written by Atelier).
const { test } = require("node:test");
const assert = require("node:assert/strict");
const path = require("node:path");
const { pathToFileURL } = require("node:url");

const MODULES = __MODULES__;

async function namespace() {
  const ns = {};
  for (const rel of MODULES) {
    const mod = await import(pathToFileURL(path.join(__dirname, "..", rel)).href);
    const main = mod.default;
    if (main !== null && typeof main === "object") Object.assign(ns, main);
    if (typeof main === "function" && main.name) ns[main.name] = main;
    for (const [name, value] of Object.entries(mod)) if (name !== "default") ns[name] = value;
  }
  return ns;
}

function same(actual, expected) {
  if (typeof actual === "number" && typeof expected === "number") {
    return actual === expected
      || Math.abs(actual - expected) <= 1e-9 * Math.max(1, Math.abs(expected));
  }
  if (Array.isArray(actual) && Array.isArray(expected)) {
    return actual.length === expected.length && actual.every((a, i) => same(a, expected[i]));
  }
  if (actual !== null && expected !== null && typeof actual === "object"
      && typeof expected === "object" && !Array.isArray(actual) && !Array.isArray(expected)) {
    const keys = Object.keys(expected);
    return same(Object.keys(actual).sort(), [...keys].sort())
      && keys.every((k) => same(actual[k], expected[k]));
  }
  return Object.is(actual, expected) || (expected === null && actual === undefined);
}

async function check(name, args, expected, shown) {
  const ns = await namespace();
  assert.equal(typeof ns[name], "function", `${name} is not exported by ${MODULES.join(", ")}`);
  // Called unbound, as after `const { f } = require(...)`: `this` is not the module.
  const fn = ns[name];
  const actual = await fn(...args);
  assert.ok(same(actual, expected),
    `${shown} returned ${JSON.stringify(actual)}, expected ${JSON.stringify(expected)}`);
}

async function checkThrows(name, args, error, shown, clause) {
  const ns = await namespace();
  assert.equal(typeof ns[name], "function", `${name} is not exported by ${MODULES.join(", ")}`);
  let value;
  try {
    value = await ns[name](...structuredClone(args));
  } catch (err) {
    const names = [];
    for (let p = err === null ? null : Object.getPrototypeOf(Object(err)); p;
         p = Object.getPrototypeOf(p)) names.push(p.constructor && p.constructor.name);
    // Without a named error, a ReferenceError or SyntaxError means broken code, not
    // the refusal the request asks for.
    const wrong = error ? !names.includes(error)
      : err instanceof ReferenceError || err instanceof SyntaxError;
    assert.ok(!wrong, `${shown} threw ${err && err.name}: ${err && err.message}; `
      + `the request says: ${clause}`);
    return;
  }
  assert.fail(`${shown} returned ${JSON.stringify(value)}; the request says: ${clause}`);
}

async function checkUnchanged(name, args, shown, clause) {
  const ns = await namespace();
  assert.equal(typeof ns[name], "function", `${name} is not exported by ${MODULES.join(", ")}`);
  const given = structuredClone(args);
  await ns[name](...given);
  assert.ok(same(given, args), `${shown} changed its arguments to ${JSON.stringify(given)}; `
    + `the request says: ${clause}`);
}
"""

# Top-level tests named after the file: a describe() block would be a case of its own.
_CASE = """test(__TITLE__, () => check(__NAME__, __ARGS__, __EXPECTED__, __SHOWN__));
"""
_THROWS_CASE = """test(__TITLE__, () =>
  checkThrows(__NAME__, __ARGS__, __ERROR__, __SHOWN__, __CLAUSE__));
"""
_UNCHANGED_CASE = """test(__TITLE__, () =>
  checkUnchanged(__NAME__, __ARGS__, __SHOWN__, __CLAUSE__));
"""

_JS_SOURCE = re.compile(r"\.(?:js|mjs|cjs)$")


def javascript_examples_test(
    examples: Sequence[InlineExample], files: Mapping[str, str],
    stated: Sequence[StatedCase] = (),
) -> dict[str, str]:
    """``{JS_EXAMPLES_TEST_PATH: source}`` with one test per example and stated case whose
    values JSON can carry (numbers, strings, booleans, null, arrays, plain objects); {}
    if none."""
    cases: list[str] = []
    names: set[str] = set()
    returns = [(e.name, e.args, e.expected, e.source) for e in examples] + [
        (c.name, c.args, c.expected, c.source) for c in stated if c.kind == "returns"]
    checks = [c for c in stated if c.kind != "returns"]
    for name, call_args, result, source in returns:
        try:
            args = json.dumps(list(call_args), allow_nan=False)
            expected = json.dumps(result, allow_nan=False)
        except (TypeError, ValueError):
            continue  # a set, bytes or NaN: no faithful JavaScript value
        names.add(name)
        cases.append(_case(_CASE, len(cases) + 1, name, source, args)
                     .replace("__EXPECTED__", expected))
    for check in checks:
        try:
            args = json.dumps(list(check.args), allow_nan=False)
        except (TypeError, ValueError):
            continue
        names.add(check.name)
        template = _THROWS_CASE if check.kind == "raises" else _UNCHANGED_CASE
        title = check.source + (" throws" if check.kind == "raises" else " keeps its arguments")
        cases.append(_case(template, len(cases) + 1, check.name, check.source, args, title)
                     .replace("__ERROR__", json.dumps(check.error))
                     .replace("__CLAUSE__", json.dumps(check.clause)))
    if not cases:
        return {}
    header = _HEADER.replace("__MODULES__", json.dumps(_modules(names, files)))
    return {JS_EXAMPLES_TEST_PATH: header + "\n" + "".join(cases)}


_TEST_CALL = re.compile(
    r'test\((?P<title>"(?:[^"\\]|\\.)*"), \(\) =>\s*'
    r'(?:check|checkThrows|checkUnchanged)\((?P<name>"(?:[^"\\]|\\.)*")')


def javascript_example_functions(test_source: str) -> dict[str, set[str]]:
    """test name → the function it calls, read back from a file that
    `javascript_examples_test` wrote ({} for anything else)."""
    found: dict[str, set[str]] = {}
    for match in _TEST_CALL.finditer(test_source):
        try:
            found[json.loads(match.group("title"))] = {json.loads(match.group("name"))}
        except ValueError:
            continue
    return found


def _case(template: str, number: int, name: str, shown: str, args: str,
          title: str | None = None) -> str:
    heading = json.dumps(f"{SPEC_EXAMPLES_NAME} {number}: {title or shown}")
    return (template.replace("__TITLE__", heading).replace("__NAME__", json.dumps(name))
            .replace("__ARGS__", args).replace("__SHOWN__", json.dumps(shown)))


def _modules(names: set[str], files: Mapping[str, str]) -> list[str]:
    """The project's JavaScript sources that mention the examples' functions (all of
    them when none does: a missing export should fail the examples, not hide them)."""
    sources = sorted(p for p in files if _JS_SOURCE.search(p) and not is_test_path(p))
    mentioning = [p for p in sources
                  if any(re.search(rf"(?<![\w$]){re.escape(n)}(?![\w$])", files[p]) for n in names)]
    return mentioning or sources
