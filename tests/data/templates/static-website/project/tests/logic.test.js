'use strict';

const test = require('node:test');
const assert = require('node:assert/strict');
const { parseAmount, parsePeople, splitBill, formatMoney } = require('../js/logic.js');

test('parseAmount reads positive amounts with up to two decimals', () => {
  assert.equal(parseAmount('42.50'), 42.5);
  assert.equal(parseAmount(' $18 '), 18);
  for (const bad of ['', '0', '-3', 'abc', '1.234', '1,5']) {
    assert.equal(parseAmount(bad), null, `parseAmount(${JSON.stringify(bad)})`);
  }
});

test('parsePeople accepts whole numbers of at least 1', () => {
  assert.equal(parsePeople('3'), 3);
  for (const bad of ['0', '1.5', '-2', 'two', '']) {
    assert.equal(parsePeople(bad), null, `parsePeople(${JSON.stringify(bad)})`);
  }
});

test('splitBill gives the tip, the total and each share in cents', () => {
  assert.deepEqual(splitBill(100, 15, 1), { tipCents: 1500, totalCents: 11500, perPersonCents: 11500 });
  assert.deepEqual(splitBill(42.5, 20, 2), { tipCents: 850, totalCents: 5100, perPersonCents: 2550 });
});

test('splitBill rounds each share up, so the shares cover the total', () => {
  const { totalCents, perPersonCents } = splitBill(10, 0, 3);
  assert.equal(totalCents, 1000);
  assert.equal(perPersonCents, 334);
  assert.ok(perPersonCents * 3 >= totalCents);
});

test('formatMoney shows dollars and cents', () => {
  assert.equal(formatMoney(0), '$0.00');
  assert.equal(formatMoney(5), '$0.05');
  assert.equal(formatMoney(123456), '$1,234.56');
});
