"use strict";
// The truthstab leaderboard page. Every piece of data reaches the DOM through textContent or a
// validated attribute, never through innerHTML: model names and report cards are untrusted text.
(function () {
  const DATA = JSON.parse(document.getElementById("lb-data").textContent);
  const $ = (id) => document.getElementById(id);
  const state = { board: 0, domain: "all", kind: "all", size: "all", search: "", sort: "rank_group", dir: 1 };
  const SCORE_KEYS = ["truth_stability", "unfamiliar_stability", "familiar_stability",
    "familiarity_gap", "refit_null", "baseline_ap", "behavioural_stability", "outside_mass"];
  const BEHAVIOUR_KEYS = ["behavioural_stability", "outside_mass"];
  const SIZE = { lt1: [0, 1e9], "1to10": [1e9, 1e10], gt10: [1e10, Infinity] };

  function el(tag, text, cls) {
    const node = document.createElement(tag);
    if (text !== undefined && text !== null) node.textContent = String(text);
    if (cls) node.className = cls;
    return node;
  }

  function fmtNum(v, key) {
    const digits = DATA.digits[key] !== undefined ? DATA.digits[key] : 1;
    const s = v.toFixed(digits);
    return DATA.signed.includes(key) && v > 0 ? "+" + s : s;
  }

  function fmtParams(n) {
    if (!n || n <= 0) return "—";
    if (n >= 1e9) return (n / 1e9).toFixed(1) + "B";
    if (n >= 1e8) return (n / 1e6).toFixed(0) + "M";
    if (n >= 1e6) return (n / 1e6).toFixed(1) + "M";
    return (n / 1e3).toFixed(0) + "k";
  }

  const STABILITY_KEYS = ["truth_stability", "unfamiliar_stability", "familiar_stability", "familiarity_gap"];

  // ctx: { measurable, reasons, chance } of the row or domain shown. A stability score that cannot be
  // measured says so (with the reasons on hover) instead of a dash that could pass for a bad score.
  function scoreCell(score, key, ctx) {
    const td = el("td", null, "num");
    if (ctx && ctx.behaviourNote && BEHAVIOUR_KEYS.includes(key)) {
      td.appendChild(el("span", ctx.encoder ? "none (encoder)" : "not run", "nm"));
      td.title = ctx.behaviourNote;
      return td;
    }
    if (ctx && !ctx.behaviourMeasurable && key === "behavioural_stability") {
      td.appendChild(el("span", "not measurable", "nm"));
      td.title = ctx.behaviourReasons || "no domain's answers are measurable for this model";
      return td;
    }
    if (ctx && !ctx.measurable && STABILITY_KEYS.includes(key)) {
      td.appendChild(el("span", "not measurable", "nm"));
      td.title = ctx.reasons || "no domain of this model is measurable";
      return td;
    }
    if (!score || score.value === null) { td.textContent = "—"; return td; }
    td.appendChild(el("span", fmtNum(score.value, key)));
    if (score.ci_low !== null && score.ci_high !== null) {
      td.appendChild(el("span", "[" + fmtNum(score.ci_low, key).replace("+", "") + ", "
        + fmtNum(score.ci_high, key).replace("+", "") + "]", "ci"));
    }
    if (key === "baseline_ap" && ctx && ctx.chance !== null && ctx.chance !== undefined) {
      td.appendChild(el("span", "chance " + ctx.chance.toFixed(3), "chance"));
    }
    return td;
  }

  function rowContext(row) {
    const reasons = Object.entries(row.domains).filter(([, d]) => !d.measurable)
      .map(([name, d]) => name + ": " + d.not_measurable.join("; ")).join("\n");
    const behaviourReasons = Object.entries(row.domains).filter(([, d]) => d.behavioural_measurable === false)
      .map(([name, d]) => name + ": " + d.behavioural_not_measurable.join("; ")).join("\n");
    return { measurable: row.measurable_domains.length > 0, reasons: reasons, chance: row.chance_ap,
      behaviourMeasurable: row.behavioural_measurable_domains.length > 0, behaviourReasons: behaviourReasons,
      behaviourNote: row.behavioural_note, encoder: row.model_kind === "encoder" };
  }

  function domainContext(entry, row) {
    return { measurable: entry.measurable, reasons: entry.not_measurable.join("; "), chance: entry.chance_ap,
      behaviourMeasurable: entry.behavioural_measurable === true,
      behaviourReasons: entry.behavioural_not_measurable.join("; "),
      behaviourNote: row.behavioural_note, encoder: row.model_kind === "encoder" };
  }

  function board() { return DATA.boards[state.board]; }

  // The scores and rank group a row shows under the current domain filter.
  function view(row) {
    if (state.domain === "all") return { rank: row.rank_group, scores: row.scores, layers: row.layers };
    const d = row.domains[state.domain];
    const layers = {};
    if (row.layers[state.domain] !== undefined) layers[state.domain] = row.layers[state.domain];
    return d ? { rank: d.rank_group, scores: d.scores, layers: layers } : null;
  }

  function sortValue(row, key) {
    const v = view(row);
    if (key === "rank_group") return v.rank === null ? null : v.rank;
    if (SCORE_KEYS.includes(key)) return v.scores[key] ? v.scores[key].value : null;
    if (key === "model") return row.model_id.toLowerCase();
    if (key === "revision") return row.revision_sha;
    if (key === "n_parameters") return row.n_parameters;
    if (key === "date") return row.created_at;
    if (key === "layers") return Object.values(v.layers).join(",");
    if (key === "dataset") return board().dataset_version;
    if (key === "harness") return row.harness_version;
    return row[key] === undefined ? null : row[key];
  }

  function visibleRows() {
    const b = board();
    const q = state.search.trim().toLowerCase();
    const rows = b.rows.filter((r) => {
      if (state.domain !== "all" && !r.domains[state.domain]) return false;
      if (state.kind !== "all" && r.model_kind !== state.kind) return false;
      if (state.size !== "all") {
        const [lo, hi] = SIZE[state.size];
        if (!(r.n_parameters >= lo && r.n_parameters < hi)) return false;
      }
      if (q && !(r.model_id.toLowerCase().includes(q) || (r.model_alias || "").toLowerCase().includes(q))) {
        return false;
      }
      return true;
    });
    const key = state.sort;
    rows.sort((a, b2) => {
      const x = sortValue(a, key);
      const y = sortValue(b2, key);
      if (x === null && y === null) return 0;
      if (x === null) return 1;   // undefined values last, whatever the direction
      if (y === null) return -1;
      if (x < y) return -state.dir;
      if (x > y) return state.dir;
      // Within a rank group (or any tie), the higher truth stability first, then the name.
      const tx = sortValue(a, "truth_stability");
      const ty = sortValue(b2, "truth_stability");
      if (tx !== ty) return (ty === null ? -Infinity : ty) - (tx === null ? -Infinity : tx);
      return a.model_id < b2.model_id ? -1 : 1;
    });
    return rows;
  }

  function renderHead() {
    const tr = $("head");
    tr.replaceChildren();
    for (const col of DATA.columns) {
      const th = el("th", null, "c-" + col.key);
      th.title = col.help;
      th.dataset.key = col.key;
      const btn = el("button", col.label);
      btn.type = "button";
      btn.addEventListener("click", () => setSort(col.key));
      th.appendChild(btn);
      if (state.sort === col.key) th.setAttribute("aria-sort", state.dir > 0 ? "ascending" : "descending");
      tr.appendChild(th);
    }
  }

  // Scores sort best first; names, ranks and dates in their natural order.
  function setSort(key, toggle = true) {
    if (state.sort === key && toggle) state.dir = -state.dir;
    else {
      state.sort = key;
      state.dir = (SCORE_KEYS.includes(key) && key !== "refit_null") || key === "n_parameters" || key === "date" ? -1 : 1;
    }
    $("sort").value = key;
    render();
  }

  // A model id as text with a line-break opportunity after each "/", so "org/name" wraps between its
  // parts instead of mid-word (text nodes and <wbr> only: the id is untrusted).
  function nameNode(tag, id) {
    const node = el(tag);
    id.split("/").forEach((part, i, parts) => {
      node.appendChild(document.createTextNode(part + (i < parts.length - 1 ? "/" : "")));
      if (i < parts.length - 1) node.appendChild(document.createElement("wbr"));
    });
    return node;
  }

  function modelCell(row) {
    const td = el("td", null, "model");
    if (row.hub_url && /^https:\/\/huggingface\.co\/[A-Za-z0-9._\/-]+$/.test(row.hub_url)) {
      const a = nameNode("a", row.model_id);
      a.href = row.hub_url;
      a.target = "_blank";
      a.rel = "noopener noreferrer";
      td.appendChild(a);
    } else {
      td.appendChild(nameNode("span", row.model_id));
    }
    if (row.warnings.length) {
      const w = el("span", "⚠", "warn");
      w.title = row.warnings.join("\n");
      w.setAttribute("aria-label", "warnings: " + row.warnings.join("; "));
      td.appendChild(w);
    }
    const btn = el("button", "details", "open");
    btn.type = "button";
    btn.addEventListener("click", () => openDetail(row));
    td.appendChild(btn);
    return td;
  }

  function renderRows() {
    const b = board();
    const rows = visibleRows();
    const body = $("rows");
    body.replaceChildren();
    for (const row of rows) {
      const v = view(row);
      const tr = el("tr");
      if (v.rank === 1) tr.className = "group1";
      tr.dataset.model = row.model_id;
      const cells = [el("td", v.rank === null ? "—" : v.rank, "num"), modelCell(row)];
      const rev = el("td", row.revision_short, "mono");
      rev.title = row.revision_sha;
      const p = el("td", fmtParams(row.n_parameters), "num");
      p.title = String(row.n_parameters);
      cells.push(rev, p, el("td", row.dtype), el("td", row.model_kind));
      const ctx = state.domain === "all" ? rowContext(row) : domainContext(row.domains[state.domain], row);
      for (const key of SCORE_KEYS) cells.push(scoreCell(v.scores[key], key, ctx));
      const layers = el("td", null, "layers");
      for (const [d, n] of Object.entries(v.layers)) layers.appendChild(el("span", d + " " + n));
      if (!layers.firstChild) layers.textContent = "—";
      const h = el("td", row.harness_version);
      if (row.harness_git_hash) h.title = row.harness_git_hash + (row.harness_git_dirty ? " (dirty)" : "");
      cells.push(layers, el("td", b.dataset_name + " " + b.dataset_version), h, el("td", row.created_at.slice(0, 10)));
      // Labels for the phone layout, where each row becomes a card (CSS shows them with attr()).
      cells.forEach((td, i) => {
        td.dataset.label = DATA.columns[i].label;
        td.classList.add("c-" + DATA.columns[i].key);
        tr.appendChild(td);
      });
      body.appendChild(tr);
    }
    $("empty").hidden = rows.length > 0;
    $("count").textContent = rows.length + " of " + b.rows.length + " models"
      + (state.domain === "all" ? ", scores averaged over domains" : ", scores of the " + state.domain + " domain");
  }

  function renderBoardInfo() {
    const b = board();
    const parts = ["Dataset " + b.dataset_name + " " + b.dataset_version + " (sha256 "
      + b.dataset_sha256.map((s) => s.slice(0, 12)).join(", ") + ")",
      "protocol " + b.protocol_mode, "harness " + b.harness_versions.join(", "),
      "rank groups by " + b.tie_method];
    $("board-info").textContent = parts.join(" · ") + (b.notes.length ? " · " + b.notes.join(" ") : "");
    // A quick run's board says so where the eye lands, not only in the small print.
    $("smoke").hidden = !b.smoke_test;
    $("smoke").textContent = b.smoke_test ? "Smoke test: these runs scored a sample of the release, so "
      + "their intervals are wider than a full run's. Use the full-release board to compare models." : "";
  }

  function fillDomains() {
    const sel = $("domain");
    sel.replaceChildren();
    const all = el("option", "all (average)");
    all.value = "all";
    sel.appendChild(all);
    for (const d of board().domains) {
      const o = el("option", d);
      o.value = d;
      sel.appendChild(o);
    }
    if (state.domain !== "all" && !board().domains.includes(state.domain)) state.domain = "all";
    sel.value = state.domain;
  }

  function render() {
    renderHead();
    renderRows();
    updateScrollCue();
  }

  // When the table is wider than its frame, say so: a visible hint and a fading edge, until the reader
  // has scrolled to the last column.
  function updateScrollCue() {
    const wrap = document.querySelector(".table-wrap");
    const more = wrap.scrollWidth - wrap.clientWidth - wrap.scrollLeft > 1;
    wrap.classList.toggle("more-right", more);
    $("scroll-hint").hidden = !more;
  }

  // ------------------------------------------------------------------------------------ detail view

  function metaList(pairs) {
    const dl = el("dl", null, "meta");
    for (const [k, v] of pairs) {
      if (v === null || v === undefined || v === "") continue;
      dl.appendChild(el("dt", k));
      dl.appendChild(el("dd", v));
    }
    return dl;
  }

  function domainTable(row) {
    const wrap = el("div", null, "small-table");
    const t = el("table");
    const head = el("tr");
    for (const h of ["Domain", "Rank", "Layer"].concat(
      DATA.columns.filter((c) => SCORE_KEYS.includes(c.key)).map((c) => c.label))) head.appendChild(el("th", h));
    t.appendChild(el("thead")).appendChild(head);
    const body = el("tbody");
    for (const [d, entry] of Object.entries(row.domains)) {
      const tr = el("tr");
      tr.appendChild(el("td", d));
      tr.appendChild(el("td", entry.rank_group === null ? "—" : entry.rank_group, "num"));
      tr.appendChild(el("td", row.layers[d] === undefined ? "—" : row.layers[d], "num"));
      for (const key of SCORE_KEYS) tr.appendChild(scoreCell(entry.scores[key], key, domainContext(entry, row)));
      body.appendChild(tr);
    }
    t.appendChild(body);
    wrap.appendChild(t);
    return wrap;
  }

  // The model's other runs on this board (another dtype or revision): listed, never ranked.
  function alternativesTable(row) {
    const wrap = el("div", null, "small-table alternatives");
    wrap.appendChild(el("h3", "Other runs of this model (not ranked; the row shows the best-provenance run)"));
    const t = el("table");
    const head = el("tr");
    for (const h of ["dtype", "Revision", "Truth stability", "Scored", "Result file"]) head.appendChild(el("th", h));
    t.appendChild(el("thead")).appendChild(head);
    const body = el("tbody");
    for (const a of row.alternatives) {
      const tr = el("tr");
      tr.appendChild(el("td", a.dtype));
      tr.appendChild(el("td", a.revision_sha.slice(0, 8), "mono"));
      tr.appendChild(scoreCell(a.truth_stability, "truth_stability"));
      tr.appendChild(el("td", a.created_at.slice(0, 10)));
      tr.appendChild(el("td", a.source));
      body.appendChild(tr);
    }
    t.appendChild(body);
    wrap.appendChild(t);
    return wrap;
  }

  // Figure paths come from the build as figures/<board>/<model>/<sha>/<dtype>/<file>.png, every part
  // made of safe characters; anything else is refused.
  const FIGURE = /^figures(\/[A-Za-z0-9_-][A-Za-z0-9._-]*){4}\/[A-Za-z0-9_-][A-Za-z0-9._-]*\.png$/;
  // What each figure of a scored run shows (the build puts the first two first).
  const CAPTIONS = {
    "flip_rates.png": "Flip rates: retraction and expansion rates (95 % CI) of the primary probe under each perturbation, per domain",
    "layer_sweep.png": "Layer sweep: the baseline probe's calibration-split average precision at each layer, chosen layer marked",
    "boundary_cosine.png": "Boundary rotation: cosine between the baseline and each perturbed probe's direction",
    "kind_wasserstein.png": "Geometry: sliced-Wasserstein distances between the statement kinds' activations, per domain",
  };

  function openDetail(row) {
    const b = board();
    $("detail-title").textContent = row.model_id;
    const body = $("detail-body");
    body.replaceChildren();
    body.appendChild(metaList([
      ["Rank group", row.rank_group === null ? "—" : String(row.rank_group)],
      ["Alias", row.model_alias],
      ["Revision", row.revision_sha],
      ["Parameters", fmtParams(row.n_parameters) + " (" + row.n_parameters + ")"],
      ["dtype", row.dtype],
      ["Type", row.model_kind],
      ["Architecture", row.architecture],
      ["Weights", row.quantization_note],
      ["Primary probe", row.primary_probe],
      ["Dataset", b.dataset_name + " " + b.dataset_version + " (sha256 " + row.dataset_sha256 + ")"],
      ["Protocol", b.protocol_mode + ", seed " + row.seed],
      ["Harness", row.harness_version + (row.harness_git_hash ? " @ " + row.harness_git_hash : "")
        + (row.harness_git_dirty ? " (dirty)" : "")],
      ["Scored", row.created_at],
      ["Result file", row.source],
    ]));
    if (row.warnings.length) {
      body.appendChild(el("h3", "Warnings"));
      const ul = el("ul", null, "warnings");
      for (const w of row.warnings) ul.appendChild(el("li", w));
      body.appendChild(ul);
    }
    body.appendChild(el("h3", "Scores by domain"));
    body.appendChild(domainTable(row));
    if (row.alternatives.length) body.appendChild(alternativesTable(row));
    const figs = row.figures.filter((f) => FIGURE.test(f));
    if (figs.length) {
      body.appendChild(el("h3", "Figures"));
      const grid = el("div", null, "figs");
      for (const f of figs) {
        const fig = el("figure");
        const a = el("a");
        a.href = f;
        a.target = "_blank";
        a.rel = "noopener";
        const img = el("img");
        img.src = f;
        img.alt = CAPTIONS[f.split("/").pop()] || f.split("/").pop();
        img.loading = "lazy";
        a.appendChild(img);
        fig.appendChild(a);
        const name = f.split("/").pop();
        if (name === "flip_rates.png" || name === "layer_sweep.png") fig.className = "wide";
        fig.appendChild(el("figcaption", CAPTIONS[name] || name));
        grid.appendChild(fig);
      }
      body.appendChild(grid);
    }
    body.appendChild(el("h3", "Report card"));
    // The report card is the text `truthstab score` printed (aligned tables): shown as it is, as text.
    body.appendChild(row.report_card ? el("pre", row.report_card, "card")
      : el("p", "No report card was found beside the result file."));
    const dlg = $("detail");
    if (typeof dlg.showModal === "function") dlg.showModal(); else dlg.setAttribute("open", "");
    dlg.scrollTop = 0;
  }

  function closeDetail() {
    const dlg = $("detail");
    if (typeof dlg.close === "function") dlg.close(); else dlg.removeAttribute("open");
  }

  // --------------------------------------------------------------------------------------- start up

  function subsetLabel(x) {
    if (/^max\d+$/.test(x)) return "max " + x.slice(3) + "/kind";
    if (/^frac[0-9.]+$/.test(x)) return String(Math.round(parseFloat(x.slice(4)) * 1000) / 10) + " % sample";
    return "domains " + x;
  }

  function init() {
    const sel = $("board");
    DATA.boards.forEach((b, i) => {
      // Short enough to read in a phone's selector; the model count is in the line under the table.
      const parts = b.subset.map(subsetLabel).join(", ");
      const o = el("option", b.dataset_name + " " + b.dataset_version + " · " + b.protocol_mode
        + (b.smoke_test ? " · smoke test" : "") + (parts ? " (" + parts + ")" : ""));
      o.value = String(i);
      sel.appendChild(o);
    });
    sel.addEventListener("change", () => {
      state.board = Number(sel.value);
      fillDomains();
      renderBoardInfo();
      render();
    });
    $("domain").addEventListener("change", (e) => { state.domain = e.target.value; render(); });
    $("kind").addEventListener("change", (e) => { state.kind = e.target.value; render(); });
    $("size").addEventListener("change", (e) => { state.size = e.target.value; render(); });
    $("search").addEventListener("input", (e) => { state.search = e.target.value; render(); });
    const sortSel = $("sort");
    for (const col of DATA.columns) {
      const o = el("option", col.label);
      o.value = col.key;
      sortSel.appendChild(o);
    }
    sortSel.value = state.sort;
    sortSel.addEventListener("change", (e) => setSort(e.target.value, false));
    document.querySelector(".table-wrap").addEventListener("scroll", updateScrollCue, { passive: true });
    window.addEventListener("resize", updateScrollCue);
    $("detail-close").addEventListener("click", closeDetail);
    $("detail").addEventListener("click", (e) => { if (e.target === $("detail")) closeDetail(); });
    const legend = $("legend");
    for (const col of DATA.columns) {
      legend.appendChild(el("dt", col.label));
      legend.appendChild(el("dd", col.help));
    }
    $("footer").textContent = "Built from results up to " + (DATA.built_from || "—") + " · leaderboard format "
      + DATA.format_version + (DATA.n_skipped ? " · " + DATA.n_skipped + " result file(s) not ranked: malformed, or not scored on a known release (reasons in leaderboard.json)" : "");
    if (!DATA.boards.length) {
      $("board-info").textContent = "No scored models yet.";
      $("empty").hidden = false;
      return;
    }
    fillDomains();
    renderBoardInfo();
    render();
  }

  init();
})();
