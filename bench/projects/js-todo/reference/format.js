function formatList(list) {
  return list.items().map((i) => `${i.done ? '[x]' : '[ ]'} ${i.title}`).join('\n');
}
module.exports = { formatList };
