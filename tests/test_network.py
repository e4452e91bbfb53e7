"""Network builders: gravity (by hand), flows, user edge lists, backbones, and their bad-input errors."""
import numpy as np
import pandas as pd
import pytest

from scripts.common import InputError
from scripts.network import (
    EARTH_RADIUS_KM,
    backbone,
    build_gravity,
    build_network,
    check_edges,
    disparity_alpha,
    gravity_edges,
    great_circle_km,
    read_distance_file,
    read_flow_matrices,
)

KM = EARTH_RADIUS_KM * np.pi / 180  # one degree of longitude on the equator
CROSSWALK = pd.DataFrame(columns=["source", "source_code", "source_name", "city_code", "valid_from", "valid_to",
                                  "reason"])
CITIES = pd.DataFrame({"city_code": ["110100", "420100", "420900", "421100"], "name_zh": ["北京市", "武汉市", "孝感市", "黄冈市"],
                       "lon": [0.0, 1.0, 2.0, 3.0], "lat": [0.0] * 4})


def three_nodes(**extra):
    return pd.DataFrame({"city_code": ["a", "b", "c"], "lon": [0.0, 1.0, 2.0], "lat": [0.0, 0.0, 0.0],
                         "gdp": [4.0, 9.0, 1.0], "pop": [1.0, 1.0, 16.0], **extra})


def test_great_circle_one_degree_on_equator():
    assert great_circle_km(np.array([0.0, 1.0]), np.array([0.0, 0.0]))[0, 1] == pytest.approx(KM, rel=1e-12)


def test_gravity_by_hand():
    edges = gravity_edges(three_nodes(), ["gdp", "pop"], decay=2.0).set_index(["source", "target"])["weight"]
    # masses: sqrt(4·1) = 2, sqrt(9·1) = 3, sqrt(1·16) = 4
    assert edges[("a", "b")] == pytest.approx(2 * 3 / KM**2, rel=1e-10)
    assert edges[("a", "c")] == pytest.approx(2 * 4 / (2 * KM) ** 2, rel=1e-10)
    assert len(edges) == 3


def test_directed_gravity_asymmetry_by_hand():
    edges = gravity_edges(three_nodes(), ["gdp"], 1.0, directed=True, asymmetry="gdp")
    weight = edges.set_index(["source", "target"])["weight"]
    base = 4.0 * 9.0 / KM
    assert weight[("a", "b")] == pytest.approx(4 / 13 * base)  # k_ab = GDP_a / (GDP_a + GDP_b)
    assert weight[("b", "a")] == pytest.approx(9 / 13 * base)
    assert len(edges) == 6


def test_user_distances_replace_great_circle():
    distances = pd.DataFrame({"source": ["a", "a", "b"], "target": ["b", "c", "c"], "distance": [2.0, 4.0, 1.0]})
    edges = gravity_edges(three_nodes(), ["gdp"], 1.0, distances=distances).set_index(["source", "target"])["weight"]
    assert edges[("b", "c")] == pytest.approx(9.0 * 1.0 / 1.0)
    with pytest.raises(InputError, match=r"lacks 1 city pairs \(b/c\)"):
        gravity_edges(three_nodes(), ["gdp"], 1.0, distances=distances.iloc[:2])


def test_bad_masses_and_coordinates():
    with pytest.raises(InputError, match="positive.*c"):
        gravity_edges(three_nodes(gdp=[1.0, 2.0, 0.0]), ["gdp"], 2.0)
    with pytest.raises(InputError, match="same coordinates.*a/b"):
        gravity_edges(three_nodes(lon=[0.0, 0.0, 1.0]), ["gdp"], 2.0)


def test_gravity_years_report_cities_without_masses():
    panel = pd.DataFrame({"city_code": list("abcd") * 2, "year": [2019] * 4 + [2020] * 4,
                          "gdp": [1, 2, 3, 4, 1, 2, 3, np.nan]})
    cities = pd.DataFrame({"city_code": list("abcd"), "lon": [0.0, 1, 2, 3], "lat": [0.0] * 4})
    edges, attrition = build_gravity(panel, cities, {"mass": ["gdp"], "distance_decay": 1.0,
                                                     "year_range": {"start": 2019, "end": 2020}})
    assert edges.groupby("year").size().to_dict() == {2019: 6, 2020: 3}
    assert attrition.set_index("year").at[2020, "units"] == "d"


