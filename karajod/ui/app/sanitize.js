// Job descriptions are "text or simple HTML" written in config files.
// They are rendered through an allow-list: the input is parsed in an inert
// document (no scripts run, nothing loads), and only a small set of tags is
// rebuilt into a fresh fragment with document.createElement. Every
// attribute is dropped except href on <a>, and only for absolute http(s)
// URLs; a link without one is unwrapped to its text. Dangerous containers
// are removed with their content; any other unknown tag is unwrapped.

const ALLOWED = new Set([
  'A', 'B', 'STRONG', 'I', 'EM', 'U', 'S', 'SMALL', 'CODE', 'KBD', 'PRE',
  'BR', 'P', 'UL', 'OL', 'LI', 'BLOCKQUOTE',
]);

const DROPPED = new Set([
  'SCRIPT', 'STYLE', 'IFRAME', 'FRAME', 'FRAMESET', 'OBJECT', 'EMBED',
  'TEMPLATE', 'NOSCRIPT', 'SVG', 'MATH', 'TEXTAREA', 'SELECT', 'TITLE',
  'HEAD', 'META', 'LINK', 'BASE', 'NOEMBED', 'NOFRAMES', 'XMP', 'PLAINTEXT',
]);

const MAX_DEPTH = 32;

/** The href if it is an absolute http(s) URL, else null. */
export function safeHref(href) {
  if (typeof href !== 'string') return null;
  const trimmed = href.trim();
  if (!/^https?:\/\//i.test(trimmed)) return null;
  try {
    const url = new URL(trimmed);
    return url.protocol === 'http:' || url.protocol === 'https:' ? url.href : null;
  } catch {
    return null;
  }
}

function copyChildren(from, to, doc, depth) {
  for (const node of Array.from(from.childNodes)) {
    if (node.nodeType === Node.TEXT_NODE) {
      to.appendChild(doc.createTextNode(node.nodeValue));
    } else if (node.nodeType === Node.ELEMENT_NODE) {
      copyElement(node, to, doc, depth + 1);
    }
    // Comments, processing instructions and the rest are dropped.
  }
}

function copyElement(el, to, doc, depth) {
  const tag = el.tagName.toUpperCase();
  if (DROPPED.has(tag) || depth > MAX_DEPTH) return;
  if (!ALLOWED.has(tag)) {
    copyChildren(el, to, doc, depth);
    return;
  }
  const href = tag === 'A' ? safeHref(el.getAttribute('href')) : null;
  if (tag === 'A' && !href) {
    // A link to nowhere safe is just its text.
    copyChildren(el, to, doc, depth);
    return;
  }
  const out = doc.createElement(tag.toLowerCase());
  if (href) {
    out.setAttribute('href', href);
    out.setAttribute('rel', 'noopener noreferrer nofollow');
    out.setAttribute('target', '_blank');
  }
  copyChildren(el, out, doc, depth);
  to.appendChild(out);
}

/** A DocumentFragment (of `doc`, default the page) holding the sanitised HTML. */
export function sanitize(html, doc = document) {
  const frag = doc.createDocumentFragment();
  const parsed = new DOMParser().parseFromString(`<body>${String(html ?? '')}`, 'text/html');
  copyChildren(parsed.body, frag, doc, 0);
  return frag;
}
