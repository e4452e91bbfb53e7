"""Workflow tests on the real data: the default config run end to end on the mirror, in a temporary copy."""
import json
import shutil

import pandas as pd
import pytest
import yaml

from scripts.retrieve import source_files
from tests.conftest import require_mirror
from tests.workflow_support import copy_project, snakemake, stage_path


@pytest.fixture(scope="module")
def real_run(tmp_path_factory):
    """The default (real-data) config run end to end on the mirror."""
    mirror = require_mirror()
    work = copy_project(tmp_path_factory.mktemp("real"))
    done = snakemake(work, env={"CITYRES_MIRROR": str(mirror)})
    assert done.returncode == 0, done.stderr[-4000:]
    return work / "results" / "real"


def test_real_data_regression_sample(real_run):
    drop = json.loads((real_run / "models" / "baseline-drop.json").read_text())
    recovery = json.loads((real_run / "models" / "baseline-recovery.json").read_text())
    sar = json.loads((real_run / "models" / "spatial-sar.json").read_text())
    assert {i["impact"] for i in sar["impacts"]} == {"direct", "indirect", "total"}
    assert drop["n"] >= 280 and recovery["n"] >= 280 and sar["n"] == drop["n"]
    assert "420100" not in drop["sample"]  # Wuhan: the origin of the outflow-share control has no value


def test_real_data_joins_and_attrition(real_run):
    attrition = pd.read_csv(stage_path(real_run, "data", "attrition.csv"), dtype=str)
    recoded = attrition[(attrition["source"] == "csmar_gdp") & (attrition["outcome"] == "recoded by crosswalk")]
    assert {"110000 -> 110100", "371200 -> 370100", "469003 -> 460400"} <= set(recoded["units"])
    dropped = attrition[(attrition["source"] == "csmar_gdp") & (attrition["outcome"] == "dropped by crosswalk")]
    assert set(dropped["units"]) == {"341400", "429000"}
    panel = pd.read_parquet(stage_path(real_run, "data", "panel.parquet"))
    gdp_2019 = panel.loc[panel["year"] == 2019, "gdp"]
    assert gdp_2019.notna().sum() >= 330
    # Jinan includes Laiwu before the 2019 merger: no break at 2019 (CSMAR Jinan alone 2018 ≈ 7,857).
    jinan = panel[panel["city_code"] == "370100"].set_index("year")["gdp"]
    assert jinan[2018] > 8500 and abs(jinan[2019] / jinan[2018] - 1) < 0.10


def test_real_data_centralities_and_weights(real_run):
    centrality = pd.read_parquet(stage_path(real_run, "centrality/gravity", "centrality.parquet"))
    c2019 = centrality[centrality["year"] == 2019].pivot(index="city_code", columns="measure", values="value")
    assert len(c2019) >= 330 and c2019[["strength", "closeness", "betweenness"]].notna().all().all()
    assert c2019["betweenness"].between(0, 1).all()
    flows = pd.read_parquet(stage_path(real_run, "network/baidu_flows", "edges.parquet"))
    assert flows["source"].nunique() >= 330 and set(flows["year"]) == {2020}
    summary = json.loads(stage_path(real_run, "weights", "queen.summary.json").read_text())
    assert summary["n"] == 369 and summary["islands"] == ["460300"]  # Sansha (South China Sea islands)


