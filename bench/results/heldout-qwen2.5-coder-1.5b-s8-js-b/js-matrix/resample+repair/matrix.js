function transpose(m) {
  if (m.length === 0) return [];

  const numRows = m.length;
  const numCols = m[0].length;

  if (numCols === 0) return [];

  const transposed = [];

  for (let col = 0; col < numCols; col++) {
    transposed[col] = [];
    for (let row = 0; row < numRows; row++) {
      transposed[col].push(m[row][col]);
    }
  }

  return transposed;
}

function multiply(a, b) {
  if (a.length === 0 || b.length === 0 || a[0].length !== b.length) {
    throw new Error('Invalid matrix dimensions');
  }

  const numRows = a.length;
  const numCols = b[0].length;
  const numBRows = b.length;

  const result = [];

  for (let i = 0; i < numRows; i++) {
    result[i] = [];
    for (let j = 0; j < numCols; j++) {
      let sum = 0;
      for (let k = 0; k < numBRows; k++) {
        sum += a[i][k] * b[k][j];
      }
      result[i][j] = sum;
    }
  }

  return result;
}

function identity(n) {
  if (n <= 0) {
    throw new RangeError('n must be a positive integer');
  }

  const identityMatrix = [];

  for (let i = 0; i < n; i++) {
    identityMatrix[i] = [];
    for (let j = 0; j < n; j++) {
      identityMatrix[i][j] = i === j ? 1 : 0;
    }
  }

  return identityMatrix;
}

if (require.main === module) {
  // Example usage
  const matrixA = [
    [1, 2, 3],
    [4, 5, 6]
  ];

  const matrixB = [
    [7, 8],
    [9, 10],
    [11, 12]
  ];

  console.log('Transpose of matrixA:');
  console.log(transpose(matrixA));

  console.log('Product of matrixA and matrixB:');
  console.log(multiply(matrixA, matrixB));

  console.log('Identity matrix of size 3:');
  console.log(identity(3));
}

module.exports = { transpose, multiply, identity };
