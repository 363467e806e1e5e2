// The page script: a click on a citation asks the server for the in-context view (the
// chat strips data attributes, so the reference travels in a class name), and a newly
// rendered document view is scrolled to its passage.
(() => {
  if (window.__qaUi) return;
  window.__qaUi = true;
  function request(ref, id = 'qa-view-request') {
    const box = document.querySelector(`#${id} textarea, #${id} input`);
    if (!box) return;
    box.value = ref + ':' + Date.now();
    box.dispatchEvent(new Event('input', { bubbles: true }));
  }
  // A click on an element of class `selector` whose classes include `<prefix><ref>` sends ref.
  function onRefClick(selector, prefix, send) {
    document.addEventListener('click', (event) => {
      const el = event.target.closest && event.target.closest(selector);
      if (!el) return;
      const ref = Array.from(el.classList).find((c) => c.startsWith(prefix));
      if (!ref) return;
      event.preventDefault();
      event.stopPropagation();
      send(el, ref.slice(prefix.length));
    }, true);
  }
  // "Read alone" / "Read with the conversation": ask that message again (class qa-ctx-<answer>).
  onRefClick('.qa-context-toggle', 'qa-ctx-', (el, ref) => request(ref, 'qa-context-request'));
  onRefClick('.qa-open', 'qa-ref-', (el, ref) => {
    document.querySelectorAll('.qa-hit.qa-active').forEach((h) => h.classList.remove('qa-active'));
    const hit = el.closest('.qa-hit');
    if (hit) hit.classList.add('qa-active');
    request(ref);
  });
  function scrollToPassage() {
    const view = document.querySelector('#qa-source .qa-doc');
    if (!view || view.classList.contains('qa-scrolled')) return;
    const anchor = view.querySelector('.qa-anchor');
    if (!anchor) return;
    view.classList.add('qa-scrolled');
    const top = anchor.getBoundingClientRect().top - view.getBoundingClientRect().top + view.scrollTop;
    view.scrollTop = Math.max(0, top - view.clientHeight / 4);
    // A PDF's rendered page: bring the first highlighted box into view too.
    const pages = document.querySelector('#qa-source .qa-pdf-pages');
    const first = pages && pages.querySelector('.qa-pdf-box');
    if (first) {
      const y = first.getBoundingClientRect().top - pages.getBoundingClientRect().top + pages.scrollTop;
      pages.scrollTop = Math.max(0, y - pages.clientHeight / 4);
    }
    const side = document.querySelector('#qa-source');
    const box = side && side.getBoundingClientRect();
    if (box && (box.top < 0 || box.top > window.innerHeight)) side.scrollIntoView({ block: 'start' });
  }
  function scrollParent(el) {
    for (let p = el.parentElement; p; p = p.parentElement) {
      const style = getComputedStyle(p);
      if (/(auto|scroll)/.test(style.overflowY) && p.scrollHeight > p.clientHeight) return p;
    }
    return null;
  }
  // A new answer is shown from its top (with its question), not scrolled to its end.
  let answers = 0;
  function showNewAnswer() {
    const all = document.querySelectorAll('#qa-chat .qa-answer');
    if (all.length === answers) return;
    const grew = all.length > answers;
    answers = all.length;
    if (!grew) return;
    const last = all[all.length - 1];
    const box = scrollParent(last);
    if (!box) return;
    const top = last.getBoundingClientRect().top - box.getBoundingClientRect().top + box.scrollTop;
    box.scrollTop = Math.max(0, top - 90);
  }
  new MutationObserver(() => { scrollToPassage(); showNewAnswer(); })
    .observe(document.documentElement, { childList: true, subtree: true });
})();
