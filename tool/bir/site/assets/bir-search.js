/* Record search over the chunked static index in search-index/: loads the manifest, then only the shards
   a query needs, with <script> tags so it works from disk as well as over HTTP. */
(function () {
  "use strict";
  var manifest = null, shards = {}, waiting = {}, pending = null;
  function base() {
    var el = document.getElementById("__config");
    var b = el ? JSON.parse(el.textContent).base : ".";
    return (b || ".").replace(/\/$/, "") + "/";
  }
  function load(file, key, done) {
    if (waiting[key]) { waiting[key].push(done); return; }
    waiting[key] = [done];
    var s = document.createElement("script");
    s.src = base() + "search-index/" + file;
    s.async = true;
    document.head.appendChild(s);
  }
  window.BIR_MANIFEST = function (m) { manifest = m; (waiting.__manifest || []).forEach(function (f) { f(); }); };
  window.BIR_SHARD = function (key, entries) { shards[key] = entries; (waiting[key] || []).forEach(function (f) { f(); }); };
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
  function search(query, show) {
    var words = tokens(query);
    if (!words.length) { show([], query); return; }
    var word = words.reduce(function (a, b) { return b.length > a.length ? b : a; });
    var keys = shardsFor(word), left = keys.length;
    if (!left) { show([], query); return; }
    function finish() {
      var seen = {}, rows = [];
      keys.forEach(function (k) {
        (shards[k] || []).forEach(function (e) {
          if (e[0].indexOf(word) !== 0 || seen[e[1]]) { return; }
          var hay = (e[1] + " " + e[2]).toLowerCase() + " " + e[0];
          if (!words.every(function (w) { return hay.indexOf(w) >= 0; })) { return; }
          seen[e[1]] = true; rows.push(e);
        });
      });
      show(rows, query);
    }
    keys.forEach(function (k) {
      if (shards[k]) { left -= 1; if (!left) { finish(); } return; }
      load(manifest.files[k], k, function () { left -= 1; if (!left) { finish(); } });
    });
  }
  function render(box, list, status) {
    return function (rows, query) {
      list.textContent = "";
      rows.slice(0, 100).forEach(function (e) {
        var li = document.createElement("li"), a = document.createElement("a");
        a.href = base() + e[5];
        a.textContent = e[1] + " — " + e[2];
        li.appendChild(a);
        li.appendChild(document.createTextNode(" (" + e[3] + ", " + e[4] + ")"));
        list.appendChild(li);
      });
      status.textContent = rows.length ? (rows.length > 100 ? "First 100 of " + rows.length + " matches for " : rows.length + " match(es) for ") + query
                                       : "No record matches " + query;
    };
  }
  function init() {
    var box = document.getElementById("bir-search"), list = document.getElementById("bir-search-results");
    var status = document.getElementById("bir-search-status");
    if (!box || box.dataset.birReady) { return; }
    box.dataset.birReady = "1";
    var show = render(box, list, status);
    function run() {
      var q = box.value.trim();
      if (q.length < 2) { list.textContent = ""; status.textContent = "Type at least two characters."; return; }
      if (!manifest) { pending = run; return; }
      search(q, show);
    }
    waiting.__manifest = [function () { if (pending) { var p = pending; pending = null; p(); } }];
    var s = document.createElement("script");
    s.src = base() + "search-index/manifest.js";
    document.head.appendChild(s);
    var timer = null;
    box.addEventListener("input", function () { clearTimeout(timer); timer = setTimeout(run, 150); });
    var params = new URLSearchParams(window.location.search);
    if (params.get("q")) { box.value = params.get("q"); run(); }
  }
  if (window.document$ && window.document$.subscribe) { window.document$.subscribe(init); }
  else if (document.readyState === "loading") { document.addEventListener("DOMContentLoaded", init); }
  else { init(); }
})();
