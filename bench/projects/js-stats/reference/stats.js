function check(numbers) {
  if (!numbers.length) throw new Error('empty array');
}
function mean(numbers) {
  check(numbers);
  return numbers.reduce((a, b) => a + b, 0) / numbers.length;
}
function median(numbers) {
  check(numbers);
  const s = [...numbers].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}
function mode(numbers) {
  check(numbers);
  const counts = new Map();
  for (const n of numbers) counts.set(n, (counts.get(n) || 0) + 1);
  let best = null;
  for (const [n, c] of counts) {
    if (best === null || c > counts.get(best) || (c === counts.get(best) && n < best)) best = n;
  }
  return best;
}
function range(numbers) {
  check(numbers);
  return Math.max(...numbers) - Math.min(...numbers);
}
module.exports = { mean, median, mode, range };
