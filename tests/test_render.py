"""Figure helpers: city names in English, Chinese (CJK font) or both; a missing font is a clear error."""
import warnings

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from shapely.geometry import box

from scripts.common import InputError
from scripts.render import city_labels, label_extremes, pyplot, save_figure


def cities():
    rows = [("420100", "武汉市", "Wuhan", 114.3, 30.6), ("650100", "乌鲁木齐市", "Urumqi", 87.6, 43.8),
            ("230100", "哈尔滨市", None, 126.6, 45.8)]
    return gpd.GeoDataFrame([{"city_code": c, "name_zh": zh, "name_en": en, "lon": x, "lat": y,
                              "geometry": box(x - 1, y - 1, x + 1, y + 1)} for c, zh, en, x, y in rows],
                            geometry="geometry", crs="EPSG:4326")


def test_english_names_fall_back_to_the_code_not_to_chinese():
    labels = city_labels(cities(), {"city_names": "en"})
    assert labels.to_dict() == {"420100": "Wuhan", "650100": "Urumqi", "230100": "230100"}


def test_chinese_names_draw_without_missing_glyphs(tmp_path):
    frame = cities()
    labels = city_labels(frame, {"city_names": "both", "cjk_font": None})
    assert labels["420100"] == "武汉市 Wuhan" and labels["230100"] == "哈尔滨市"
    plt = pyplot()
    fig, ax = plt.subplots()
    frame.plot(ax=ax)
    values = pd.Series([1.0, 2.0, 3.0], index=frame["city_code"])
    with warnings.catch_warnings():
        warnings.filterwarnings("error", message=".*missing from font.*")   # matplotlib's tofu warning
        label_extremes(ax, frame, values, labels, 1)
        ax.set_title(labels["650100"])
        save_figure(fig, tmp_path / "names")
    assert [t.get_text() for t in ax.texts] == ["武汉市 Wuhan", "哈尔滨市"]
    assert (tmp_path / "names.png").stat().st_size > 0 and (tmp_path / "names.pdf").stat().st_size > 0


def test_unknown_cjk_font_is_a_clear_error():
    with pytest.raises(InputError, match=r"report.cjk_font: 'No Such Font' is neither a font file nor an installed"):
        city_labels(cities(), {"city_names": "zh", "cjk_font": "No Such Font"})


def test_missing_cjk_font_tells_how_to_install_one(monkeypatch):
    import scripts.render as render

    monkeypatch.setattr(render, "CJK_FAMILIES", ())
    monkeypatch.setattr(render, "bundled_cjk_font", lambda: None)
    with pytest.raises(InputError, match=r"no CJK font was found.*pip install mplfonts.*city_names: en"):
        city_labels(cities(), {"city_names": "zh"})


def test_a_city_path_is_what_geopandas_draws_holes_and_islands_included():
    """Reference: geopandas' own _PolygonPatch (what GeoDataFrame.plot drew before) gives the same vertices and
    codes for a polygon with a hole and for a two-part MultiPolygon."""
    from geopandas.plotting import _PolygonPatch
    from shapely.geometry import MultiPolygon, Polygon

    from scripts.render import geometry_path

    holed = Polygon([(0, 0), (4, 0), (4, 4), (0, 4)], [[(1, 1), (2, 1), (2, 2), (1, 2)]])
    islands = MultiPolygon([holed, Polygon([(5, 5), (6, 5), (6, 6)])])
    for shape in (holed, islands):
        ours, theirs = geometry_path(shape), _PolygonPatch(shape).get_path()
        np.testing.assert_array_equal(ours.vertices, theirs.vertices)
        np.testing.assert_array_equal(ours.codes, theirs.codes)


def test_a_choropleth_points_its_colour_bar_only_where_values_are_clipped():
    from matplotlib.colors import Normalize

    from scripts.render import choropleth

    plt = pyplot()
    frame = cities()
    for values, extend in (([0.5, 2.0, None], "max"), ([-1.0, 0.5, None], "min"), ([-1.0, 2.0, 0.1], "both"),
                           ([0.2, 0.4, None], "neither")):
        fig, ax = plt.subplots()
        choropleth(ax, frame, pd.Series(values, index=frame["city_code"], dtype=float), "viridis", Normalize(0, 1), "x")
        shown, grey = ax.collections[1], ax.collections[0]
        assert len(grey.get_paths()) == sum(v is None for v in values)
        np.testing.assert_array_equal(shown.get_array(), [v for v in values if v is not None])
        assert fig.axes[1].get_label() == "<colorbar>" and fig.axes[1]._colorbar.extend == extend
        plt.close(fig)
