// A tiny Markdown renderer that builds DOM nodes: every piece of text is a text node,
// so nothing in a report (written from job content) is ever parsed as HTML.
// Covers what ATELIER_REPORT.md uses: headings, paragraphs, lists, fenced code,
// tables, **bold**, *emphasis*, `code` and [links](https://…).

import { el } from "./api.js";

const INLINE = /(`[^`]+`|\*\*[^*]+\*\*|\*[^*\s][^*]*\*|\[[^\]]+\]\([^)\s]+\))/;

function inline(text) {
  const out = [];
  for (const part of text.split(INLINE)) {
    if (!part) continue;
    if (part.startsWith("`") && part.endsWith("`") && part.length > 1) out.push(el("code", {}, part.slice(1, -1)));
    else if (part.startsWith("**") && part.endsWith("**") && part.length > 4) out.push(el("strong", {}, ...inline(part.slice(2, -2))));
    else if (part.startsWith("*") && part.endsWith("*") && part.length > 2) out.push(el("em", {}, ...inline(part.slice(1, -1))));
    else if (part.startsWith("[")) {
      const m = part.match(/^\[([^\]]+)\]\(([^)\s]+)\)$/);
      const safe = m && /^(https?:\/\/|\/|#)/.test(m[2]);
      out.push(safe ? el("a", { href: m[2], rel: "noopener noreferrer nofollow" }, m[1]) : part);
    } else out.push(part);
  }
  return out;
}

function cells(line) {
  return line.trim().replace(/^\|/, "").replace(/\|$/, "").split("|").map((c) => c.trim());
}

export function renderMarkdown(source) {
  const root = document.createDocumentFragment();
  const lines = String(source || "").replace(/\r\n?/g, "\n").split("\n");
  let i = 0;
  while (i < lines.length) {
    const line = lines[i];
    if (/^\s*$/.test(line)) { i++; continue; }
    const fence = line.match(/^```(.*)$/);
    if (fence) {
      const code = [];
      i++;
      while (i < lines.length && !/^```\s*$/.test(lines[i])) code.push(lines[i++]);
      i++;
      root.append(el("pre", {}, el("code", {}, code.join("\n"))));
      continue;
    }
    const heading = line.match(/^(#{1,6})\s+(.*)$/);
    if (heading) {
      // The page already has its h1/h2: report headings start at h3.
      const level = Math.min(6, heading[1].length + 2);
      root.append(el(`h${level}`, {}, ...inline(heading[2])));
      i++;
      continue;
    }
    if (/^\s*\|.*\|\s*$/.test(line) && i + 1 < lines.length && /^\s*\|?[\s:-]+\|[\s|:-]*$/.test(lines[i + 1])) {
      const head = cells(line);
      i += 2;
      const rows = [];
      while (i < lines.length && /^\s*\|.*\|\s*$/.test(lines[i])) rows.push(cells(lines[i++]));
      root.append(el("div", { class: "table-wrap" }, el("table", {},
        el("thead", {}, el("tr", {}, ...head.map((c) => el("th", {}, ...inline(c))))),
        el("tbody", {}, ...rows.map((r) => el("tr", {}, ...r.map((c) => el("td", {}, ...inline(c)))))))));
      continue;
    }
    const item = line.match(/^\s*([-*]|\d+\.)\s+(.*)$/);
    if (item) {
      const ordered = /\d/.test(item[1]);
      const list = el(ordered ? "ol" : "ul");
      while (i < lines.length) {
        const m = lines[i].match(/^\s*([-*]|\d+\.)\s+(.*)$/);
        if (m) { list.append(el("li", {}, ...inline(m[2]))); i++; }
        else if (/^\s{2,}\S/.test(lines[i]) && list.lastChild) { list.lastChild.append(" ", ...inline(lines[i].trim())); i++; }
        else break;
      }
      root.append(list);
      continue;
    }
    const para = [];
    while (i < lines.length && !/^\s*$/.test(lines[i]) && !/^(#{1,6}\s|```|\s*([-*]|\d+\.)\s)/.test(lines[i])) para.push(lines[i++].trim());
    if (!para.length) { para.push(line); i++; }
    root.append(el("p", {}, ...inline(para.join(" "))));
  }
  return root;
}
