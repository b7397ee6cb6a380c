/* Tip calculator logic: pure functions, shared by the page and the tests. */
(function (root) {
  'use strict';

  /** The amount typed in the bill field, as a number, or null when it is not a positive number. */
  function parseAmount(text) {
    const cleaned = String(text).trim().replace(/^\$/, '');
    if (!/^\d+(\.\d{1,2})?$/.test(cleaned)) {
      return null;
    }
    const amount = Number(cleaned);
    return amount > 0 ? amount : null;
  }

  /** The number of people, or null when it is not a whole number of at least 1. */
  function parsePeople(text) {
    const cleaned = String(text).trim();
    if (!/^\d+$/.test(cleaned)) {
      return null;
    }
    const people = Number(cleaned);
    return people >= 1 ? people : null;
  }

  /** Tip, total and each person's share, in cents (whole numbers) to avoid rounding drift. */
  function splitBill(amount, tipPercent, people) {
    const billCents = Math.round(amount * 100);
    const tipCents = Math.round((billCents * tipPercent) / 100);
    const totalCents = billCents + tipCents;
    return {
      tipCents,
      totalCents,
      perPersonCents: Math.ceil(totalCents / people),
    };
  }

  /** Cents as dollars: 1234 -> "$12.34". */
  function formatMoney(cents) {
    const dollars = String(Math.floor(cents / 100)).replace(/\B(?=(\d{3})+(?!\d))/g, ',');
    const rest = String(cents % 100).padStart(2, '0');
    return `$${dollars}.${rest}`;
  }

  const api = { parseAmount, parsePeople, splitBill, formatMoney };
  if (typeof module !== 'undefined' && module.exports) {
    module.exports = api;
  } else {
    root.TipLogic = api;
  }
})(typeof window !== 'undefined' ? window : globalThis);
