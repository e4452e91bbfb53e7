"""Rendering helpers shared by the table and figure stages: one table → Markdown, LaTeX, HTML, CSV; one figure →
PNG and PDF, both without timestamps so reruns give identical bytes."""
import html
from functools import cache
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from scripts.common import InputError

STYLE = {"font.size": 9, "axes.spines.top": False, "axes.spines.right": False, "axes.grid": True,
         "grid.alpha": 0.3, "figure.dpi": 120}
FIGURE_DPI = 120
FIGURE_METADATA = {"png": {"Software": None}, "pdf": {"CreationDate": None, "ModDate": None, "Producer": None,
                                                       "Creator": None}}


def row_label(label: Any) -> str:
    """A row label as text; MultiIndex tuples joined with ' · '."""
    return " · ".join(map(str, label)) if isinstance(label, tuple) else str(label)


def to_markdown(table: pd.DataFrame, title: str, notes: list[str]) -> str:
    """GitHub Markdown table with a bold title and italic notes; the index is the first column."""
    lines = [f"**{title}**", "", "| | " + " | ".join(map(str, table.columns)) + " |",
             "|---|" + "---|" * len(table.columns)]
    lines += ["| " + row_label(label) + " | " + " | ".join(map(str, row)) + " |"
              for label, row in zip(table.index, table.to_numpy())]
    return "\n".join(lines + [""] + [f"_{n}_" for n in notes]) + "\n"


def tex_escape(text: Any) -> str:
    """Escape LaTeX specials and map the few Unicode symbols used in labels."""
    text = str(text)
    for old, new in (("\\", r"\textbackslash{}"), ("_", r"\_"), ("%", r"\%"), ("&", r"\&"), ("#", r"\#"),
                     ("²", "$^2$"), ("ρ", r"$\rho$"), ("λ", r"$\lambda$"), ("–", "--"), ("−", "-"), ("≥", r"$\geq$"),
                     ("·", r"$\cdot$")):
        text = text.replace(old, new)
    return text


def to_latex(table: pd.DataFrame, title: str, notes: list[str]) -> str:
    """A stand-alone LaTeX document (article + booktabs) holding the table; compiles with pdflatex."""
    cols = "l" + "c" * len(table.columns)
    lines = [r"\documentclass{article}", r"\usepackage{booktabs}", r"\usepackage[margin=1.5cm,landscape]{geometry}",
             r"\begin{document}", r"\begin{table}[htbp]\centering\footnotesize", rf"\caption{{{tex_escape(title)}}}",
             rf"\begin{{tabular}}{{{cols}}}", r"\toprule",
             " & ".join(["", *map(tex_escape, table.columns)]) + r" \\", r"\midrule"]
    lines += [" & ".join([tex_escape(row_label(label)), *map(tex_escape, row)]) + r" \\"
              for label, row in zip(table.index, table.to_numpy())]
    lines += [r"\bottomrule", r"\end{tabular}"] + [rf"\par\scriptsize {tex_escape(n)}" for n in notes]
    return "\n".join(lines + [r"\end{table}", r"\end{document}"]) + "\n"


def to_html(table: pd.DataFrame, title: str, notes: list[str]) -> str:
    """A small self-contained HTML page with the table (pandas), title and notes."""
    body = table.to_html(border=0, escape=True, classes="cityres")
    notes_html = "".join(f"<p><em>{html.escape(n)}</em></p>" for n in notes)
    style = ("body{font-family:sans-serif}table{border-collapse:collapse}td,th{padding:2px 8px;text-align:center}"
             "thead th{border-bottom:1px solid #333}")
    return (f"<!DOCTYPE html>\n<html><head><meta charset='utf-8'><title>{html.escape(title)}</title>"
            f"<style>{style}</style></head><body><h3>{html.escape(title)}</h3>{body}{notes_html}</body></html>\n")