def write_matrix(path, rows):
    names = ["武汉市", "孝感市", "黄冈市", "北京市"]
    frame = pd.DataFrame(rows, index=names, columns=names)
    frame.to_csv(path, encoding="utf-8")
    return path


def test_flow_matrices_averaged_over_the_window(tmp_path):
    day1 = write_matrix(tmp_path / "BaiduNet_out_20200110.csv",
                        [[None, 10, 20, 5], [4, None, 1, None], [6, 1, None, None], [1, None, None, None]])
    day2 = write_matrix(tmp_path / "BaiduNet_out_20200111.csv",
                        [[None, 30, None, 5], [4, None, 1, None], [6, 1, None, None], [1, None, None, None]])
    day3 = write_matrix(tmp_path / "BaiduNet_out_20200201.csv",
                        [[None, 99, 99, 99], [99, None, 99, None], [99, 99, None, None], [99, None, None, None]])
    edges = read_flow_matrices([day1, day2, day3], {"start": "2020-01-10", "end": "2020-01-23"})
    weight = edges.set_index(["source", "target"])["weight"]
    assert weight[("武汉市", "孝感市")] == 20.0 and weight[("武汉市", "黄冈市")] == 10.0
    with pytest.raises(InputError, match="no flow file dated"):
        read_flow_matrices([day3], {"start": "2020-01-10", "end": "2020-01-23"})


def test_flows_network_maps_names(tmp_path):
    day = write_matrix(tmp_path / "BaiduNet_out_20200110.csv",
                       [[None, 10, 20, 5], [4, None, 1, None], [6, 1, None, None], [1, None, None, None]])
    spec = {"kind": "flows", "window": {"start": "2020-01-10", "end": "2020-01-10"}, "year": 2020}
    edges, _ = build_network(spec, "baidu", pd.DataFrame(), CITIES, CROSSWALK, [day])
    assert set(edges["source"]) <= set(CITIES["city_code"])
    assert edges.set_index(["source", "target"]).at[("420100", "420900"), "weight"] == 10.0


def test_flow_file_with_unmatched_names_is_an_error(tmp_path):
    names = ["Wuhan", "Xiaogan", "Huanggang"]
    path = tmp_path / "BaiduNet_out_20200110.csv"
    pd.DataFrame([[None, 1, 2], [3, None, 4], [5, 6, None]], index=names, columns=names).to_csv(path)
    spec = {"kind": "flows", "window": {"start": "2020-01-10", "end": "2020-01-10"}, "year": 2020}
    with pytest.raises(InputError, match="3 of 3 place ids match no city.*Chinese names"):
        build_network(spec, "baidu", pd.DataFrame(), CITIES, CROSSWALK, [path])


def test_user_edge_list(tmp_path):
    path = tmp_path / "rail.csv"
    path.write_text("o,d,trains\n110100,420100,12\n420100,420900,30\n420900,421100,5\n", encoding="utf-8")
    spec = {"kind": "edges", "path": str(path), "columns": {"source": "o", "target": "d", "weight": "trains"},
            "year": 2019, "keys": "code"}
    edges, attrition = build_network(spec, "rail", pd.DataFrame(), CITIES, CROSSWALK, [])
    assert len(edges) == 3 and set(edges["year"]) == {2019}
    assert attrition.loc[attrition["outcome"] == "matched", "n_units"].iloc[0] == 4


def test_distance_file_with_zero_distance_names_pairs_and_rows(tmp_path):
    path = tmp_path / "km.csv"
    path.write_text("from,to,km\n110100,420100,1000\n420100,420100,0\n420100,420900,0\n420900,421100,-5\n",
                    encoding="utf-8")
    columns = {"source": "from", "target": "to", "weight": "km"}
    with pytest.raises(InputError, match=r"km\.csv: column 'km' has 2 zero, negative or empty distance\(s\) between two "
                                         r"different cities \(420100→420900 = 0 \(row 4\), 420900→421100 = -5 \(row 5\)\)\. "
                                         r"Correct those rows"):
        read_distance_file(str(path), columns)
    spec = {"kind": "gravity", "mass": ["gdp"], "distance_decay": 1.0, "year_range": {"start": 2019, "end": 2019},
            "distance_file": {"path": str(path), "columns": columns}}
    with pytest.raises(InputError, match=r"km\.csv: .*420100→420900 = 0 \(row 4\)"):
        build_network(spec, "g", pd.DataFrame(), CITIES, CROSSWALK, [])


