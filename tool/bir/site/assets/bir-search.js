/* The site's one search, over the chunked static index in search-index/ (records and page sections): loads
   the manifest, then only the shards a query needs, with <script> tags so it works from disk (file://) as
   well as over HTTP. A box in the header of every page shows the first hits as you type (Enter opens the
   search page); the search page shows them all. Matching follows bir.site.search.lookup. */
(function () {
  "use strict";
  var manifest = null, shards = {}, waiting = {}, started = false, queued = [];
  function base() {
    var el = document.getElementById("__config");
    var b = el ? JSON.parse(el.textContent).base : ".";
    return (b || ".").replace(/\/$/, "") + "/";
  }
  function script(src) {
    var s = document.createElement("script");
    s.src = base() + "search-index/" + src;
    s.async = true;
    document.head.appendChild(s);
  }
  function ready(fn) {
    if (manifest) { fn(); return; }
    queued.push(fn);
    if (!started) { started = true; script("manifest.js"); }
  }
  window.BIR_MANIFEST = function (m) { manifest = m; var q = queued; queued = []; q.forEach(function (f) { f(); }); };
  window.BIR_SHARD = function (key, entries) { shards[key] = entries; (waiting[key] || []).forEach(function (f) { f(); }); waiting[key] = []; };
  function tokens(text) {
    var out = [], re = /[0-9a-z]+(?:[-_.:\/][0-9a-z]+)*/g, m;
    text = text.toLowerCase();
    while ((m = re.exec(text)) !== null) { out.push(m[0]); }
    return out;
  }
  function shardsFor(word) {
    var above = null, below = [];
    manifest.keys.forEach(function (k) {
      if (word.indexOf(k) === 0 && (above === null || k.length > above.length)) { above = k; }
      else if (k.indexOf(word) === 0 && k.length > word.length && below.length < 12) { below.push(k); }
    });
    return (above === null ? [] : [above]).concat(below);
  }
  function loadAll(keys, done) {
    var left = keys.length;
    if (!left) { done(); return; }
    keys.forEach(function (k) {
      function one() { left -= 1; if (!left) { done(); } }
      if (shards[k]) { one(); return; }
      if (waiting[k] && waiting[k].length) { waiting[k].push(one); return; }
      waiting[k] = [one];
      script(manifest.files[k]);
    });
  }
  function matches(word) {
    var seen = {};
    shardsFor(word).forEach(function (k) {
      (shards[k] || []).forEach(function (e) {
        if (e[0].indexOf(word) === 0 && !seen[e[1]]) { seen[e[1]] = e; }
      });
    });
    return seen;
  }
  function search(query, show) {
    var words = tokens(query);
    if (!words.length) { show([], query); return; }
    var word = words.reduce(function (a, b) { return b.length > a.length ? b : a; });
    var keys = [];
    words.forEach(function (w) { keys = keys.concat(shardsFor(w)); });
    loadAll(keys, function () {
      var found = matches(word);
      words.forEach(function (w) {
        if (w === word) { return; }
        var also = matches(w);
        Object.keys(found).forEach(function (id) {
          var e = found[id];
          if ((e[1] + " " + e[2]).toLowerCase().indexOf(w) < 0 && !also[id]) { delete found[id]; }
        });
      });
      var q = query.trim().toLowerCase();
      var rows = Object.keys(found).map(function (id) { return found[id]; });
      rows.sort(function (a, b) {
        var ea = a[1] === q ? 0 : 1, eb = b[1] === q ? 0 : 1;
        if (ea !== eb) { return ea - eb; }
        return (a[3] === "page" ? 0 : 1) - (b[3] === "page" ? 0 : 1);
      });
      show(rows, query);
    });
  }
  function hit(e) {
    var li = document.createElement("li"), a = document.createElement("a");
    a.href = base() + e[5];
    if (e[3] === "page") {
      a.textContent = e[2];
      li.appendChild(a);
      li.appendChild(document.createTextNode(" "));
      var k = document.createElement("span");
      k.className = "bir-hit-kind";
      k.textContent = "(page)";
      li.appendChild(k);
    } else {
      a.textContent = e[1] + " — " + e[2];
      li.appendChild(a);
      li.appendChild(document.createTextNode(" (" + e[3] + ", " + e[4] + ")"));
    }
    return li;
  }
  function pageSearch() {
    var box = document.getElementById("bir-search"), list = document.getElementById("bir-search-results");
    var status = document.getElementById("bir-search-status");
    if (!box || !list || box.dataset.birReady) { return; }
    box.dataset.birReady = "1";
    function show(rows, query) {
      list.textContent = "";
      rows.slice(0, 100).forEach(function (e) { list.appendChild(hit(e)); });
      status.textContent = rows.length ? (rows.length > 100 ? "First 100 of " + rows.length + " matches for " : rows.length + " match(es) for ") + query
                                       : "Nothing matches " + query;
    }
    function run() {
      var q = box.value.trim();
      if (q.length < 2) { list.textContent = ""; status.textContent = "Type at least two characters."; return; }
      ready(function () { search(q, show); });
    }
    var timer = null;
    box.addEventListener("input", function () { clearTimeout(timer); timer = setTimeout(run, 150); });
    var params = new URLSearchParams(window.location.search);
    if (params.get("q")) { box.value = params.get("q"); run(); }
  }
  function headerSearch() {
    var bar = document.querySelector(".md-header__inner");
    if (!bar || bar.querySelector(".bir-header-search")) { return; }
    var form = document.createElement("form");
    form.className = "bir-header-search";
    form.setAttribute("role", "search");
    form.action = base() + "search.html";
    form.method = "get";
    var box = document.createElement("input");
    box.type = "search";
    box.name = "q";
    box.placeholder = "Search";
    box.setAttribute("aria-label", "Search records and pages");
    box.autocomplete = "off";
    var list = document.createElement("ul");
    list.className = "bir-header-results";
    list.hidden = true;
    form.appendChild(box);
    form.appendChild(list);
    bar.appendChild(form);
    var timer = null;
    function show(rows, query) {
      list.textContent = "";
      rows.slice(0, 8).forEach(function (e) { list.appendChild(hit(e)); });
      var more = document.createElement("li"), a = document.createElement("a");
      a.href = base() + "search.html?q=" + encodeURIComponent(query);
      a.textContent = rows.length ? "All " + rows.length + " matches" : "Nothing matches " + query;
      more.appendChild(a);
      list.appendChild(more);
      list.hidden = false;
    }
    box.addEventListener("input", function () {
      clearTimeout(timer);
      var q = box.value.trim();
      if (q.length < 2) { list.hidden = true; return; }
      timer = setTimeout(function () { ready(function () { search(q, show); }); }, 150);
    });
    box.addEventListener("keydown", function (ev) { if (ev.key === "Escape") { list.hidden = true; } });
    document.addEventListener("click", function (ev) { if (!form.contains(ev.target)) { list.hidden = true; } });
  }
  function init() { headerSearch(); pageSearch(); }
  if (window.document$ && window.document$.subscribe) { window.document$.subscribe(init); }
  else if (document.readyState === "loading") { document.addEventListener("DOMContentLoaded", init); }
  else { init(); }
})();
