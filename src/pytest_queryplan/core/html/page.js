// Draws every plan tree of the page as inline SVG: one box per node, an elbow edge from
// parent to child, subtrees that open and close, the container scrolls (or drag it to pan).
(function () {
  "use strict";
  var SVG = "http://www.w3.org/2000/svg";
  var CHAR = 7.3, LINE = 16, PAD = 7, INDENT = 30, GAP = 10, WRAP = 96, MARGIN = 14;
  // A plan this big opens with its unmarked subtrees closed.
  var COLLAPSE_OVER = 20;
  var source = document.getElementById("queryplan-trees");
  var trees = source ? JSON.parse(source.textContent) : {};

  function el(name, attrs, parent) {
    var node = document.createElementNS(SVG, name);
    for (var key in attrs) node.setAttribute(key, attrs[key]);
    if (parent) parent.appendChild(node);
    return node;
  }

  function wrap(text, width) {
    var out = [];
    while (text.length > width) {
      var cut = text.lastIndexOf(" ", width);
      if (cut < width / 2) cut = width;
      out.push(text.slice(0, cut));
      text = "  " + text.slice(cut).replace(/^ /, "");
    }
    out.push(text);
    return out;
  }

  function fmt(n) { return typeof n === "number" ? n.toLocaleString("en") : String(n); }

  // The lines a node's box shows, from the node's fields: type, relation, index,
  // conditions, estimates, actual rows, the mark and the named index.
  function lines(n) {
    var out = [];
    if (n.subplan) out.push(["sub", n.subplan]);
    out.push(["head", n.type || n.label]);
    if (n.relation) out.push(["", "on " + n.relation + (n.alias && n.alias !== n.relation ? " " + n.alias : "")]);
    if (n.index) out.push(["", "index " + n.index]);
    (n.conditions || []).forEach(function (c) {
      wrap(c[0] + ": " + c[1], WRAP).forEach(function (l) { out.push(["cond", l]); });
    });
    var est = [];
    if (n.rows !== undefined) est.push("rows " + fmt(n.rows));
    if (n.cost !== undefined) est.push("cost " + fmt(n.cost));
    if (n.actual_rows !== undefined) est.push("actual rows " + fmt(n.actual_rows) + (n.loops !== undefined ? " \u00d7 " + fmt(n.loops) + " loops" : ""));
    if (est.length) out.push(["est", est.join(" \u00b7 ")]);
    if (n.named) out.push(["named", "\u2605 the index the check names"]);
    if (n.mark) wrap("\u26a0 " + n.mark, WRAP).forEach(function (l) { out.push(["mark", l]); });
    if (n.change) out.push(["mark", "\u2260 not on the other side"]);
    if (n.cut) out.push(["cut", "\u2026 " + n.cut + " more children not kept in the report"]);
    return out;
  }

  function prepare(node, parent, depth, info) {
    node._parent = parent;
    node._depth = depth;
    node._size = 1;
    node._hot = !!(node.mark || node.change);
    info.count += 1;
    (node.children || []).forEach(function (child) {
      prepare(child, node, depth + 1, info);
      node._size += child._size;
      node._hot = node._hot || child._hot;
    });
  }

  function setCollapsed(node, closeCold) {
    node._collapsed = !!(closeCold && node.children && node._depth > 0 && !node._hot);
    (node.children || []).forEach(function (c) { setCollapsed(c, closeCold); });
  }

  function draw(holder, entry) {
    var root = entry.tree;
    var svg = holder.querySelector("svg");
    if (svg) svg.remove();
    svg = el("svg", { role: "img" }, holder);
    var edges = el("g", { "class": "edges" }, svg);
    var nodes = el("g", { "class": "nodes" }, svg);
    var y = MARGIN, width = 0, placed = [];
    (function place(node) {
      var body = lines(node);
      if (node._collapsed) body.push(["hidden", "\u25b8 " + (node._size - 1) + " nodes below, closed"]);
      var w = Math.max.apply(null, body.map(function (l) { return l[1].length; })) * CHAR + 2 * PAD;
      var h = body.length * LINE + PAD * 2 - 4;
      var x = MARGIN + node._depth * INDENT;
      node._box = { x: x, y: y, w: w, h: h, lines: body };
      placed.push(node);
      y += h + GAP;
      width = Math.max(width, x + w);
      if (!node._collapsed) (node.children || []).forEach(place);
    })(root);
    placed.forEach(function (node) {
      var b = node._box, p = node._parent;
      if (p) {
        var px = p._box.x + 12, py = p._box.y + p._box.h, cy = b.y + 13;
        el("path", { "class": "edge", d: "M" + px + " " + py + " V" + cy + " H" + b.x }, edges);
      }
      var cls = "node" + (node.mark ? " marked" : "") + (node.named ? " named" : "") + (node.change ? " changed" : "");
      var g = el("g", { "class": cls, transform: "translate(" + b.x + "," + b.y + ")" }, nodes);
      if (node.mark) g.setAttribute("data-mark", node.mark);
      el("rect", { "class": "box", width: b.w, height: b.h, rx: 4 }, g);
      b.lines.forEach(function (line, i) {
        var t = el("text", { x: PAD, y: PAD + 11 + i * LINE, "class": line[0] }, g);
        t.textContent = line[1];
      });
      var title = el("title", {}, g);
      title.textContent = node.label || node.type || "";
      if (node.children && node.children.length) {
        var toggle = el("g", { "class": "toggle", transform: "translate(12," + b.h + ")", tabindex: 0, role: "button" }, g);
        toggle.setAttribute("aria-label", node._collapsed ? "open subtree" : "close subtree");
        toggle.setAttribute("aria-expanded", node._collapsed ? "false" : "true");
        el("circle", { r: 7 }, toggle);
        var sign = el("text", { x: -3.6, y: 4 }, toggle);
        sign.textContent = node._collapsed ? "+" : "\u2212";
        var flip = function (event) {
          event.stopPropagation();
          node._collapsed = !node._collapsed;
          draw(holder, entry);
        };
        toggle.addEventListener("click", flip);
        toggle.addEventListener("keydown", function (e) { if (e.key === "Enter" || e.key === " ") flip(e); });
      }
    });
    svg.setAttribute("width", width + MARGIN);
    svg.setAttribute("height", y + MARGIN);
  }

  function tools(holder, entry) {
    var bar = document.createElement("div");
    bar.className = "tools";
    [["open all", false], ["close unmarked", true]].forEach(function (spec) {
      var button = document.createElement("button");
      button.type = "button";
      button.textContent = spec[0];
      button.addEventListener("click", function () { setCollapsed(entry.tree, spec[1]); draw(holder, entry); });
      bar.appendChild(button);
    });
    holder.appendChild(bar);
  }

  function pan(holder) {
    var start = null;
    holder.addEventListener("mousedown", function (e) {
      if (e.button !== 0 || (e.target.closest && e.target.closest(".toggle, button"))) return;
      start = { x: e.clientX, y: e.clientY, left: holder.scrollLeft, top: holder.scrollTop };
      holder.classList.add("dragging");
    });
    window.addEventListener("mousemove", function (e) {
      if (!start) return;
      holder.scrollLeft = start.left - (e.clientX - start.x);
      holder.scrollTop = start.top - (e.clientY - start.y);
    });
    window.addEventListener("mouseup", function () { start = null; holder.classList.remove("dragging"); });
  }

  Array.prototype.forEach.call(document.querySelectorAll(".tree[data-tree]"), function (holder) {
    var entry = trees[holder.getAttribute("data-tree")];
    if (!entry) return;
    var info = { count: 0 };
    prepare(entry.tree, null, 0, info);
    setCollapsed(entry.tree, info.count > COLLAPSE_OVER);
    tools(holder, entry);
    pan(holder);
    draw(holder, entry);
    var hot = holder.querySelector(".node.marked, .node.changed");
    if (hot) {
      var box = hot.getBBox ? hot.transform.baseVal.consolidate().matrix : null;
      if (box) holder.scrollTop = Math.max(0, box.f - 60);
    }
  });
})();
