// PyTake dashboard: the copy buttons. Served as a file (the CSP allows no
// inline script); every page works without it.
"use strict";
document.addEventListener("click", (ev) => {
  const btn = ev.target.closest("button.copy");
  if (!btn) return;
  const el = document.getElementById(btn.dataset.copy);
  if (!el || !navigator.clipboard) return;
  navigator.clipboard.writeText(el.textContent.trim()).then(() => {
    const label = btn.textContent;
    btn.textContent = btn.dataset.copied || label;
    setTimeout(() => { btn.textContent = label; }, 2000);
  }, () => {});
});
