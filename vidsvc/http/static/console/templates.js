// The playground's templates: pick a saved template and fill in its placeholders (the editor
// then holds a POST by template_id, which Render and Plan send as they send any composition),
// or save the editor's composition as a template. Loaded before console.js, whose el(), api()
// and enc() it calls (only once the page runs). Every string reaches the page through el().
"use strict";

const TEMPLATES = "/api/v1/templates";

// A merge value as typed: JSON where it reads as JSON (3, 2.5, [1], {"a": 1}, true, "quoted"),
// otherwise the text itself (a URL, a name), so the common case needs no quotes.
function mergeValue(text) {
  if (/^\s*(-?\d|\[|\{|"|true\s*$|false\s*$|null\s*$)/.test(text)) {
    try {
      return JSON.parse(text);
    } catch (_) {
      // "3 apples": text after all
    }
  }
  return text;
}

// The panel: {node, clear()}. `show(node)` puts a message where the playground shows results.
function templatePanel(editor, show) {
  const select = el("select", { id: "template-select" });
  const use = el("button", { id: "template-use", type: "button", disabled: true }, "Use template");
  const name = el("input", { id: "template-name", type: "text", placeholder: "template name", maxlength: "200" });
  const save = el("button", { id: "template-save", type: "button", title: "save the editor's composition as a template" }, "Save as template");
  const form = el("div", { id: "merge-form", class: "merge-form" });
  const failed = (err) => show(el("p", { class: "error", id: "play-error" }, `${err.code}: ${err.message}`));

  async function refresh(selected) {
    const page = await api(`${TEMPLATES}?limit=100`);
    const label = (t) => `${t.name} (${t.placeholders.join(", ") || "no placeholders"})`;
    select.replaceChildren(...page.items.map((t) => el("option", { value: t.template_id }, label(t))));
    if (selected) select.value = selected;
    use.disabled = page.items.length === 0;
  }

  // One input per placeholder; every keystroke rewrites the editor's request.
  function fill(template) {
    const inputs = template.placeholders.map((p) =>
      el("input", { type: "text", id: `merge-${p}`, "data-name": p, placeholder: "text, or JSON for a number, list or object" }),
    );
    const write = () => {
      const merge = {};
      for (const input of inputs) merge[input.dataset.name] = mergeValue(input.value);
      editor.value = JSON.stringify({ template_id: template.template_id, merge }, null, 2);
    };
    for (const input of inputs) input.addEventListener("input", write);
    const rows = template.placeholders.map((p, i) => el("tr", {}, el("th", {}, p), el("td", {}, inputs[i])));
    form.replaceChildren(
      el("p", { id: "merge-title" }, `${template.name}: fill in its placeholders, then Render or Plan.`),
      el("table", { class: "kv" }, el("tbody", {}, rows)),
      el("details", {}, el("summary", {}, "Its composition"), el("pre", { id: "template-composition" }, JSON.stringify(template.composition, null, 2))),
    );
    write();
  }

  use.addEventListener("click", async () => {
    try {
      fill(await api(`${TEMPLATES}/${enc(select.value)}`));
    } catch (err) {
      failed(err);
    }
  });

  save.addEventListener("click", async () => {
    let composition;
    try {
      composition = JSON.parse(editor.value);
    } catch (err) {
      show(el("p", { class: "error" }, `not JSON: ${err.message}`));
      return;
    }
    const body = JSON.stringify({ name: name.value.trim() || "untitled", composition });
    try {
      const saved = await api(TEMPLATES, { method: "POST", headers: { "Content-Type": "application/json" }, body });
      await refresh(saved.template_id);
      const names = saved.placeholders.join(", ") || "none";
      show(el("p", { id: "template-saved" }, `Saved "${saved.name}" as ${saved.template_id}; placeholders: ${names}`));
    } catch (err) {
      failed(err);
    }
  });

  refresh().catch(() => {
    use.disabled = true;
  });
  const row = el("div", { class: "toolbar" }, el("label", {}, "Template ", select), use, name, save);
  return { node: el("div", { id: "templates" }, row, form), clear: () => form.replaceChildren() };
}
