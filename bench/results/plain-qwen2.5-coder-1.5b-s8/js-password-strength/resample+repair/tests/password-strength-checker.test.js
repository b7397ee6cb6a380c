const { test } = require('node:test');
const assert = require('node:assert');
const { checkPasswordStrength } = require('../password-strength-checker.js');
const { spawnSync } = require('child_process');

// Test 1: Check password strength with 12 characters
test('Check password strength with 12 characters', () => {
  const password = 'StrongP@ssw0rd123';
  const result = checkPasswordStrength(password);
  assert.strictEqual(result, true);
});

// Test 2: Check password strength with less than 12 characters
test('Check password strength with less than 12 characters', () => {
  const password = 'StrongP@ssw0rd';
  const result = checkPasswordStrength(password);
  assert.strictEqual(result, false);
});

// Test 3: Check password strength with uppercase letters
// Test 4: Check password strength with lowercase letters
test('Check password strength with lowercase letters', () => {
  const password = 'STRONGP@ssw0rd123';
  const result = checkPasswordStrength(password);
  assert.strictEqual(result, true);
});

// Test 5: Check password strength with digits
// Test 6: Check password strength with symbols
// Test 7: Check password strength with mixed case
// Test 8: Check password strength with no uppercase letters
test('Check password strength with no uppercase letters', () => {
  const password = 'strongP@ssw0rd123';
  const result = checkPasswordStrength(password);
  assert.strictEqual(result, false);
});

// Test 9: Check password strength with no lowercase letters
test('Check password strength with no lowercase letters', () => {
  const password = 'StrongP@ssw0rd123';
  const result = checkPasswordStrength(password);
  assert.strictEqual(result, false);
});

// Test 10: Check password strength with no digits
// Test 11: Check password strength with no symbols
// Test 12: Check password strength with no uppercase, lowercase, digit, and symbol
// Test 13: Check password strength with mixed case and no digits
test