def test_real_data_quality_flags_and_evidence(real_run):
    flags = pd.read_csv(stage_path(real_run, "quality", "quality_flags.csv"), dtype={"city_code": str})
    jinan = flags[(flags["city_code"] == "370100") & (flags["flag"] == "admin_change")]
    assert set(jinan["year"]) == {2019}                          # Laiwu merged into Jinan (crosswalk valid_to 2018)
    census_gaps = flags[(flags["variable"] == "pop_census") & (flags["flag"] == "gap")]
    assert census_gaps.empty                                     # observed only in census years: no gaps
    # Siping's 2020 nominal GDP fell 35 % while Jilin's median city barely moved (a jump on both robust scales): a
    # statistical revision, which the official real growth index does not show (no flag on real GDP)
    siping = flags[(flags["city_code"] == "220300") & (flags["year"] == 2020)]
    assert siping.loc[siping["variable"] == "gdp", "flag"].tolist() == ["jump"]
    assert "real_gdp" not in set(siping["variable"])
    jiaozuo = flags[(flags["city_code"] == "410800") & (flags["variable"] == "real_gdp") & (flags["year"] == 2020)]
    assert jiaozuo["flag"].tolist() == ["jump"] and (jiaozuo[["z_city", "z_province"]].abs() > 3.5).all(axis=None)
    evidence = pd.read_csv(real_run / "tables" / "evidence.csv").set_index(["shock", "hypothesis"])
    assert len(evidence) == 37 and evidence.loc[("covid_2020", "H5e"), "verdict"] == "inactive"
    h5a = evidence.loc[("covid_2020", "H5a")]      # active on the provincial-share proxy (moderation-concentration)
    assert h5a["verdict"] != "inactive" and "province" in h5a["proxy"] and h5a["primary_spec"] == "moderation-concentration"
    assert evidence["primary_file"].dropna().str.startswith("results/real/models/").all()
    assert evidence.loc["omicron_2022"].index.tolist() == ["H1a", "H1b", "H1c", "H2a", "H2b", "H2c", "H3a", "H3b", "H3c",
                                                           *PROXIED]
    unflagged = json.loads((real_run / "models" / "quality-drop.json").read_text())
    assert "410800" in unflagged["dropped"]["data-quality flag on the outcome"] and "410800" not in unflagged["sample"]


PROXIED = ["H5a", "H5a-capital", "H5a-human", "H5a-urban", "H5b", "H5b-degree", "H5b-clustering"]


def test_real_data_proxies_of_the_dilemmas(real_run):
    panel = pd.read_parquet(stage_path(real_run, "data", "panel.parquet")).set_index(["city_code", "year"])
    depth, census = panel.xs(2019, level="year")["financial_depth"], panel.xs(2020, level="year")
    # national (loans + deposits) / GDP was ≈ 3.9 in 2019, and cities below the provincial capitals hold less credit
    assert depth.notna().sum() >= 290 and 1.0 < depth.median() < 3.9
    # Beijing's urbanisation by hand from the census: 19,166,433 urban of 21,893,095 residents
    assert census.at["110100", "urbanisation"] == pytest.approx(100 * 19166433 / 21893095)
    assert census["working_age_share"].between(40, 90).sum() >= 300
    # a rate of a merged unit is not summed: Jinan + Laiwu's CSMAR growth (2015) is missing, not ≈ 15 %
    assert pd.isna(panel.at[("370100", 2015), "gdp_index_csmar"])
    consistency = pd.read_csv(stage_path(real_run, "data", "source_consistency.csv"), dtype={"city_code": str})
    finance = consistency[consistency["pair"] == "finance_file_gdp"].groupby("year")["beyond_tolerance"].mean()
    assert finance[2019] < 0.02 and finance[2016] > 0.2        # like the nominal GDP: revised levels before 2019
    capital = json.loads((real_run / "models" / "moderation-capital.json").read_text())
    assert capital["dropped"]["moderator value flagged as a one-year spike"] == ["220300"]   # Siping's deposits ×11
    flows = pd.read_parquet(stage_path(real_run, "centrality/baidu_flows_all", "centrality.parquet"))
    top3 = flows[flows["measure"] == "top3_share"].set_index("city_code")["value"]
    assert top3.notna().sum() >= 300 and top3.between(0, 1).all() and top3["420100"] < 0.5   # Wuhan's outflow spreads
    evidence = pd.read_csv(real_run / "tables" / "evidence.csv").set_index(["shock", "hypothesis"])
    proxied = evidence.loc["covid_2020"].loc[PROXIED]
    assert (proxied["verdict"] != "inactive").all() and proxied["proxy"].notna().all()
    assert (proxied["family"] == "dilemmas").all()
    effects = pd.read_csv(real_run / "tables" / "marginal_effects.csv")
    assert {"moderation-capital", "moderation_panel-capital", "moderation_omicron-sparse_ties"} <= set(effects["model"])
    assert (real_run / "figures" / "marginal_effects_capital_panel.png").stat().st_size > 0


