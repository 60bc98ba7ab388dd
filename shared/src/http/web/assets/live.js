// Keeps an open page current (the SEV page, the list): every few seconds it asks for the page
// again with If-None-Match, and when it changed, swaps in each region marked `data-live` whose
// content differs, except a region someone is typing in or has focused, which waits until they
// are done. Without JavaScript the page says to refresh instead.
(() => {
  const PERIOD_MS = 3000;
  const status = document.getElementById("live-status");
  let etag = null;

  const say = (text) => {
    if (status) status.textContent = text;
  };

  // A region holds someone's unsent input: a focused field, or one that differs from the page.
  const busy = (region) => {
    const focused = document.activeElement;
    if (focused && focused !== document.body && region.contains(focused)) return true;
    return [...region.querySelectorAll("input, textarea, select")].some((field) => {
      if (field.type === "hidden") return false;
      if (field.type === "checkbox" || field.type === "radio") return field.checked !== field.defaultChecked;
      if (field.tagName === "SELECT") return [...field.options].some((o) => o.selected !== o.defaultSelected);
      return field.value !== field.defaultValue;
    });
  };

  const apply = (html) => {
    const fresh = new DOMParser().parseFromString(html, "text/html");
    let waiting = false;
    for (const next of fresh.querySelectorAll("[data-live][id]")) {
      const current = document.getElementById(next.id);
      if (!current || current.innerHTML === next.innerHTML) continue;
      if (busy(current)) {
        waiting = true;
        continue;
      }
      current.replaceWith(document.importNode(next, true));
    }
    return waiting;
  };

  const poll = async () => {
    if (document.hidden) return true;
    let r;
    try {
      r = await fetch(location.href, {
        headers: etag ? { "If-None-Match": etag } : {},
        credentials: "same-origin",
        cache: "no-store",
        redirect: "manual",
      });
    } catch {
      say("Live updates paused: sevtool cannot be reached; trying again.");
      return true;
    }
    if (r.status === 304) {
      say(`Live: up to date at ${new Date().toLocaleTimeString()}.`);
      return true;
    }
    if (!r.ok) {
      // A redirect to sign in, or the SEV is no longer visible: stop rather than guess.
      say("Live updates stopped: reload the page (you may need to sign in again).");
      return false;
    }
    const tag = r.headers.get("ETag");
    // A region left alone for someone typing is fetched again next time, so it catches up.
    etag = apply(await r.text()) ? null : tag;
    say(`Live: updated at ${new Date().toLocaleTimeString()}.`);
    return true;
  };

  const loop = async () => {
    if (await poll()) setTimeout(loop, PERIOD_MS);
  };
  say("Live: this page keeps itself up to date.");
  loop();
})();
