"""Data-quality flags on hand-made panels: robust z-scores computed by hand, shared shocks not flagged."""
import numpy as np
import pandas as pd
import pytest

from scripts.quality import flagged_cities, mask_flagged, quality_flags

SETTINGS = {"city_z": 3.5, "province_z": 3.5, "min_scale": 0.02, "min_province_cities": 4, "spike_factor": 2.0}
NO_CROSSWALK = pd.DataFrame(columns=["source", "source_code", "source_name", "city_code", "valid_from", "valid_to",
                                     "reason"])


def smooth_panel(cities=6, years=range(2012, 2022), growth=0.05):
    """Cities of one province growing by exactly `growth` log points a year."""
    rows = [{"city_code": f"1{k:05d}", "year": y, "province_code": "100000",
             "gdp": 100.0 * np.exp(growth * (y - 2012) + 0.1 * k)} for k in range(cities) for y in years]
    return pd.DataFrame(rows)


def test_an_idiosyncratic_jump_is_flagged_with_hand_computed_z_scores():
    panel = smooth_panel()
    jumped = (panel["city_code"] == "100000") & (panel["year"] >= 2016)
    panel.loc[jumped, "gdp"] *= 1.4                                       # a 40 % level break in 2016
    flags = quality_flags(panel, NO_CROSSWALK, ["gdp"], SETTINGS)
    assert flags[["city_code", "year", "flag"]].values.tolist() == [["100000", 2016, "jump"]]
    # city: changes are 0.05 except 0.05 + ln 1.4 → median 0.05, MAD 0 → scale floored at 0.02
    # province 2016: six changes, five at 0.05 → median 0.05, MAD 0 → scale 0.02
    expected = np.log(1.4) / 0.02
    row = flags.iloc[0]
    assert row["change"] == pytest.approx(0.05 + np.log(1.4))
    assert row["z_city"] == pytest.approx(expected) and row["z_province"] == pytest.approx(expected)


def test_a_shock_shared_by_the_province_is_not_flagged():
    panel = smooth_panel()
    panel.loc[panel["year"] >= 2020, "gdp"] *= 0.85                        # every city drops 15 % in 2020
    assert quality_flags(panel, NO_CROSSWALK, ["gdp"], SETTINGS).empty


def test_gaps_duplicates_and_territorial_changes():
    panel = smooth_panel(cities=4)
    panel = panel[~((panel["city_code"] == "100001") & (panel["year"] == 2015))]
    panel = pd.concat([panel, panel[(panel["city_code"] == "100002") & (panel["year"] == 2013)]])
    crosswalk = pd.DataFrame([{"source": "*", "source_code": "199999", "source_name": "Old town", "city_code": "100003",
                               "valid_from": None, "valid_to": 2018, "reason": "merged"}])
    flags = quality_flags(panel, crosswalk, ["gdp"], SETTINGS)
    got = set(map(tuple, flags[["city_code", "year", "variable", "flag"]].values.tolist()))
    assert {("100001", 2015, "gdp", "gap"), ("100002", 2013, "*", "duplicate"),
            ("100003", 2019, "gdp", "admin_change")} <= got


def test_masking_and_the_unflagged_sample():
    panel = smooth_panel()
    panel.loc[(panel["city_code"] == "100004") & (panel["year"] == 2020), "gdp"] *= 3.0   # one-year spike
    flags = quality_flags(panel, NO_CROSSWALK, ["gdp"], SETTINGS)
    assert flags[["year", "flag"]].values.tolist() == [[2020, "spike"]]   # up, then back down: the spike year only
    masked = mask_flagged(panel, flags, ["gdp"])
    hit = masked[masked["gdp"].isna()][["city_code", "year"]].values.tolist()
    assert hit == [["100004", 2020]]                                     # 2021, back to normal, keeps its value
    assert flagged_cities(flags, "gdp", (2015, 2021)) == ["100004"]
    assert flagged_cities(flags, "gdp", (2015, 2019)) == []


def test_exclude_flagged_masks_the_outcomes_once_for_every_later_stage():
    from scripts.quality import analysis_panel

    panel = smooth_panel()
    panel.loc[(panel["city_code"] == "100004") & (panel["year"] == 2020), "gdp"] *= 3.0
    flags = quality_flags(panel, NO_CROSSWALK, ["gdp"], SETTINGS)
    masked_panel, masked = analysis_panel(panel, flags, ["gdp", "real_gdp_label_only"], exclude_flagged=True)
    assert masked == ["gdp"]                                    # a resilience label that is no panel column is skipped
    hit = masked_panel[masked_panel["gdp"].isna()][["city_code", "year"]].values.tolist()
    assert hit == [["100004", 2020]]
    unchanged, none = analysis_panel(panel, flags, ["gdp"], exclude_flagged=False)
    assert none == [] and unchanged.equals(panel)


def test_a_one_year_spike_that_reverses_is_flagged_in_its_year_only():
    from scripts.quality import spike_flags

    years = list(range(2015, 2022))
    values = {"a": [100, 104, 108, 340, 112, 116, 120],     # 2018: ×3.1, then back (a typo-like spike)
              "b": [100, 104, 108, 340, 350, 360, 370],     # 2018: a lasting level shift (no reversal)
              "c": [100, 104, 108, 40, 112, 116, 120]}      # 2018: ×0.37, then back
    panel = pd.DataFrame([{"city_code": c, "year": y, "province_code": "110000", "v": v}
                          for c, series in values.items() for y, v in zip(years, series)])
    flags = spike_flags(panel, "v", SETTINGS)
    assert list(zip(flags["city_code"], flags["year"])) == [("a", 2018), ("c", 2018)]
    assert flags["reason"].iloc[0].startswith("×3.15 the year before, then ×0.33")


def test_source_disagreements_flag_both_variables_and_are_not_masked():
    from scripts.quality import MASKED_FLAGS, disagreement_flags

    consistency = pd.DataFrame({"pair": ["p", "p"], "city_code": ["a", "b"], "year": [2016, 2016],
                                "variable_a": "gdp", "a": [100.0, 50.0], "variable_b": "gdp_gp", "b": [80.0, 50.5],
                                "difference": [0.25, 0.0099], "beyond_tolerance": [True, False]})
    flags = disagreement_flags(consistency)
    assert sorted(zip(flags["city_code"], flags["variable"])) == [("a", "gdp"), ("a", "gdp_gp")]
    assert flags["reason"].iloc[0] == "gdp = 100 vs gdp_gp = 80 (pair p: difference 0.25)"
    assert "source_disagreement" not in MASKED_FLAGS
