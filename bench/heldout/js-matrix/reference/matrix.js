function checkRect(m) {
  if (m.length > 0) {
    const width = m[0].length;
    if (!m.every((row) => row.length === width)) throw new Error('rows differ in length');
  }
}

function transpose(m) {
  checkRect(m);
  if (m.length === 0) return [];
  return m[0].map((_, j) => m.map((row) => row[j]));
}

function multiply(a, b) {
  if (a.length === 0 || b.length === 0) throw new Error('empty matrix');
  checkRect(a);
  checkRect(b);
  if (a[0].length !== b.length) throw new Error('incompatible shapes');
  return a.map((row) => b[0].map((_, j) => row.reduce((sum, v, k) => sum + v * b[k][j], 0)));
}

function identity(n) {
  if (!Number.isInteger(n) || n < 1) throw new RangeError('n must be a positive integer');
  return Array.from({ length: n }, (_, i) => Array.from({ length: n }, (_, j) => (i === j ? 1 : 0)));
}

module.exports = { transpose, multiply, identity };