def test_real_data_official_real_gdp_and_source_consistency(real_run):
    panel = pd.read_parquet(stage_path(real_run, "data", "panel.parquet")).set_index(["city_code", "year"])
    chained = panel["real_gdp"].unstack()
    assert chained[2019].notna().sum() >= 320 and chained[2023].notna().sum() >= 290
    assert chained[2000].notna().sum() >= 320                   # the official index chained from 2000
    # the chain by hand for Jiaozuo: G-P's 2019 nominal level × its official indices for 2020 (79.0) and 2021
    jiaozuo = panel.loc["410800"]
    assert jiaozuo.at[2020, "gdp_index_gp"] == pytest.approx(79.0, abs=0.05)
    assert chained.at["410800", 2019] == pytest.approx(jiaozuo.at[2019, "gdp_gp"])
    assert chained.at["410800", 2021] == pytest.approx(
        jiaozuo.at[2019, "gdp_gp"] * jiaozuo.at[2020, "gdp_index_gp"] / 100 * jiaozuo.at[2021, "gdp_index_gp"] / 100)
    # a city G-P lacks takes CSMAR's index: the chain exists where only CSMAR reports
    only_csmar = panel["gdp_index_gp"].isna() & panel["gdp_index_csmar"].notna() & panel["real_gdp"].notna()
    assert only_csmar.groupby(level="city_code").any().sum() >= 30
    # CSMAR's 2021 "growth" of 108.9 for Gansu cities is an index: the consistency table shows it, the chain avoids it
    jinchang = panel.loc["620300"]
    assert jinchang.at[2021, "gdp_growth_csmar"] > 100 and chained.at["620300", 2021] / chained.at["620300", 2020] < 1.2
    consistency = pd.read_csv(stage_path(real_run, "data", "source_consistency.csv"), dtype={"city_code": str})
    nominal = consistency[consistency["pair"] == "nominal_gdp"]
    by_year = nominal.groupby("year")["beyond_tolerance"].mean()
    assert by_year[2019] < 0.02 and by_year[2016] > 0.2     # revised levels before 2019, agreement from 2019


def test_real_data_two_shocks_gap_paths_and_the_panel_to_2023(real_run):
    def resilience(name: str) -> pd.DataFrame:
        return pd.read_parquet(stage_path(real_run, "resilience", name))

    measures = pd.concat([resilience("resilience.parquet").assign(shock="covid_2020"),
                          resilience("resilience_shocks.parquet")])
    drops = measures[(measures["outcome"] == "real_gdp") & (measures["measure"] == "drop")]
    assert drops.groupby("shock")["value"].count().min() >= 290          # both shocks, ≥ 290 cities
    gaps = resilience("resilience_gaps.parquet")
    gdp = gaps[gaps["outcome"] == "real_gdp"].set_index(["shock", "city_code", "year"])
    assert gdp.loc["covid_2020"].index.get_level_values("year").max() == 2023
    # the share closed by 2023, by hand from the counterfactual paths: 1 − g_2023 / g_2020
    paths = resilience("resilience_paths.parquet")
    wuhan = paths[(paths["outcome"] == "real_gdp") & (paths["city_code"] == "420100")].set_index("year")
    g = wuhan["actual_log"] - wuhan["counterfactual_log"]
    assert g[2020] < 0 and gdp.at[("covid_2020", "420100", 2023), "share_closed"] == pytest.approx(1 - g[2023] / g[2020])
    assert gdp.at[("covid_2020", "420100", 2023), "cumulative_gap"] == pytest.approx(g.loc[2020:2023].sum())
    panel = json.loads((real_run / "models" / "panel-cluster_city.json").read_text())
    terms = {c["term"] for c in panel["coefficients"]}
    assert {"dc_x_post", "dc_x_omicron_2022", "cc_x_omicron_2022"} <= terms and panel["diagnostics"]["periods"] == 13
    held = json.loads((real_run / "models" / "panel_pre_shock.json").read_text())
    assert "dc" not in {c["term"] for c in held["coefficients"]} and held["diagnostics"]["entities"] >= 330
    timing = {y: json.loads((real_run / "models" / f"omicron_timing-{y}.json").read_text()) for y in (2019, 2021)}
    assert timing[2019]["spec"]["centrality_year"] == 2019 and timing[2021]["spec"]["centrality_year"] == 2021
    resident = pd.read_parquet(stage_path(real_run, "centrality/gravity_resident", "centrality.parquet"))
    assert resident.loc[resident["year"] == 2022, "city_code"].nunique() >= 290


