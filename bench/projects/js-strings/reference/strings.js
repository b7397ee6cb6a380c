function capitalize(s) {
  return s ? s[0].toUpperCase() + s.slice(1) : '';
}
function reverse(s) {
  return [...s].reverse().join('');
}
function isPalindrome(s) {
  const t = s.toLowerCase().replace(/[^a-z0-9]/g, '');
  return t === [...t].reverse().join('');
}
function countVowels(s) {
  return (s.toLowerCase().match(/[aeiou]/g) || []).length;
}
module.exports = { capitalize, reverse, isPalindrome, countVowels };
