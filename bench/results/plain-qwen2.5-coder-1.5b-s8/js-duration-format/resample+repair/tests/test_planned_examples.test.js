// Examples from the spec, checked against the project's exports (written by Atelier).
const { test } = require("node:test");
const assert = require("node:assert/strict");
const path = require("node:path");
const { pathToFileURL } = require("node:url");

const MODULES = ["seconds-to-duration.js"];

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

test("test_planned_examples 1: duration(3600)", () => check("duration", [3600], "1 hour", "duration(3600)"));
test("test_planned_examples 2: duration(36000)", () => check("duration", [36000], "1 hour 1 minute", "duration(36000)"));
test("test_planned_examples 3: duration(360000)", () => check("duration", [360000], "1 hour 1 minute 1 second", "duration(360000)"));
test("test_planned_examples 4: duration(3600000)", () => check("duration", [3600000], "1 day", "duration(3600000)"));
