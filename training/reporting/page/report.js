/* The topic report's interactive views: plain SVG drawn from the JSON embedded in the page.
 * Part of this project (no third-party code); see docs/design.md, "The topic report".
 *
 * Each element with a data-section attribute is drawn by the renderer registered under that
 * name, from window.REPORT.data. A later section registers itself the same way:
 *   REPORT.register("name", function (node, data, report) { ... });
 * and may follow the selected topic with report.onTopic(function (topic) { ... }).
 */
(function () {
  "use strict";

  var SVG_NS = "http://www.w3.org/2000/svg";
  var data = JSON.parse(document.getElementById("report-data").textContent);
  var topicListeners = [];
  var renderers = {};
  var state = { topic: null };

  // -- small helpers ---------------------------------------------------------------------------

  function element(tag, attributes, parent, text) {
    var node = document.createElement(tag);
    setAttributes(node, attributes);
    if (text !== undefined && text !== null) node.textContent = String(text);
    if (parent) parent.appendChild(node);
    return node;
  }

  function svgElement(tag, attributes, parent, text) {
    var node = document.createElementNS(SVG_NS, tag);
    setAttributes(node, attributes);
    if (text !== undefined && text !== null) node.textContent = String(text);
    if (parent) parent.appendChild(node);
    return node;
  }

  function setAttributes(node, attributes) {
    Object.keys(attributes || {}).forEach(function (name) {
      node.setAttribute(name, attributes[name]);
    });
  }

  function linearScale(values, low, high, padding) {
    var min = Math.min.apply(null, values);
    var max = Math.max.apply(null, values);
    if (!isFinite(min) || !isFinite(max)) { min = 0; max = 1; }
    if (max - min < 1e-12) { min -= 1; max += 1; }
    var pad = (max - min) * (padding || 0);
    min -= pad; max += pad;
    return function (value) { return low + (value - min) / (max - min) * (high - low); };
  }

  function percent(share) { return (100 * share).toFixed(1) + "%"; }

  function format(value, digits) {
    return value === null || value === undefined ? "n/a" : Number(value).toFixed(digits === undefined ? 3 : digits);
  }

  function colour(index) { return data.palette[index % data.palette.length]; }

  function groupColour(group) {
    return data.map.groups[group] === data.others ? data.others_colour : colour(group);
  }

  function topicName(topic) { return "Topic " + topic + ": " + data.topics[topic].name; }

  // -- tooltip ---------------------------------------------------------------------------------

  var tooltip = element("div", { id: "tooltip", "class": "tooltip", role: "tooltip" }, document.body);
  tooltip.hidden = true;

  function showTooltip(event, lines) {
    tooltip.textContent = "";
    lines.forEach(function (line, index) {
      element("div", { "class": index === 0 ? "tooltip-head" : "tooltip-line" }, tooltip, line);
    });
    tooltip.hidden = false;
    var x = event.clientX + 14, y = event.clientY + 14;
    var width = tooltip.offsetWidth, height = tooltip.offsetHeight;
    if (x + width > window.innerWidth - 4) x = Math.max(4, event.clientX - width - 14);
    if (y + height > window.innerHeight - 4) y = Math.max(4, event.clientY - height - 14);
    tooltip.style.left = (x + window.scrollX) + "px";
    tooltip.style.top = (y + window.scrollY) + "px";
  }

  function hideTooltip() { tooltip.hidden = true; }

  // -- documents -------------------------------------------------------------------------------

  var documents = data.documents;

  function documentTitle(position) {
    return documents.title[position] || "(no title in documents.jsonl)";
  }

  function documentLines(position) {
    var lines = [documentTitle(position), "id: " + documents.id[position]];
    if (documents.label) lines.push("label: " + documents.label[position]);
    documents.top_topics[position].forEach(function (topic, rank) {
      lines.push(percent(documents.top_shares[position][rank]) + "  " + topicName(topic));
    });
    return lines;
  }

  // -- topic selection -------------------------------------------------------------------------

  function selectTopic(topic) {
    state.topic = topic;
    topicListeners.forEach(function (listener) { listener(topic); });
  }

  function onTopic(listener) { topicListeners.push(listener); }

  // -- the document map ------------------------------------------------------------------------

  function drawDocumentMap(node) {
    var map = data.map;
    var width = 760, height = 560, margin = 12;
    var figure = element("div", { "class": "map-layout" }, node);
    var svg = svgElement("svg", { id: "document-map", viewBox: "0 0 " + width + " " + height, role: "img",
      "aria-label": "Documents in topic space (t-SNE)" }, figure);
    var x = linearScale(map.x, margin, width - margin, 0.02);
    var y = linearScale(map.y, height - margin, margin, 0.02);
    var points = svgElement("g", { "class": "points" }, svg);
    var circles = map.documents.map(function (position, index) {
      var group = map.group[index];
      return svgElement("circle", {
        "class": "doc-point", cx: x(map.x[index]).toFixed(1), cy: y(map.y[index]).toFixed(1), r: 3.2,
        fill: groupColour(group),
        "data-document": position, "data-group": group
      }, points);
    });
    points.addEventListener("mouseover", function (event) {
      var target = event.target;
      if (!target.classList.contains("doc-point")) return;
      target.classList.add("hovered");
      showTooltip(event, documentLines(Number(target.getAttribute("data-document"))));
    });
    points.addEventListener("mouseout", function (event) {
      event.target.classList.remove("hovered");
      hideTooltip();
    });

    var legend = element("div", { "class": "legend" }, figure);
    element("div", { "class": "legend-title" }, legend, "Colour: " + map.colour_by);
    var counts = map.groups.map(function () { return 0; });
    map.group.forEach(function (group) { counts[group] += 1; });
    var highlighted = null;
    map.groups.forEach(function (name, group) {
      var item = element("button", { type: "button", "class": "legend-item", "data-group": group }, legend);
      var swatch = element("span", { "class": "swatch" }, item);
      swatch.style.background = groupColour(group);
      element("span", {}, item, name + " (" + counts[group] + ")");
      item.addEventListener("click", function () {
        highlighted = highlighted === group ? null : group;
        circles.forEach(function (circle, index) {
          circle.classList.toggle("faded", highlighted !== null && map.group[index] !== highlighted);
        });
      });
    });
    onTopic(function (topic) {
      highlighted = null;
      circles.forEach(function (circle, index) {
        var position = map.documents[index];
        circle.classList.toggle("faded", topic !== null && documents.top_topics[position][0] !== topic);
      });
    });
    var drawn = map.documents.length;
    element("p", { "class": "caption", id: "map-caption" }, node,
      drawn < map.total_documents
        ? drawn + " of " + map.total_documents + " documents drawn (a seeded random sample; at most " +
          data.summary.map_cap + " are drawn). Hover a point to see its document; click a legend entry to pick out a group."
        : "All " + drawn + " documents drawn. Hover a point to see its document; click a legend entry to pick out a group.");
  }

  // -- the intertopic distance map and the topic explorer --------------------------------------

  function drawIntertopicMap(parent) {
    var size = 440, margin = 50;
    var svg = svgElement("svg", { id: "intertopic-map", viewBox: "0 0 " + size + " " + size, role: "img",
      "aria-label": "Intertopic distance map" }, parent);
    var xs = data.topics.map(function (t) { return t.x; });
    var ys = data.topics.map(function (t) { return t.y; });
    var x = linearScale(xs, margin, size - margin, 0.05);
    var y = linearScale(ys, size - margin, margin, 0.05);
    svgElement("line", { x1: size / 2, x2: size / 2, y1: 4, y2: size - 4, "class": "axis" }, svg);
    svgElement("line", { y1: size / 2, y2: size / 2, x1: 4, x2: size - 4, "class": "axis" }, svg);
    svgElement("text", { x: size - 6, y: size / 2 - 6, "class": "axis-label", "text-anchor": "end" }, svg, "PC1");
    svgElement("text", { x: size / 2 + 6, y: 14, "class": "axis-label" }, svg, "PC2");
    var largest = Math.max.apply(null, data.topics.map(function (t) { return t.prevalence; })) || 1;
    var order = data.topics.slice().sort(function (a, b) { return b.prevalence - a.prevalence; });
    var bubbles = {};
    order.forEach(function (topic) {
      var group = svgElement("g", { "class": "topic-bubble", "data-topic": topic.topic, tabindex: 0, role: "button",
        "aria-label": topicName(topic.topic) }, svg);
      svgElement("circle", { cx: x(topic.x).toFixed(1), cy: y(topic.y).toFixed(1),
        r: (6 + 34 * Math.sqrt(topic.prevalence / largest)).toFixed(1), fill: colour(topic.topic) }, group);
      svgElement("text", { x: x(topic.x).toFixed(1), y: (y(topic.y) + 4).toFixed(1), "text-anchor": "middle" }, group, topic.topic);
      group.addEventListener("click", function () { selectTopic(state.topic === topic.topic ? null : topic.topic); });
      group.addEventListener("keydown", function (event) {
        if (event.key === "Enter" || event.key === " ") { event.preventDefault(); selectTopic(topic.topic); }
      });
      group.addEventListener("mouseover", function (event) {
        showTooltip(event, [topicName(topic.topic), percent(topic.prevalence) + " of all topic weight",
          "dominant in " + percent(topic.dominant_share) + " of the documents"]);
      });
      group.addEventListener("mouseout", hideTooltip);
      bubbles[topic.topic] = group;
    });
    onTopic(function (selected) {
      Object.keys(bubbles).forEach(function (topic) {
        bubbles[topic].classList.toggle("selected", Number(topic) === selected);
      });
    });
  }

  function relevantTerms(topic, lambda, count) {
    var ranked = topic.terms.map(function (term, index) {
      var logTopic = topic.log_topic[index], logCorpus = topic.log_corpus[index];
      return { term: term, topic: Math.exp(logTopic), corpus: Math.exp(logCorpus),
        relevance: lambda * logTopic + (1 - lambda) * (logTopic - logCorpus) };
    });
    ranked.sort(function (a, b) { return b.relevance - a.relevance || (a.term < b.term ? -1 : 1); });
    return ranked.slice(0, count);
  }

  function drawWordBars(svg, topic, lambda) {
    var terms = relevantTerms(topic, lambda, 15);
    var row = 20, left = 110, width = 420, top = 22;
    svg.textContent = "";
    svg.setAttribute("viewBox", "0 0 " + (left + width + 60) + " " + (top + row * terms.length + 8));
    var largest = Math.max.apply(null, terms.map(function (t) { return Math.max(t.topic, t.corpus); })) || 1;
    var legend = svgElement("g", {}, svg);
    svgElement("rect", { x: left, y: 4, width: 10, height: 10, fill: colour(topic.topic) }, legend);
    svgElement("text", { x: left + 14, y: 13, "class": "bar-legend" }, legend, "P(word | topic)");
    svgElement("rect", { x: left + 130, y: 4, width: 10, height: 10, "class": "corpus-bar" }, legend);
    svgElement("text", { x: left + 144, y: 13, "class": "bar-legend" }, legend, "P(word) in the corpus");
    terms.forEach(function (term, index) {
      var y = top + index * row;
      var group = svgElement("g", { "class": "word-bar", "data-word": term.term }, svg);
      svgElement("text", { x: left - 6, y: y + 13, "text-anchor": "end" }, group, term.term);
      svgElement("rect", { x: left, y: y + 2, height: 14, width: Math.max(1, width * term.topic / largest).toFixed(1),
        fill: colour(topic.topic) }, group);
      svgElement("rect", { x: left, y: y + 7, height: 4, width: Math.max(1, width * term.corpus / largest).toFixed(1),
        "class": "corpus-bar" }, group);
      svgElement("text", { x: left + width * term.topic / largest + 4, y: y + 13, "class": "bar-value" }, group,
        (100 * term.topic).toFixed(2) + "%");
      group.addEventListener("mouseover", function (event) {
        showTooltip(event, [term.term, "P(word | topic) " + (100 * term.topic).toFixed(3) + "%",
          "P(word) in the corpus " + (100 * term.corpus).toFixed(3) + "%",
          "lift " + (term.topic / term.corpus).toFixed(2) + ", relevance " + term.relevance.toFixed(3)]);
      });
      group.addEventListener("mouseout", hideTooltip);
    });
  }

  function drawTopicExplorer(node) {
    var layout = element("div", { "class": "explorer" }, node);
    var left = element("div", { "class": "explorer-map" }, layout);
    drawIntertopicMap(left);
    element("p", { "class": "caption" }, left,
      "Topics placed by the Jensen-Shannon divergence between their word distributions (principal coordinates), " +
      "area by prevalence. Click a topic to explore it.");

    var right = element("div", { "class": "explorer-topic" }, layout);
    var controls = element("div", { "class": "controls" }, right);
    var chooserLabel = element("label", {}, controls, "Topic ");
    var chooser = element("select", { id: "topic-select" }, chooserLabel);
    element("option", { value: "" }, chooser, "(none selected)");
    data.topics.forEach(function (topic) {
      element("option", { value: topic.topic }, chooser, topicName(topic.topic));
    });
    var lambdaLabel = element("label", {}, controls, "\u03bb ");
    var lambdas = data.relevance_lambdas;
    var slider = element("input", { id: "lambda", type: "range", min: 0, max: lambdas.length - 1, step: 1,
      value: lambdas.indexOf(0.6) }, lambdaLabel);
    var lambdaValue = element("output", { id: "lambda-value" }, lambdaLabel, "0.6");
    element("p", { "class": "caption" }, right,
      "Relevance (Sievert and Shirley, 2014) = \u03bb log P(word | topic) + (1 \u2212 \u03bb) log(P(word | topic) / P(word)): " +
      "\u03bb = 1 ranks by the topic's own probability, lower values favour words specific to the topic " +
      "(the authors' user study found \u03bb \u2248 0.6 most helpful).");
    var heading = element("h3", { id: "topic-heading" }, right, "Select a topic on the map or in the list");
    var bars = svgElement("svg", { id: "topic-words", role: "img", "aria-label": "Words of the selected topic" }, right);
    element("h4", {}, right, "Most representative documents (largest share of the topic)");
    var list = element("ol", { id: "topic-documents", "class": "documents" }, right);

    function lambda() { return lambdas[Number(slider.value)]; }

    function show(topic) {
      chooser.value = topic === null ? "" : String(topic);
      lambdaValue.textContent = lambda().toFixed(1);
      list.textContent = "";
      bars.textContent = "";
      if (topic === null) {
        heading.textContent = "Select a topic on the map or in the list";
        return;
      }
      var current = data.topics[topic];
      heading.textContent = topicName(topic) + " \u2014 " + percent(current.prevalence) + " of all topic weight, NPMI " +
        format(current.coherence) + ", uniqueness " + format(current.uniqueness);
      drawWordBars(bars, current, lambda());
      current.documents.forEach(function (position, rank) {
        var item = element("li", { "data-document": position }, list);
        element("span", { "class": "doc-title" }, item, documentTitle(position));
        element("span", { "class": "doc-meta" }, item, " " + percent(current.document_shares[rank]) + " \u00b7 id " +
          documents.id[position] + (documents.label ? " \u00b7 " + documents.label[position] : ""));
      });
    }

    chooser.addEventListener("change", function () {
      selectTopic(chooser.value === "" ? null : Number(chooser.value));
    });
    slider.addEventListener("input", function () { show(state.topic); });
    onTopic(show);
    show(null);
  }

  // -- the sweep's comparison ------------------------------------------------------------------

  function drawComparison(node) {
    var comparison = data.comparison;
    if (!comparison) return;
    var trained = comparison.candidates.filter(function (c) { return c.trained; });
    var ks = comparison.candidates.map(function (c) { return c.num_topics; });
    var width = 460, height = 150, left = 60, right = 20, top = 26, bottom = 26;
    var x = linearScale(ks, left, width - right, 0.08);
    comparison.measures.forEach(function (measure) {
      var points = trained.filter(function (c) { return c[measure.key] !== null && c[measure.key] !== undefined; });
      var svg = svgElement("svg", { "class": "comparison-chart", "data-measure": measure.key,
        viewBox: "0 0 " + width + " " + height, role: "img", "aria-label": measure.label }, node);
      svgElement("text", { x: left, y: 14, "class": "chart-title" }, svg,
        measure.label + " (" + (measure.higher_is_better ? "higher" : "lower") + " is better)");
      svgElement("line", { x1: x(comparison.chosen), x2: x(comparison.chosen), y1: top - 4, y2: height - bottom,
        "class": "chosen-line" }, svg);
      svgElement("line", { x1: left, x2: width - right, y1: height - bottom, y2: height - bottom, "class": "axis" }, svg);
      comparison.candidates.forEach(function (c) {
        svgElement("text", { x: x(c.num_topics), y: height - 8, "text-anchor": "middle", "class": "tick" }, svg,
          c.trained ? c.num_topics : c.num_topics + " (" + c.status.toLowerCase() + ")");
      });
      if (!points.length) {
        svgElement("text", { x: (left + width) / 2, y: height / 2, "text-anchor": "middle", "class": "tick" }, svg, "not reported");
        return;
      }
      var values = points.map(function (c) { return c[measure.key]; });
      var y = linearScale(values, height - bottom - 8, top + 4, 0.1);
      [Math.min.apply(null, values), Math.max.apply(null, values)].forEach(function (value) {
        svgElement("text", { x: left - 6, y: y(value) + 4, "text-anchor": "end", "class": "tick" }, svg, format(value));
      });
      svgElement("polyline", { "class": "measure-line", points: points.map(function (c) {
        return x(c.num_topics).toFixed(1) + "," + y(c[measure.key]).toFixed(1);
      }).join(" ") }, svg);
      points.forEach(function (c) {
        var point = svgElement("circle", { "class": "measure-point" + (c.num_topics === comparison.chosen ? " chosen" : ""),
          cx: x(c.num_topics).toFixed(1), cy: y(c[measure.key]).toFixed(1), r: 5, "data-num-topics": c.num_topics }, svg);
        point.addEventListener("mouseover", function (event) {
          showTooltip(event, [c.num_topics + " topics" + (c.num_topics === comparison.chosen ? " (chosen)" : ""),
            "validation loss " + format(c.validation_loss), "coherence " + format(c.coherence),
            "uniqueness " + format(c.uniqueness), "combined score " + format(c.combined_score),
            "rank " + (c.rank === null ? "n/a" : c.rank)]);
        });
        point.addEventListener("mouseout", hideTooltip);
      });
    });
    element("p", { "class": "caption" }, node, "Dashed: the chosen number of topics. Hover a point for all its measures.");
  }

  // -- sections --------------------------------------------------------------------------------

  function register(name, renderer) {
    renderers[name] = renderer;
    document.querySelectorAll('[data-section="' + name + '"]').forEach(function (node) {
      renderer(node, data, window.REPORT);
    });
  }

  window.REPORT = { data: data, register: register, onTopic: onTopic, selectTopic: selectTopic,
    showTooltip: showTooltip, hideTooltip: hideTooltip, documentLines: documentLines, state: state };
  register("document-map", drawDocumentMap);
  register("topic-explorer", drawTopicExplorer);
  register("comparison-chart", drawComparison);
}());