def test_edge_file_note_row_names_its_row(tmp_path):
    path = tmp_path / "rail.csv"
    path.write_text("year,o,d,trains\n2019,110100,420100,12\n来源：12306,,,\n", encoding="utf-8")
    spec = {"kind": "edges", "path": str(path), "columns": {"source": "o", "target": "d", "weight": "trains",
                                                             "year": "year"}, "keys": "code"}
    with pytest.raises(InputError, match=r"rail\.csv: column 'o' is empty in 1 row\(s\) \(row 3: 来源：12306\)"):
        build_network(spec, "rail", pd.DataFrame(), CITIES, CROSSWALK, [])
    path.write_text("year,o,d,trains\n2019,110100,420100,12\n,110100,420900,3\n", encoding="utf-8")
    with pytest.raises(InputError, match=r"rail\.csv: column 'year' is empty or not a whole number .*\(row 3: "):
        build_network(spec, "rail", pd.DataFrame(), CITIES, CROSSWALK, [])


@pytest.mark.parametrize("row, label", [(("a", "a", 1.0), "self-loop"), (("a", "b", -1.0), "negative weight"),
                                        (("a", "b", np.nan), "missing weight")])
def test_bad_edges_are_errors(row, label):
    edges = pd.DataFrame([("b", "c", 1.0), row], columns=["source", "target", "weight"]).assign(year=2020)
    with pytest.raises(InputError, match=label):
        check_edges(edges, "network 'x'")


def star_plus():
    # centre c: ties 10, 1, 1 to a, b, d; plus b–d tie 1.
    return pd.DataFrame({"source": ["c", "c", "c", "b"], "target": ["a", "b", "d", "d"],
                         "weight": [10.0, 1.0, 1.0, 1.0], "year": 2020})


def test_top_k_and_quantile_backbones():
    edges = star_plus()
    top1 = backbone(edges, {"method": "top_k", "k": 1}, directed=False)
    # a's top tie: c–a; b's: b–c or b–d (tie at 1: alphabetical target c); c's: c–a; d's: d–b (alphabetical b)
    assert set(zip(top1["source"], top1["target"])) == {("c", "a"), ("c", "b"), ("b", "d")}
    assert len(backbone(edges, {"method": "quantile", "q": 0.75}, directed=False)) == 1


def test_disparity_alpha_by_hand():
    alpha = disparity_alpha(star_plus(), directed=False)
    # c: s = 12, k = 3 → α(c–a) = (1 − 10/12)² ; at a (k = 1) α = 0, so the edge's α is 0.
    assert alpha.iloc[0] == 0.0
    # c–b: at c (1 − 1/12)² = 0.8403, at b (s = 2, k = 2) (1 − 1/2)¹ = 0.5 → min 0.5
    assert alpha.iloc[1] == pytest.approx(0.5)
    kept = backbone(star_plus(), {"method": "disparity", "alpha": 0.3}, directed=False)
    assert list(zip(kept["source"], kept["target"])) == [("c", "a")]


def test_isolated_node_after_backbone_is_an_error():
    panel = pd.DataFrame({"city_code": list("abcd"), "year": 2019, "gdp": [100.0, 1.0, 1.0, 1.0]})
    cities = pd.DataFrame({"city_code": list("abcd"), "name_zh": list("abcd"), "lon": [0.0, 1, 2, 30], "lat": [0.0] * 4})
    spec = {"kind": "gravity", "mass": ["gdp"], "distance_decay": 2.0, "year_range": {"start": 2019, "end": 2019},
            "backbone": {"method": "quantile", "q": 0.5}}
    with pytest.raises(InputError, match="isolated node.*d"):
        build_network(spec, "g", panel, cities, CROSSWALK, [])
