// sentry-access browser glue. Loaded after htmx; no inline scripts anywhere
// (the Content-Security-Policy forbids them).
(function () {
  "use strict";

  // htmx 2.x configuration. 204 = nothing to swap; 2xx swap; 422 (validation
  // errors) swaps the returned fragment; other 4xx/5xx are errors and do not
  // swap (the server answers HTMX requests with a flash fragment that
  // app.js shows in the flash region instead).
  htmx.config.responseHandling = [
    { code: "204", swap: false },
    { code: "[23]..", swap: true },
    { code: "422", swap: true },
    { code: "[45]..", swap: false, error: true },
    { code: "...", swap: false }
  ];
  htmx.config.historyCacheSize = 20;
  htmx.config.includeIndicatorStyles = false; // inline <style> would break the CSP
  // htmx settles "style" too: on a swap or a Back/Forward restore it copies
  // the old element's style attribute onto the new one with setAttribute,
  // which the CSP (no inline style) blocks and Chromium logs as an error
  // whenever the browser has left an empty style="" on an element with an
  // id (seen on the top bar's search box when going Back on the lookup).
  htmx.config.attributesToSettle = ["class", "width", "height"];
  htmx.config.allowEval = false;
  htmx.config.allowScriptTags = false;
  htmx.config.selfRequestsOnly = true;
  htmx.config.scrollBehavior = "instant";

  // htmx keeps the last pages (members, access, audit entries) in
  // sessionStorage for Back/Forward. The server says no-store for them;
  // drop the copies when the user logs out and on the signed-out page, so
  // a shared browser tab does not keep access data after the session.
  function dropHistoryCache() {
    try { sessionStorage.removeItem("htmx-history-cache"); } catch (e) { /* storage disabled */ }
  }
  document.addEventListener("submit", function (evt) {
    if (evt.target && evt.target.getAttribute("action") === "/logout") { dropHistoryCache(); }
  });
  if (document.querySelector('[data-testid="signed-out"]')) { dropHistoryCache(); }

  // A button with data-download="URL" posts its form's fields to URL as a
  // plain form (a file download), not through htmx, which would swap the
  // file into the page. Hidden inputs keep the fields' line breaks.
  document.addEventListener("click", function (evt) {
    var btn = evt.target && evt.target.closest ? evt.target.closest("button[data-download]") : null;
    if (!btn || !btn.form) { return; }
    evt.preventDefault();
    var f = document.createElement("form");
    f.method = "post";
    f.action = btn.getAttribute("data-download");
    f.hidden = true;
    new FormData(btn.form).forEach(function (value, name) {
      var input = document.createElement("input");
      input.type = "hidden";
      input.name = name;
      input.value = value;
      f.appendChild(input);
    });
    document.body.appendChild(f);
    f.submit();
    f.remove();
  }, true);

  // A button with data-refresh-preview adds a step to the change form
  // (the preview's "Add step: keep admin on payments"): once the step is
  // in place, preview the form again, as any edit of the form does, so
  // the preview no longer offers what the new step already does.
  document.body.addEventListener("htmx:afterSettle", function (evt) {
    var cfg = evt.detail && evt.detail.requestConfig;
    var elt = cfg && cfg.elt;
    if (!elt || !elt.hasAttribute || !elt.hasAttribute("data-refresh-preview")) { return; }
    var form = document.getElementById("change-form");
    if (form) { form.dispatchEvent(new Event("change", { bubbles: true })); }
  });

  // Error answers to HTMX requests carry a small flash fragment: show it in
  // the page's flash region rather than swapping it into the target.
  document.body.addEventListener("htmx:responseError", function (evt) {
    var region = document.getElementById("flash");
    var xhr = evt.detail.xhr;
    if (!region || !xhr) { return; }
    if ((xhr.getResponseHeader("Content-Type") || "").indexOf("text/html") === 0 && xhr.responseText) {
      region.innerHTML = xhr.responseText;
    } else {
      region.textContent = "The request failed (" + xhr.status + ").";
    }
  });
  document.body.addEventListener("htmx:sendError", function () {
    var region = document.getElementById("flash");
    if (region) { region.textContent = "The server could not be reached."; }
  });

  // Screen readers: a region htmx swaps is replaced, not changed, so it
  // cannot announce itself. After a swap, the fragment's [data-announce]
  // element (a result count, a decision) is read out through the page's
  // persistent #announcer status region.
  document.body.addEventListener("htmx:afterSettle", function (evt) {
    var region = document.getElementById("announcer");
    var target = evt.detail && evt.detail.target;
    if (!region || !target) { return; }
    if (!target.isConnected && target.id) { target = document.getElementById(target.id); }
    if (!target) { return; }
    var msg = target.matches("[data-announce]") ? target : target.querySelector("[data-announce]");
    if (!msg) { return; }
    region.textContent = msg.textContent.replace(/\s+/g, " ").trim();
  });

  // Keyboard users: a swap that replaces the focused element (a pager
  // link, a sort header) would drop focus to the top of the page. Put it
  // back on the same control in the new content, or on the region itself.
  var lostFocus = null;
  document.body.addEventListener("htmx:beforeSwap", function (evt) {
    var target = evt.detail && evt.detail.target;
    var active = document.activeElement;
    lostFocus = null;
    if (target && active && active !== document.body && target.contains(active) && active.getAttribute("data-testid")) {
      lostFocus = { id: target.id, testid: active.getAttribute("data-testid"), item: active.getAttribute("data-id") };
    }
  });
  document.body.addEventListener("htmx:afterSettle", function () {
    if (!lostFocus) { return; }
    var region = lostFocus.id && document.getElementById(lostFocus.id);
    var want = '[data-testid="' + CSS.escape(lostFocus.testid) + '"]';
    var item = lostFocus.item ? want + '[data-id="' + CSS.escape(lostFocus.item) + '"]' : null;
    lostFocus = null;
    if (!region || (document.activeElement && document.activeElement !== document.body)) { return; }
    var same = (item && region.querySelector(item)) || region.querySelector(want);
    if (same) { same.focus(); return; }
    if (!region.hasAttribute("tabindex")) { region.setAttribute("tabindex", "-1"); }
    region.focus();
  });

  // The top bar's search: its results list (#search-results, swapped in
  // by htmx) opens under the box. Arrow Down moves from the box into the
  // list, Arrow Up/Down move through its links (Up from the first goes back
  // to the box), Escape in the list closes it and goes back to the box,
  // Escape in the box closes it and leaves the box, a click elsewhere
  // closes it.
  function searchBox() { return document.getElementById("global-search"); }
  function searchList() { return document.getElementById("search-results"); }
  function searchLinks() {
    var list = searchList();
    return list && !list.hidden ? Array.prototype.slice.call(list.querySelectorAll("a")) : [];
  }
  function closeSearch() {
    var list = searchList(), box = searchBox();
    if (list) { list.hidden = true; }
    if (box) { box.setAttribute("aria-expanded", "false"); }
  }
  document.body.addEventListener("htmx:afterSettle", function () {
    var list = searchList(), box = searchBox();
    if (!list || !box) { return; }
    var open = !list.hidden && list.children.length > 0 && box.value.trim() !== "";
    list.hidden = !open;
    box.setAttribute("aria-expanded", open ? "true" : "false");
  });
  document.addEventListener("click", function (evt) {
    var form = evt.target && evt.target.closest ? evt.target.closest(".search") : null;
    if (!form) { closeSearch(); }
  });

  // Keyboard shortcuts: "/" focuses the search box, Escape leaves it.
  document.addEventListener("keydown", function (evt) {
    var t = evt.target;
    var typing = t && (t.tagName === "INPUT" || t.tagName === "TEXTAREA" || t.tagName === "SELECT" || t.isContentEditable);
    var links = searchLinks();
    var inList = t && t.closest && t.closest("#search-results");
    if (evt.key === "/" && !typing && !evt.ctrlKey && !evt.metaKey && !evt.altKey) {
      var search = document.querySelector("[data-shortcut-search]");
      if (search) { evt.preventDefault(); search.focus(); search.select(); }
    } else if (evt.key === "ArrowDown" && t === searchBox() && links.length > 0) {
      evt.preventDefault();
      links[0].focus();
    } else if ((evt.key === "ArrowDown" || evt.key === "ArrowUp") && inList) {
      evt.preventDefault();
      var i = links.indexOf(t) + (evt.key === "ArrowDown" ? 1 : -1);
      if (i < 0) { searchBox().focus(); } else if (i < links.length) { links[i].focus(); }
    } else if (evt.key === "Escape" && inList) {
      evt.preventDefault();
      closeSearch();
      searchBox().focus();
    } else if (evt.key === "Escape" && typing && t.hasAttribute("data-shortcut-search")) {
      closeSearch();
      t.blur();
    }
  });
  // Copy buttons: <button data-copy="#id"> copies the text of #id (SSO
  // setup assistant). Delegated, so it works on swapped-in fragments.
  document.addEventListener("click", function (evt) {
    var btn = evt.target && evt.target.closest ? evt.target.closest("[data-copy]") : null;
    if (!btn) { return; }
    var src = document.querySelector(btn.getAttribute("data-copy"));
    if (!src || !navigator.clipboard) { return; }
    navigator.clipboard.writeText(src.textContent.trim()).then(function () {
      btn.textContent = "Copied";
      setTimeout(function () { btn.textContent = "Copy"; }, 1500);
    });
  });
})();
