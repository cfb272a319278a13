# ---
# jupyter:
#   jupytext:
#     formats: py:percent
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %% [markdown]
# # Analyst notebook: trends across waves
#
# Written by `pulsecheck run` over a folder of waves (and `pulsecheck report` on the trends
# folder) from the template `reports/trends_notebook.py`, and executed in the trends folder's
# `internal/` folder. It reads only the CSV files written there (never `histories_review.csv`,
# which holds partnership names) and uses only pandas, matplotlib and pulsecheck's public
# functions (`import pipeline`), so it runs wherever pulsecheck is installed: copy the trends
# folder anywhere, open this notebook in its `internal/` folder and run all cells. Numbers
# here are the **analyst's**: every cell is shown — do not forward this notebook.

# %% tags=["parameters"]
# Parameters (papermill-style: this cell is tagged "parameters").
trends_dir = None        # the trends folder; None: the folder holding this notebook's internal/
measures = None          # a list of measure names to chart, or None for the changed ones
families = None          # a list of families to tabulate, or None for every family

# %%
import io
import textwrap
from pathlib import Path

import pandas as pd
from IPython.display import SVG, Markdown, display
from matplotlib import rcParams
from matplotlib.figure import Figure

import pipeline

pd.set_option("display.max_rows", 300)
pd.set_option("display.max_colwidth", 90)
rcParams["svg.hashsalt"] = "pulsecheck"  # the same SVG on every run


def find_trends_folder(start: Path) -> Path:
    """The trends folder at or above ``start`` (this notebook lives in its internal/)."""
    for folder in (start, *start.parents[:2]):
        if (folder / "run.json").is_file() and (folder / "internal" / "trends.csv").is_file():
            return folder
    raise FileNotFoundError("No trends folder here: set trends_dir to the folder "
                            "`pulsecheck run raw/<survey>` wrote (the one holding run.json).")


def show_figure(figure: Figure) -> None:
    """Display a matplotlib figure as SVG (no date stamp, so reruns give the same file)."""
    buffer = io.StringIO()
    figure.savefig(buffer, format="svg", bbox_inches="tight", metadata={"Date": None})
    display(SVG(buffer.getvalue()))


folder = Path(trends_dir) if trends_dir else find_trends_folder(Path.cwd().resolve())
bundle = pipeline.load_trends(folder)  # trends, changes, trend_tests, caveats, transitions
trends, changes = bundle.trends, bundle.changes
order = sorted(trends["wave"].astype(str).unique())
settings = bundle.manifest.get("settings", {}).get("trends", {})
level = float(settings.get("level", 0.95))
significant = changes["significant"].astype(str).str.lower().eq("true")
display(Markdown(f"Waves **{', '.join(order)}**; {trends['measure'].nunique()} harmonised "
                 f"measures; {len(changes)} tests of change, **{int(significant.sum())} "
                 "significant** after adjustment."))
if bundle.manifest.get("synthetic"):
    display(Markdown("**Synthetic sample data**: no real partnership is described here."))

# %% [markdown]
# ## 1. What changed
# The significant changes between consecutive comparable waves (q is the p-value adjusted
# over every test), largest first.

# %%
changed = changes[significant].assign(size=lambda f: f["difference"].abs()) \
    .sort_values("size", ascending=False)
if len(changed):
    display(changed[["label", "phase", "from_wave", "to_wave", "pct_from", "pct_to",
                     "difference", "q_value", "comparability"]].round(
                        {"pct_from": 1, "pct_to": 1, "difference": 1, "q_value": 4}))
else:
    display(Markdown("No change between waves is significant after adjustment."))

# %% [markdown]
# ## 2. Caveats
# Every caveat of `caveats.csv`; the first concerns every test of change.

# %%
display(bundle.caveats.drop_duplicates("caveat")[["measure", "label", "from_wave", "to_wave",
                                                  "caveat"]])

# %% [markdown]
# ## 3. The measures that changed, by wave
# One point per wave with its interval (all partnerships); lines join waves of one
# comparable series only; a hollow point is a wave compared with a caveat.

# %%
display(Markdown(f"Intervals at the {100 * level:g}% level (`trends.toml`)."))
chosen = list(measures) if measures else list(dict.fromkeys(
    changed.loc[changed["phase"].astype(str).eq("All"), "measure"]))
if not chosen:
    display(Markdown("*No measure changed significantly overall; set `measures` to chart "
                     "others.*"))
