const { test } = require('node:test');
const assert = require('node:assert');
const { transpose, multiply, identity } = require('../matrix.js');
const { spawnSync } = require('child_process');
const fs = require('fs');
const path = require('path');

function runMatrixCommand(input) {
  const tempDir = fs.mkdtempSync('matrix-test-');
  const inputFilePath = path.join(tempDir, 'input.txt');
  const outputFilePath = path.join(tempDir, 'output.txt');

  fs.writeFileSync(inputFilePath, input);
  const result = spawnSync(process.execPath, ['matrix.js', inputFilePath], { encoding: 'utf8' });

  fs.unlinkSync(inputFilePath);
  fs.unlinkSync(outputFilePath);

  return result;
}

test('transpose function', () => {
  const matrixA = [
    [1, 2, 3],
    [4, 5, 6]
  ];

  const expectedTranspose = [
    [1, 4],
    [2, 5],
    [3, 6]
  ];

  const result = transpose(matrixA);
  assert.deepStrictEqual(result, expectedTranspose);
});

test('multiply function', () => {
  const matrixA = [
    [1, 2],
    [3, 4]
  ];

  const matrixB = [
    [5, 6],
    [7, 8]
  ];

  const expectedProduct = [
    [19, 22],
    [43, 50]
  ];

  const result = multiply(matrixA, matrixB);
  assert.deepStrictEqual(result, expectedProduct);
});

test('identity function', () => {
  const expectedIdentity = [
    [1, 0, 0],
    [0, 1, 0],
    [0, 0, 1]
  ];

  const result = identity(3);
  assert.deepStrictEqual(result, expectedIdentity);
});

test('run matrix command', () => {
  const input = `
    1 2 3
    4 5 6
  `;
  const expectedOutput = `
    1 4
    2 5
    3 6
  `;

  const result = runMatrixCommand(input);
  assert.strictEqual(result.stdout, expectedOutput);
  assert.strictEqual(result.status, 0);
});
