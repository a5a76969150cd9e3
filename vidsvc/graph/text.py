"""Every text of a render as one ASS document, drawn by one `ass` filter over the pictures.

Overlays become events in list order (later ones on top): an optional box (an event of its
own with invisible text and ass.BOX, so a box can carry an outlined, shadowed text, as
drawtext could) and the text. Each event is pinned with `\\an` and `\\pos` (so libass never
moves it to avoid another) and its wrap width is set through the event's margins. The user's
text only ever reaches the document through ass.escape_text(), and the graph string holds
only the document's service-chosen name.

The style fields keep drawtext's meaning: `size` is the em size (ASS sizes by the font's full
height, hence FontFace.em_ratio), `shadow` a drop shadow of size/24 pixels, `box` a box padded
by `box_padding`, `outline` a border in pixels, fades ramp the opacity.

Pure: imports the leaves and vidsvc.graph only.
"""

from __future__ import annotations

from collections.abc import Mapping

from vidsvc import spec
from vidsvc.graph import animate, ass, captions, layout, narration_captions
from vidsvc.graph.builder import GraphBuilder
from vidsvc.graph.model import FontFace
from vidsvc.graph.timeline import OverlaySlot, Timeline

ASS_FILE = "text.ass"


def document_name(rendition: int) -> str:
    """The ASS document of a rendition (each lays its text out for its own frame)."""
    return ASS_FILE if rendition == 0 else f"text{rendition}.ass"


FONTS_DIR = "fonts"


def events(
    overlays: tuple[OverlaySlot, ...], out: spec.Output, fonts: Mapping[str, FontFace]
) -> tuple[list[ass.Style], list[ass.Event]]:
    styles: list[ass.Style] = []
    evs: list[ass.Event] = []
    w, _ = out.size
    for i, slot in enumerate(overlays):
        st = slot.overlay.style
        place = layout.place(slot.overlay, out.size)
        text = slot.overlay.text.replace("\r\n", "\n").replace("\r", "\n")
        lines = layout.break_lines(text, place.width, float(st.size))
        anim = slot.overlay.animation
        tags = animate.tags(anim, place, st.fade_in_ms, st.fade_out_ms, out.size[1])
        steps = animate.steps(anim, lines, slot.start_ms, slot.end_ms)
        for style in ass.text_styles(st, fonts[st.font], f"t{i}", f"b{i}"):
            styles.append(style)
            box = style.border_style == ass.BOX
            for step in steps[-1:] if box else steps:  # a box is there from the start
                evs.append(
                    ass.Event(
                        layer=2 * i + (not box),
                        start_ms=slot.start_ms if box else step.start_ms,
                        end_ms=step.end_ms,
                        style=style.name,
                        text=tags + (steps[-1].text if box else step.text),
                        margin_r=w - place.width,
                    )
                )
    return styles, evs


def draw(
    g: GraphBuilder,
    video: str,
    timeline: Timeline,
    comp: spec.Composition,
    fonts: Mapping[str, FontFace],
    document: str = ASS_FILE,
) -> str:
    """Draw every overlay in list order, then the captions (explicit and from narration), over
    the joined video (nothing to draw: no filter), laid out in one ASS `document` for the
    output's frame."""
    overlays = timeline.overlays
    narrated = narration_captions.streams(timeline.spoken())
    cap = comp.captions
    if cap is None and narrated:  # narration is captioned without `captions` too: by default
        cap = spec.Captions()  # its font is the default, which Composition.text_fonts() lists
    if not overlays and cap is None:
        return video
    out = comp.output
    styles, evs = events(overlays, out, fonts)
    if cap is not None:
        face = fonts[cap.style.font]
        layer = 2 * len(overlays)
        evs += captions.events(cap, out.size, timeline.duration_ms, face, layer, styles, narrated)
    name = g.side_file(document, ass.document(out.size, styles, evs))
    # The resolved files themselves, in a directory of their own: libass loads them first, so
    # the file drawn is the file resolved (and hashed by the render cache), not a namesake.
    used = sorted({fonts[family].path for family in comp.text_fonts()})
    for i, path in enumerate(used):
        g.link_file(f"{FONTS_DIR}/f{i}{_suffix(path)}", path)
    return g.add("ass", (video,), filename=name, fontsdir=FONTS_DIR, shaping="complex")


def _suffix(path: str) -> str:
    """The font file's extension (libass' directory scan reads any name; kept for humans)."""
    dot = path.rfind(".")
    ext = path[dot:].lower() if dot > path.rfind("/") else ""
    return ext if ext in (".ttf", ".otf", ".ttc", ".otc") else ".font"