for measure in chosen:
    rows = trends[trends["measure"].eq(measure) & trends["phase"].astype(str).eq("All")] \
        .sort_values("wave")
    if rows.empty:
        display(Markdown(f"*No trend rows for `{measure}`.*"))
        continue
    figure = Figure(figsize=(5.6, 3.0))
    axis = figure.subplots()
    for series, points in rows.groupby("series", sort=True):
        x = [order.index(str(w)) for w in points["wave"]]
        caveat = points["comparability"].astype(str).eq("comparable_with_caveat")
        axis.plot(x, points["pct"], color="#0072b2", linewidth=1.5)
        axis.errorbar(x, points["pct"], yerr=[points["pct"] - points["ci_low"],
                                              points["ci_high"] - points["pct"]],
                      fmt="none", ecolor="#0072b2", capsize=3)
        axis.scatter([v for v, c in zip(x, caveat) if not c],
                     points.loc[~caveat.to_numpy(), "pct"], color="#0072b2", zorder=3)
        axis.scatter([v for v, c in zip(x, caveat) if c], points.loc[caveat.to_numpy(), "pct"],
                     facecolor="white", edgecolor="#0072b2", zorder=3)
    axis.set_xticks(range(len(order)), order)
    axis.set_xlim(-0.5, len(order) - 0.5)
    axis.set_ylim(0, 100)
    axis.set_ylabel("% of partnerships")
    axis.set_title("\n".join(textwrap.wrap(str(rows["label"].iloc[0]), 60)), fontsize=10)
    show_figure(figure)

# %% [markdown]
# ## 4. Every measure, waves as columns
# n/base, percent and interval per wave and phase (tidy rows are in `trends.csv`).

# %%
def by_wave(rows: pd.DataFrame) -> pd.DataFrame:
    """One measure's rows with a row per phase and n/base, % and interval per wave."""
    text = rows.assign(
        cell=[f"{int(n)}/{int(b)} · {p:.1f}% ({lo:.1f}–{hi:.1f})" for n, b, p, lo, hi in
              zip(rows["n"], rows["base_n"], rows["pct"], rows["ci_low"], rows["ci_high"])])
    view = text.pivot_table(index="phase", columns="wave", values="cell", aggfunc="first",
                            sort=False)
    return view.reindex(columns=[w for w in order if w in view.columns]).fillna("")


for family, rows in trends.groupby("family", sort=False):
    if families and family not in families:
        continue
    display(Markdown(f"### {family}"))
    for measure, group in rows.groupby("measure", sort=False):
        display(Markdown(f"**{group['label'].iloc[0]}** (`{measure}`)"))
        display(by_wave(group))

# %% [markdown]
# ## 5. Tests of change
# Consecutive comparable waves; q is the adjusted p-value. Significant changes first.

# %%
display(changes.assign(_sig=significant)
        .sort_values(["_sig", "q_value", "p_value"], ascending=[False, True, True])
        [["label", "phase", "from_wave", "to_wave", "pct_from", "pct_to", "difference",
          "test", "p_value", "q_value", "significant", "comparability"]].round(3))

# %% [markdown]
# ### A worked test of change
# The first significant change again, from its two percentages and bases, with
# `pipeline.pearson_chisq` (two independent samples; the caveats say why that is approximate).

# %%
if len(changed):
    first = changed.iloc[0]
    cells = trends[trends["measure"].eq(first["measure"])
                   & trends["phase"].astype(str).eq(str(first["phase"]))].set_index("wave")
    table = [[int(cells.loc[w, "n"]), int(cells.loc[w, "base_n"] - cells.loc[w, "n"])]
             for w in (str(first["from_wave"]), str(first["to_wave"]))]
    test = pipeline.pearson_chisq(table, continuity=False)
    display(pd.DataFrame(table, index=[str(first["from_wave"]), str(first["to_wave"])],
                         columns=["yes", "no"]))
    display(Markdown(f"{first['label']} ({first['phase']}): χ² = {test.statistic:.2f}, "
                     f"p = {test.p_value:.4g}; `trend_changes.csv` says "
                     f"{first['statistic']:.2f} ({first['test']}), p = {first['p_value']:.4g}."))

# %% [markdown]
# ## 6. Trend tests over each series

# %%
display(bundle.trend_tests[["label", "phase", "series", "waves", "statistic", "p_value",
                            "q_value"]].round(3))

# %% [markdown]
# ## 7. Phase transitions of linked partnerships
# The analyst's counts: rows the phase in the earlier wave, columns the later one.

# %%
for (first_wave, second_wave), group in bundle.transitions.groupby(["from_wave", "to_wave"],
                                                                    sort=True):
    display(Markdown(f"From {first_wave} (rows) to {second_wave} (columns)"))
    display(group.pivot_table(index="from_phase", columns="to_phase", values="count",
                              aggfunc="sum", sort=False, fill_value=0))
if bundle.transitions.empty:
    display(Markdown("*No partnership is linked across waves.*"))

# %% [markdown]
# ## 8. What changed for partnerships that moved phase

# %%
display(bundle.movers)
