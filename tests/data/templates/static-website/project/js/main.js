/* Wires the tip calculator's form to its logic (js/logic.js, loaded first). */
(function () {
  'use strict';

  const { parseAmount, parsePeople, splitBill, formatMoney } = window.TipLogic;

  function tipPercent(form) {
    const choice = form.elements.tip.value;
    if (choice !== 'custom') {
      return Number(choice);
    }
    const custom = Number(form.elements.customTip.value);
    return Number.isFinite(custom) && custom >= 0 ? custom : null;
  }

  function update(form) {
    const results = document.getElementById('results');
    const message = document.getElementById('message');
    form.elements.customTip.disabled = form.elements.tip.value !== 'custom';
    const amount = parseAmount(form.elements.amount.value);
    const people = parsePeople(form.elements.people.value);
    const percent = tipPercent(form);
    if (amount === null || people === null || percent === null) {
      results.hidden = true;
      message.hidden = false;
      message.textContent = amount === null
        ? 'Enter the bill as a positive amount, like 42.50.'
        : people === null
          ? 'The number of people must be a whole number of at least 1.'
          : 'Enter the custom tip as a percentage, like 12.';
      return;
    }
    const bill = splitBill(amount, percent, people);
    document.getElementById('tip').textContent = formatMoney(bill.tipCents);
    document.getElementById('total').textContent = formatMoney(bill.totalCents);
    document.getElementById('share').textContent = formatMoney(bill.perPersonCents);
    message.hidden = true;
    results.hidden = false;
  }

  document.addEventListener('DOMContentLoaded', () => {
    const form = document.getElementById('calculator');
    form.addEventListener('input', () => update(form));
    form.addEventListener('submit', (event) => event.preventDefault());
    update(form);
  });
})();
