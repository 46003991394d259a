"""Draws a screen's regions, each only when its model changed, and says which
rectangles of the screen changed (for ``pygame.display.update``).

The reconnecting strip is drawn over the header, so the last known calls,
queues and cards stay in view beneath it; when it comes or goes, the regions
under it are drawn again.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pygame

from display.ui.layout import Layout, Region
from display.ui.paint import DisplayFonts, Drawn, Painter
from display.ui.regions import DRAWERS
from display.ui.theme import Theme
from display.ui.window_page import WINDOW_DRAWERS
from display.views import StripModel, View

_MISSING = object()
ALL_DRAWERS = {**DRAWERS, **WINDOW_DRAWERS}


@dataclass
class Frame:
    """What is on the screen now: every visible text and the regions' rectangles (for tests)."""

    texts: list[Drawn] = field(default_factory=list)
    regions: dict[str, tuple[int, int, int, int]] = field(default_factory=dict)

    def text(self, role: str) -> list[str]:
        return [d.text for d in self.texts if d.role == role]


class Renderer:
    def __init__(self, surface: pygame.Surface, fonts: DisplayFonts, layout: Layout, theme: Theme) -> None:
        self.surface, self.fonts, self.layout, self.theme = surface, fonts, layout, theme
        self.strip = layout.strip_region()
        # the regions the strip covers (all of the header, the banner's top margin): drawn again
        # when it goes, and it over them whenever they are drawn again
        self.covered = [name for name, r in layout.regions.items()
                        if pygame.Rect(r.rect).colliderect(pygame.Rect(self.strip.rect))]
        self.hidden = [name for name in self.covered
                       if pygame.Rect(self.strip.rect).contains(pygame.Rect(layout.regions[name].rect))]
        self._last: dict[str, object] = {}
        self._texts: dict[str, list[Drawn]] = {}
        self.surface.fill(theme.bg)

    def invalidate(self) -> None:
        """Draw everything again on the next ``draw``."""
        self._last.clear()
        self.surface.fill(self.theme.bg)

    def draw(self, view: View, only: set[str] | None = None) -> list[pygame.Rect]:
        """Draw what changed (of the regions in ``only``, if given: the rest, and the strip's
        coming or going, wait for the next frame); returns the rectangles to update on the screen."""
        dirty: list[pygame.Rect] = []
        strip, last = view.get("strip"), self._last.get("strip", _MISSING)
        if only is not None:
            strip = last if isinstance(last, StripModel) else None
        strip_changed = strip != last
        redrawn: set[str] = set()
        for name, region in self.layout.regions.items():
            model = view.get(name)
            if model is None or (only is not None and name not in only):
                continue
            if model == self._last.get(name, _MISSING) and not (strip_changed and name in self.covered):
                continue
            self._draw(name, region, model)
            dirty.append(pygame.Rect(region.rect))
            redrawn.add(name)
        if isinstance(strip, StripModel) and (strip_changed or not redrawn.isdisjoint(self.covered)):
            self._draw("strip", self.strip, strip)
            dirty.append(pygame.Rect(self.strip.rect))
        elif strip is None:
            self._texts.pop("strip", None)
        self._last["strip"] = strip
        return dirty

    def _draw(self, name: str, region: Region, model: object) -> None:
        painter = Painter(self.surface, self.fonts, name, region.rect, self.layout.pixel_exact)
        if name != "strip":
            painter.fill(region.rect, self.theme.bg)
            self._last[name] = model
        ALL_DRAWERS[type(model)](painter, region, self.theme, model)
        self._texts[name] = painter.texts

    def frame(self) -> Frame:
        hidden = self.hidden if "strip" in self._texts else []
        texts = [d for name, drawn in self._texts.items() if name not in hidden for d in drawn]
        regions = {name: r.rect for name, r in self.layout.regions.items()}
        if "strip" in self._texts:
            regions["strip"] = self.strip.rect
        return Frame(texts, regions)