def write_all(table: pd.DataFrame, stem: str | Path, title: str, notes: list[str], csv: pd.DataFrame | None = None) -> None:
    """Write ``stem``.md/.tex/.html and .csv (the given long table, or the display table)."""
    stem = Path(stem)
    stem.parent.mkdir(parents=True, exist_ok=True)
    for suffix, render in ((".md", to_markdown), (".tex", to_latex), (".html", to_html)):
        stem.with_suffix(suffix).write_text(render(table, title, notes), encoding="utf-8")
    (csv if csv is not None else table.reset_index()).to_csv(stem.with_suffix(".csv"), index=False,
                                                              lineterminator="\n")


def pyplot():
    """matplotlib.pyplot with the Agg backend and the project's one figure style."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    plt.rcParams.update(STYLE)
    return plt


CJK_FAMILIES = ("Noto Sans CJK SC", "Noto Sans SC", "Source Han Sans SC", "WenQuanYi Micro Hei", "WenQuanYi Zen Hei",
                "Droid Sans Fallback")


def bundled_cjk_font() -> str | None:
    """Noto Sans CJK SC (SIL OFL) as shipped in the `mplfonts` wheel, if that package is installed."""
    try:
        import mplfonts
    except ImportError:
        return None
    path = Path(mplfonts.__file__).parent / "fonts" / "NotoSansCJKsc-Regular.otf"
    return str(path) if path.exists() else None


def cjk_font_family(setting: str | None) -> str:
    """Register and return the font family that draws Chinese city names.

    ``setting``: a .ttf/.otf/.ttc path or an installed family name (config ``report.cjk_font``); when null, the
    first installed family of CJK_FAMILIES, else the font bundled with `mplfonts` (a pinned requirement).
    """
    from matplotlib import font_manager

    installed = {f.name for f in font_manager.fontManager.ttflist}
    if setting and Path(setting).is_file():
        font_manager.fontManager.addfont(setting)
        return font_manager.FontProperties(fname=setting).get_name()
    if setting:
        if setting in installed:
            return setting
        raise InputError(f"config.yaml report.cjk_font: '{setting}' is neither a font file nor an installed font "
                         "family. Give the path of a .ttf/.otf/.ttc file with Chinese glyphs, or null to use the "
                         "Noto Sans CJK SC font of the mplfonts package.")
    for family in CJK_FAMILIES:
        if family in installed:
            return family
    bundled = bundled_cjk_font()
    if bundled is None:
        raise InputError("config.yaml report.city_names asks for Chinese names but no CJK font was found. Install "
                         "one (pip install mplfonts, or apt-get install fonts-wqy-microhei) or set report.cjk_font "
                         "to a .ttf/.otf file with Chinese glyphs; or set report.city_names: en.")
    return cjk_font_family(bundled)


def city_labels(cities: pd.DataFrame, report: dict[str, Any]) -> pd.Series:
    """Display name of every city by ``report.city_names``: en (pinyin, the code where none is known), zh, or both
    ("武汉市 Wuhan"). Chinese names switch the figure font to a CJK family (Latin text keeps DejaVu Sans)."""
    language = report.get("city_names", "en")
    frame = cities.set_index("city_code")
    english = frame["name_en"].fillna(pd.Series(frame.index, index=frame.index))
    if language == "en":
        return english
    import matplotlib.pyplot as plt

    plt.rcParams["font.family"] = ["DejaVu Sans", cjk_font_family(report.get("cjk_font"))]
    chinese = frame["name_zh"].fillna(english)
    return chinese if language == "zh" else (chinese + " " + frame["name_en"].fillna("")).str.strip()


def label_extremes(ax: Any, cities: Any, values: pd.Series, labels: pd.Series, count: int) -> None:
    """Write the names of the `count` highest- and `count` lowest-valued cities at their centroids (haloed)."""
    from matplotlib import patheffects

    ranked = values.dropna().sort_values(kind="mergesort")
    chosen = list(dict.fromkeys([*ranked.index[:count], *ranked.index[::-1][:count]])) if count else []
    position = cities.set_index("city_code")[["lon", "lat"]]
    for code in chosen:
        ax.annotate(labels.get(code, code), position.loc[code].to_numpy(), fontsize=6, ha="center", va="bottom",
                    path_effects=[patheffects.withStroke(linewidth=2, foreground="white")])


@cache
def geometry_path(geometry: Any) -> Any:
    """A (Multi)Polygon as one compound matplotlib Path: every part's exterior and interior rings, closed (what
    geopandas' _PolygonPatch draws). Cached by geometry, so a job's maps convert each boundary once."""
    from matplotlib.path import Path as DrawnPath

    rings = [ring for part in getattr(geometry, "geoms", [geometry]) for ring in (part.exterior, *part.interiors)]
    return DrawnPath.make_compound_path(*(DrawnPath(np.asarray(ring.coords)[:, :2], closed=True) for ring in rings))


def draw_cities(ax: Any, cities: Any, colors: Any = "#dddddd", edgecolor: str = "white",
                linewidth: float = 0.2) -> Any:
    """The cities' polygons on ``ax`` as one PatchCollection, filled with one colour or one per city, and returned.

    Own code rather than GeoDataFrame.plot, which rebuilds every path and renders the whole figure once more
    (``draw_idle``) on each call: that was half of a map's drawing time, and the reports draw about thirty maps."""
    from matplotlib.collections import PatchCollection
    from matplotlib.patches import PathPatch

    collection = PatchCollection([PathPatch(geometry_path(g)) for g in cities.geometry], facecolor=colors,
                                 edgecolor=edgecolor, linewidth=linewidth)
    ax.add_collection(collection)
    return collection


