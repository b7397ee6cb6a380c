"""The spec's inline examples (`mean([1, 2]) === 1.5`) as a `node:test` file.

The JavaScript counterpart of the pytest file in `examples`: each example imports the
project's modules (CommonJS or ES modules, through `import()`), calls the function
with the example's arguments and compares the result structurally.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence

from atelier.agents.inline_examples import SPEC_EXAMPLES_NAME, InlineExample
from atelier.agents.prompts import is_test_path

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
"""

# Top-level tests named after the file: a describe() block would be a case of its own.
_CASE = """test(__TITLE__, () => check(__NAME__, __ARGS__, __EXPECTED__, __SHOWN__));
"""

_JS_SOURCE = re.compile(r"\.(?:js|mjs|cjs)$")


def javascript_examples_test(
    examples: Sequence[InlineExample], files: Mapping[str, str]
) -> dict[str, str]:
    """``{JS_EXAMPLES_TEST_PATH: source}`` with one test per example whose values JSON
    can carry (numbers, strings, booleans, null, arrays, plain objects); {} if none."""
    cases: list[str] = []
    names: set[str] = set()
    for example in examples:
        try:
            args = json.dumps(list(example.args), allow_nan=False)
            expected = json.dumps(example.expected, allow_nan=False)
        except (TypeError, ValueError):
            continue  # a set, bytes or NaN: no faithful JavaScript value
        names.add(example.name)
        number = len(cases) + 1
        title = json.dumps(f"{SPEC_EXAMPLES_NAME} {number}: {example.source}")
        cases.append(_CASE.replace("__TITLE__", title)
                     .replace("__NAME__", json.dumps(example.name))
                     .replace("__ARGS__", args)
                     .replace("__EXPECTED__", expected)
                     .replace("__SHOWN__", json.dumps(example.source)))
    if not cases:
        return {}
    header = _HEADER.replace("__MODULES__", json.dumps(_modules(names, files)))
    return {JS_EXAMPLES_TEST_PATH: header + "\n" + "".join(cases)}


def _modules(names: set[str], files: Mapping[str, str]) -> list[str]:
    """The project's JavaScript sources that mention the examples' functions (all of
    them when none does: a missing export should fail the examples, not hide them)."""
    sources = sorted(p for p in files if _JS_SOURCE.search(p) and not is_test_path(p))
    mentioning = [p for p in sources
                  if any(re.search(rf"(?<![\w$]){re.escape(n)}(?![\w$])", files[p]) for n in names)]
    return mentioning or sources
