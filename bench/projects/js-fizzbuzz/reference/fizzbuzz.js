function fizzbuzzValue(n) {
  if (n % 15 === 0) return 'FizzBuzz';
  if (n % 3 === 0) return 'Fizz';
  if (n % 5 === 0) return 'Buzz';
  return String(n);
}
function fizzbuzz(n) {
  const out = [];
  for (let i = 1; i <= n; i++) out.push(fizzbuzzValue(i));
  return out;
}
module.exports = { fizzbuzz, fizzbuzzValue };
