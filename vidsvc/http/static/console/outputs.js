// A completed composition's files: its first rendition played (a video, or an image for an
// animated GIF or WebP), and a download link per rendition with its shape and format. Loaded
// before console.js, whose el() and enc() it calls (only once the page runs).
"use strict";

const IMAGE_FORMATS = new Set(["gif", "webp"]);

// The route of rendition n (0: the composition's own download URL).
function renditionUrl(id, n, file) {
  const query = [file ? `file=${file}` : "", n ? `rendition=${n}` : ""].filter(Boolean).join("&");
  return `/api/v1/compositions/${enc(id)}/download${query ? `?${query}` : ""}`;
}

function outputsView(id, item) {
  const outputs = item.outputs && item.outputs.length ? item.outputs : [{ rendition: 0, format: "mp4" }];
  const first = outputs[0];
  const shown = IMAGE_FORMATS.has(first.format)
    ? el("img", { id: "player", src: renditionUrl(id, 0), alt: "the output" })
    : el("video", { id: "player", controls: true, preload: "auto", src: renditionUrl(id, 0) });
  const links = outputs.map((o) => {
    const shape = o.width ? ` ${o.width}x${o.height}` : "";
    const name = `${id}${o.rendition ? `-${o.rendition}` : ""}.${o.format}`;
    return el("li", {}, el("a", { href: renditionUrl(id, o.rendition), download: name, class: "rendition" },
      `Download ${o.format.toUpperCase()}${shape}`));
  });
  return [shown, el("ul", { id: "downloads" }, ...links)];
}