def choropleth(ax: Any, cities: Any, values: pd.Series, cmap: str, norm: Any, label: str) -> None:
    """Cities coloured by ``values`` (indexed by city_code) through ``cmap`` and ``norm``, cities without a value in
    light grey, and a colour bar whose ends are pointed where values lie beyond the norm's range."""
    value = cities["city_code"].map(values).to_numpy(dtype=float)
    shown = ~np.isnan(value)
    draw_cities(ax, cities[~shown])
    collection = draw_cities(ax, cities[shown], colors=None)
    collection.set_array(value[shown])
    collection.set_cmap(cmap)
    collection.set_norm(norm)
    below = shown.any() and value[shown].min() < norm.vmin
    above = shown.any() and value[shown].max() > norm.vmax
    extend = {(True, True): "both", (True, False): "min", (False, True): "max"}.get((below, above), "neither")
    ax.figure.colorbar(collection, ax=ax, shrink=0.6, label=label, extend=extend)


def map_frame(ax: Any, cities: Any) -> None:
    """Frame a map on the cities' extent, leaving out the South China Sea islands (Sansha) south of 17°N so the
    mainland keeps its scale; stretch latitude by 1/cos(mid-latitude), as geopandas does for geographic
    coordinates (from R's sp), and hide the axes."""
    west, south, east, north = cities.total_bounds
    ax.set_xlim(west, east)
    ax.set_ylim(max(south, 17.0), north)
    ax.set_aspect(1 / np.cos(np.radians((south + north) / 2)))
    ax.set_axis_off()


def save_figure(fig: Any, stem: str | Path) -> None:
    """Save a matplotlib figure as ``stem``.png (120 dpi) and ``stem``.pdf, deterministically, and close it.

    The tight bounding box is measured once, at the PNG's resolution, and reused for both files: ``bbox_inches=
    "tight"`` would draw the figure twice per file (half of a map's cost). The PNG is byte for byte what "tight"
    gives; the PDF's box can differ from the PDF renderer's own by a fraction of a point."""
    import matplotlib
    import matplotlib.pyplot as plt

    stem = Path(stem)
    stem.parent.mkdir(parents=True, exist_ok=True)
    fig.set_dpi(FIGURE_DPI)
    bbox = fig.get_tightbbox(fig.canvas.get_renderer()).padded(matplotlib.rcParams["savefig.pad_inches"])
    for suffix, metadata in FIGURE_METADATA.items():
        fig.savefig(stem.with_suffix(f".{suffix}"), dpi=FIGURE_DPI, bbox_inches=bbox, metadata=metadata)
    plt.close(fig)
