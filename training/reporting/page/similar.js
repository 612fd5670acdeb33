/* The "Similar documents" section: the selected topic's example documents and their neighbours,
 * from REPORT.data.similar (training/reporting/similar_section.py). */
(function () {
  "use strict";
  REPORT.register("similar-documents", function (node, data, report) {
    if (!data.similar) return;
    var heading = document.createElement("p");
    var list = document.createElement("ol");
    list.id = "similar-list";
    node.appendChild(heading);
    node.appendChild(list);
    function show(topic) {
      var chosen = topic === null || topic === undefined ? 0 : topic;
      var entry = data.similar.topics[chosen];
      var name = data.topics[chosen] ? data.topics[chosen].name : "";
      heading.textContent = "Topic " + chosen + (name ? " (" + name + ")" : "") +
        ": its documents and the documents most like them. Select a topic above to change.";
      list.textContent = "";
      entry.examples.forEach(function (example) {
        var item = document.createElement("li");
        item.setAttribute("data-document-id", example.id);
        var title = document.createElement("span");
        title.className = "doc-title";
        title.textContent = example.title || example.id;
        item.appendChild(title);
        var alike = document.createElement("ul");
        example.neighbours.forEach(function (neighbour) {
          var line = document.createElement("li");
          line.textContent = (neighbour.title || neighbour.id) + " \u00b7 id " + neighbour.id +
            " \u00b7 distance " + neighbour.distance.toFixed(4);
          alike.appendChild(line);
        });
        item.appendChild(alike);
        list.appendChild(item);
      });
    }
    report.onTopic(show);
    show(report.state.topic);
  });
}());