def test_real_data_resilience_profile_for_both_shocks(real_run):
    ranking = pd.read_csv(real_run / "tables" / "resilience_ranking.csv", dtype={"city_code": str})
    for shock in ("covid_2020", "omicron_2022"):
        composite = ranking[(ranking["shock"] == shock) & (ranking["outcome"] == "real_gdp")
                            & (ranking["measure"] == "composite")]
        assert len(composite) >= 290 and composite["value"].between(0, 100).all()
        assert composite[["rank_low", "rank_high", "p_top", "p_bottom"]].notna().all().all()
    extremes = (real_run / "tables" / "resilience_extremes.md").read_text()
    assert "P(top k)" in extremes and "rank 95%" in extremes
    screening = pd.read_parquet(stage_path(real_run, "resilience", "resilience_screening.parquet"))
    share = screening[screening["outcome"] == "real_gdp"].groupby("year")["shock"].mean()
    assert share.idxmax() == 2020 and share[2020] > 3 * share.drop(2020).max()   # the pandemic stands out
    window = pd.read_csv(real_run / "tables" / "quality_window.csv")
    assert "screened shock" in window.columns


def test_raw_data_cache_survives_a_failed_offline_retrieval(real_run, tmp_path):
    """The cache data/raw is no rule's output: a retrieval that fails (offline, no mirror, one pin changed) leaves
    every cached file in place, byte for byte; the copies under the data stage's raw/ are the rule's outputs."""
    work = copy_project(tmp_path / "work")
    shutil.copytree(real_run.parent.parent / "data" / "raw", work / "data" / "raw")
    store = {str(p): p.read_bytes() for p in sorted((work / "data" / "raw").rglob("*")) if p.is_file()}
    config = (work / "config.yaml").read_text(encoding="utf-8")
    assert len(store) == len(source_files(yaml.safe_load(config)))      # every file of config.yaml's sources
    pinned = "5ec38a6ebabf4b92166e43d922631a8b7f1d2a2c8a8961cb7361932e28f034ec"     # the COVID file
    (work / "config.yaml").write_text(config.replace(pinned, "ab" * 32), encoding="utf-8")
    (work / "offline.yaml").write_text("allow_network: false\n", encoding="utf-8")
    done = snakemake(work, "--configfile", "offline.yaml", env={"CITYRES_MIRROR": str(tmp_path / "no-mirror")})
    assert done.returncode != 0 and "1 source file(s) could not be retrieved" in done.stdout + done.stderr
    assert {str(p): p.read_bytes() for p in sorted((work / "data" / "raw").rglob("*")) if p.is_file()} == store
    (work / "config.yaml").write_text(config, encoding="utf-8")       # the right pin: everything from the cache
    done = snakemake(work, "--configfile", "offline.yaml", "--until", "retrieve",
                     env={"CITYRES_MIRROR": str(tmp_path / "no-mirror")})
    assert done.returncode == 0, done.stderr[-3000:]
    # the failed retrieval had another pin, so another data folder: the one with a record of origins is this one
    [origins] = (work / "results" / "shared" / "data").glob("*/logs/retrieve_origins.tsv")
    assert origins.read_text(encoding="utf-8").count("\tcache") == len(store)
    assert (origins.parent.parent / "raw").is_dir()
