// The composer: live character counters that count as each network does, and the preview of
// each target. The rules mirror core/rules/text.py; the figures (X weights, URL length, TLDs,
// limits) come from the server in data- attributes. Without JavaScript, "Vérifier" shows the
// server's own counts and checks.
(function () {
  "use strict";

  var URL_RE = /https?:\/\/[^\s<>"]+[^\s<>".,;:!?)\]'»]/gu;
  var WORD = "\\p{L}\\p{N}_";
  var REMOTE_MENTION = new RegExp("(?<![" + WORD + "@])(@[" + WORD + "]+)@[" + WORD + ".-]+[" + WORD + "]", "gu");
  var LINKEDIN_RESERVED = /[\\|{}@\[\]()<>#*_~]/g;
  var LINKEDIN_KEEP = new RegExp("https?://\\S+|(?<![" + WORD + "])#[" + WORD + "]+", "gu");
  var BARE_DOMAIN = /(^|[^A-Za-z0-9@$#\-_./])((?:[a-z0-9-]+\.)+([a-z0-9-]+))(\/[^\s<>"]*[^\s<>".,;:!?)\]'»]|\/)?/giu;
  var EMOJI = /\p{Extended_Pictographic}|\p{Regional_Indicator}|\u20e3/u;
  var segmenter = new Intl.Segmenter("fr", { granularity: "grapheme" });

  function graphemes(text) {
    var n = 0;
    for (var _ of segmenter.segment(text)) n++; // eslint-disable-line no-unused-vars
    return n;
  }

  function codepoints(text) {
    return Array.from(text).length;
  }

  function reader(root) {
    var ranges = (root.dataset.xRanges || "").split(" ").filter(Boolean).map(function (r) {
      var p = r.split("-").map(Number);
      return { start: p[0], end: p[1], weight: p[2] };
    });
    return {
      scale: Number(root.dataset.xScale || 100),
      defaultWeight: Number(root.dataset.xDefaultWeight || 200),
      xUrlLength: Number(root.dataset.xUrlLength || 23),
      urlLength: Number(root.dataset.urlLength || 23),
      ranges: ranges,
      tlds: new Set((root.dataset.xTlds || "").split(" ")),
    };
  }

  function charWeight(rules, code) {
    for (var i = 0; i < rules.ranges.length; i++) {
      var r = rules.ranges[i];
      if (code >= r.start && code <= r.end) return r.weight;
    }
    return rules.defaultWeight;
  }

  function xUrls(rules, text) {
    var found = [];
    var blanked = text.replace(URL_RE, function (url, offset) {
      found.push([offset, offset + url.length]);
      return " ".repeat(url.length);
    });
    blanked.replace(BARE_DOMAIN, function (match, before, domain, tld, path, offset) {
      if (rules.tlds.has(tld.toLowerCase())) {
        var start = offset + before.length;
        found.push([start, start + domain.length + (path || "").length]);
      }
      return match;
    });
    return found.sort(function (a, b) { return a[0] - b[0]; });
  }

  function xWeight(rules, text) {
    var weight = 0;
    for (var part of segmenter.segment(text)) {
      if (EMOJI.test(part.segment)) {
        weight += rules.defaultWeight;
        continue;
      }
      for (var ch of part.segment) weight += charWeight(rules, ch.codePointAt(0));
    }
    return weight;
  }

  function xLength(rules, raw) {
    var text = raw.normalize("NFC");
    var weight = 0;
    var last = 0;
    xUrls(rules, text).forEach(function (url) {
      weight += xWeight(rules, text.slice(last, url[0])) + rules.xUrlLength * rules.scale;
      last = url[1];
    });
    weight += xWeight(rules, text.slice(last));
    return Math.floor(weight / rules.scale);
  }

  function mastodonLength(rules, text) {
    text = text.replace(REMOTE_MENTION, "$1");
    var urls = text.match(URL_RE) || [];
    return graphemes(text.replace(URL_RE, "")) + rules.urlLength * urls.length;
  }

  function linkedinLength(text) {
    var extra = 0;
    var last = 0;
    for (var m of text.matchAll(LINKEDIN_KEEP)) {
      extra += (text.slice(last, m.index).match(LINKEDIN_RESERVED) || []).length;
      last = m.index + m[0].length;
    }
    extra += (text.slice(last).match(LINKEDIN_RESERVED) || []).length;
    return codepoints(text) + extra;
  }

  function count(rules, counting, text) {
    switch (counting) {
      case "x": return xLength(rules, text);
      case "mastodon": return mastodonLength(rules, text);
      case "graphemes": return graphemes(text);
      case "linkedin": return linkedinLength(text);
      case "codepoints": return codepoints(text);
      default: return null;
    }
  }

  function start() {
    var form = document.getElementById("composer");
    if (!form) return;
    var rules = reader(form);
    window.beffroiCount = function (counting, text) { return count(rules, counting, text); };
    var master = form.querySelector("[data-master]");

    function refresh() {
      form.querySelectorAll("[data-variant]").forEach(function (box) {
        var id = box.dataset.variant;
        var own = box.querySelector("textarea").value;
        var text = own.trim() ? own.trim() : master.value.trim();
        var value = count(rules, box.dataset.counting, text);
        var output = box.querySelector("[data-count]");
        if (output && value !== null) {
          output.textContent = String(value);
          var over = value > Number(box.dataset.limit);
          box.querySelector(".counter").classList.toggle("counter-over", over);
        }
        var preview = form.querySelector('[data-preview="' + id + '"] [data-preview-text]');
        if (preview) preview.textContent = text;
      });
    }

    form.addEventListener("input", function (event) {
      if (event.target.tagName === "TEXTAREA") refresh();
    });
    form.querySelectorAll("[data-target]").forEach(function (box) {
      box.addEventListener("change", function () {
        var id = box.dataset.target;
        var variant = form.querySelector('[data-variant="' + id + '"]');
        var preview = form.querySelector('[data-preview="' + id + '"]');
        if (variant) variant.hidden = !box.checked;
        if (preview) preview.hidden = !box.checked;
      });
    });
    // "Publier maintenant" is for alerts: shown only while an urgent pillar is chosen.
    var urgent = form.querySelector("[data-urgent-pillars]");
    var pillar = form.querySelector("#pillar_id");
    function showUrgent() {
      if (!urgent || !pillar) return;
      urgent.hidden = urgent.dataset.urgentPillars.split(" ").indexOf(pillar.value) === -1;
    }
    if (pillar) pillar.addEventListener("change", showUrgent);
    showUrgent();
    refresh();
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
