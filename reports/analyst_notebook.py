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
# # Analyst notebook: one wave, from the analysed partnerships to the tables
#
# Written by `pulsecheck run` (and `pulsecheck report`) from the template
# `reports/analyst_notebook.py` and executed in the run folder's `internal/` folder. It is a
# starting point for your own analysis: it reads only the run folder and uses only pandas,
# matplotlib and pulsecheck's public functions (`import pipeline`; see `pipeline.__all__`), so
# it runs wherever pulsecheck is installed — copy the run folder anywhere, open this notebook
# in its `internal/` folder and run all cells. Change the parameters cell to look at another
# question. Numbers here are the **analyst's**: small cells are shown with a flag, not hidden —
# do not forward this notebook outside the research team.

# %% tags=["parameters"]
# Parameters (papermill-style: this cell is tagged "parameters").
run_dir = None          # the run folder; None: the folder holding this notebook's internal/
question = None         # a single-choice question for the worked examples; None: chosen below
table_ids = None        # a list of table ids to show in section 6, or None for every table
top_items = 14          # items shown in the charts by phase

# %%
import io
import textwrap
from pathlib import Path

import pandas as pd
from IPython.display import SVG, Markdown, display
from matplotlib import rcParams
from matplotlib.figure import Figure

import pipeline

pd.set_option("display.max_rows", 200)
pd.set_option("display.max_colwidth", 80)
rcParams["svg.hashsalt"] = "pulsecheck"  # the same SVG on every run


def find_run_folder(start: Path) -> Path:
    """The run folder at or above ``start`` (this notebook lives in its internal/)."""
    for folder in (start, *start.parents[:2]):
        if (folder / "run.json").is_file() and (folder / "published" / "report.json").is_file():
            return folder
    raise FileNotFoundError("No run folder here: set run_dir to the folder `pulsecheck run` "
                            "wrote (the one holding run.json).")


def show_figure(figure: Figure) -> None:
    """Display a matplotlib figure as SVG (no date stamp, so reruns give the same file)."""
    buffer = io.StringIO()
    figure.savefig(buffer, format="svg", bbox_inches="tight", metadata={"Date": None})
    display(SVG(buffer.getvalue()))


run = Path(run_dir) if run_dir else find_run_folder(Path.cwd().resolve())
internal = run / "internal"
bundle = pipeline.load_run(run)  # the run's tables, tests, findings, flow and issues
context, manifest = bundle.context, bundle.manifest
settings = context["settings"]
level = settings["level"]  # the run's confidence level (tables.toml)
level_text = f"{100 * level:g}%"
display(Markdown(f"**{context['title']}** — instrument {context['instrument']['id']} "
                 f"{context['instrument']['version']}; phases from the "
                 f"**{context['basis']}** placement; pulsecheck {manifest['pulsecheck']}."))

# %% [markdown]
# ## 1. The flow of exclusions
# Every raw submission is accounted for: each step removes rows for one stated reason.

# %%
display(bundle.flow[["step", "n_in", "n_removed", "n_out", "reason"]])

# %% [markdown]
# ## 2. Data issues
# One row per catalogue code: how many problems and an example (`pulsecheck explain CODE`
# tells what a code means). The full list with row and column is `issues.csv`.

# %%
if len(bundle.issues):
    display(bundle.issues.groupby(["code", "severity"], sort=True)
            .agg(count=("code", "size"), example=("message", "first")).reset_index())
else:
    display(Markdown("No data issues."))

# %% [markdown]
# ## 3. The analysed partnerships, labelled
# `partnerships.csv` has one row per analysed partnership; a single-choice answer is its
# choice name, a check-all item a 0/1 column `question/choice`. `codebook.csv` gives every
# column's question text (`label`) and, in `csv_values`, the label of each value the CSV
# holds: with it the answers become ordered categories with readable labels.

# %%
codebook = pd.read_csv(internal / "codebook.csv", dtype=str, keep_default_na=False)
raw = pd.read_csv(internal / "partnerships.csv", dtype=str, keep_default_na=False,
                  na_values=[""])


def value_labels(text: str) -> dict[str, str]:
    """``"yes=Yes; no=No"`` → ``{"yes": "Yes", "no": "No"}`` (a codebook's csv_values)."""
    return dict(pair.split("=", 1) for pair in text.split("; ") if "=" in pair)


variable_labels = dict(zip(codebook["source"], codebook["label"]))
answer_labels = {row.source: value_labels(row.csv_values) for row in codebook.itertuples()
                 if row.csv_values}
labelled = raw.copy()
for name, labels in answer_labels.items():
    labelled[name] = pd.Categorical(raw[name].map(labels),
                                    categories=list(dict.fromkeys(labels.values())))
for row in codebook.itertuples():
    if row.type == "numeric" and row.source not in answer_labels:
        labelled[row.source] = pd.to_numeric(raw[row.source])
key = context["respondent_key"]
phase = "phase_group"
phases = list(context["phase_order"])
display(Markdown(f"{len(labelled)} partnerships, {labelled.shape[1]} columns. The first "
                 "columns of the codebook:"))
display(codebook[["source", "label", "type", "csv_values"]].head(12))

# %%
# A single-choice question for the worked examples: the parameter, or the first by-phase
# single-choice table of the report whose question is a column here (the phase-distinctive
# rule's tables first).
rule = context.get("distinctive") or {}
specs = {t["id"]: t for t in context["tables"]}
ordered = [specs[t] for t in rule.get("tables", []) if t in specs] + list(context["tables"])
candidates = [t for t in ordered if t["kind"] == "single" and t["row"] in answer_labels
              and t["row"] != phase]
example = next((t for t in candidates if t["row"] == question), None) if question \
    else (candidates[0] if candidates else None)
row_var = example["row"] if example else None
# Compared by phase, or (in a wave that did not ask for a phase) with a second question.
col_var = phase if bundle.has_phases else next(
    (t["row"] for t in candidates if t["row"] != row_var), None)
col_levels = phases if bundle.has_phases else list(answer_labels.get(col_var, {}))
display(Markdown(f"Worked examples: **{variable_labels.get(row_var, row_var)}** (`{row_var}`) "
                 f"by **{variable_labels.get(col_var, col_var)}** (`{col_var}`)."))
display(labelled[[key, col_var, row_var]].head(8))

# %% [markdown]
# ## 4. A worked crosstab
# Counts and column percentages with pandas, then Pearson's chi-squared test of association
# with `pipeline.pearson_chisq`. Partnerships without an answer (or without a phase) are left
# out, as in the report's tables.

# %%
answered = labelled[labelled[row_var].notna() & labelled[col_var].notna()]
answered = answered[answered[col_var].astype(str).isin(
    [answer_labels[col_var].get(c, c) for c in col_levels])]
counts = pd.crosstab(answered[row_var], answered[col_var].astype(str))
counts = counts.reindex(columns=[answer_labels[col_var].get(c, c) for c in col_levels],
                        fill_value=0)
counts = counts.loc[counts.sum(axis=1) > 0, counts.sum(axis=0) > 0]
display(Markdown("Counts (rows: answers; columns: groups):"))
display(counts.assign(All=counts.sum(axis=1)))
display(Markdown("Column percentages:"))
display((100 * counts / counts.sum(axis=0)).round(1))
test = pipeline.pearson_chisq(counts.to_numpy(), continuity=False)
display(Markdown(f"Pearson χ² = {test.statistic:.2f} on {test.df:g} degrees of freedom, "
                 f"p = {test.p_value:.2g}" + (f" ({'; '.join(test.warnings)})"
                                               if test.warnings else "") + "."))
run_test = bundle.tests[(bundle.tests["table_id"] == example["id"])
                        & bundle.tests["row_level"].isna()] if bundle.has_phases else None
if run_test is not None and len(run_test):
    display(Markdown("The run's own test of this table (`internal/tables/tests.csv`):"))
    display(run_test[["method", "statistic", "df", "p_value"]])

# %% [markdown]
# ## 5. A design-based proportion
# `pipeline.single_choice_table` computes the same table from `partnerships.csv` with
# intervals from a survey design. The Pulse Check is a voluntary survey without weights,
# strata or clusters, so the design is `pipeline.SurveyDesign()` (a simple random sample,
# unweighted); for a wave with a design, name its columns, e.g.
# `pipeline.SurveyDesign(weights="weight", strata="region", cluster="psu")`. The logit
# interval below is the design-based (Taylor linearisation) interval of R's `svyciprop`; the
# run's own tables use the method of `tables.toml`, shown beside it.

# %%
design = pipeline.SurveyDesign()
choices = answer_labels[row_var]
# A partnership in no phase (or without an answer) counts in the All column only, as in the
# run's tables: its column value is left blank.
frame = raw.assign(**{col_var: raw[col_var].where(raw[col_var].isin(col_levels))})
result = pipeline.single_choice_table(
    frame, row_var, levels=list(choices), labels=choices, col=col_var, col_levels=col_levels,
    col_labels=answer_labels.get(col_var), design=design, ci_method="logit", level=level)
cells = result.table[result.table["row_type"].eq("level")]
target = cells.sort_values("pct", ascending=False)["row_level"].iloc[0]
mine = cells[cells["row_level"].eq(target)].set_index("col_level")
published = bundle.tables[example["id"]]
theirs = published[published["row_level"].astype(str).eq(str(target))].set_index("col_level")
comparison = pd.DataFrame({
    "n": mine["n"].astype(int), "base": mine["base_n"].astype(int),
    "%": mine["pct"].round(1), "se": mine["se"].round(2),
    f"logit {level_text} interval": [f"{lo:.1f}–{hi:.1f}" for lo, hi in
                                     zip(mine["ci_low"], mine["ci_high"])],
    f"run's {settings['ci_method']} interval": [
        f"{theirs.loc[c, 'ci_low']:.1f}–{theirs.loc[c, 'ci_high']:.1f}"
        if c in theirs.index and pd.notna(theirs.loc[c, "ci_low"]) else "" for c in mine.index],
}).set_axis([str(mine.loc[c, "col_label"]) for c in mine.index]).rename_axis(col_var)
display(Markdown(f"Share answering **{choices[target]}** to “{variable_labels[row_var]}” "
                 f"({design.describe()}):"))
display(comparison)
figure = Figure(figsize=(6.4, 0.45 * len(comparison) + 1.2))
axis = figure.subplots()
positions = range(len(comparison))
axis.errorbar(comparison["%"], positions,
              xerr=[mine["pct"] - mine["ci_low"], mine["ci_high"] - mine["pct"]],
              fmt="o", color="#0072b2", capsize=3)
axis.set_yticks(list(positions), list(comparison.index))
axis.invert_yaxis()
axis.set_xlim(0, 100)
axis.set_xlabel(f"% answering {choices[target]} ({level_text} logit interval)")
axis.set_title("\n".join(textwrap.wrap(variable_labels[row_var], 70)), fontsize=10)
show_figure(figure)

# %% [markdown]
# ## 6. Phase distribution and phase agreement

# %%
if bundle.has_phases:
    display(labelled[phase].value_counts(sort=False).rename("partnerships").to_frame())
else:
    display(Markdown("*This wave did not ask partnerships to place themselves in a phase: "
                     "there is no phase distribution, and every table is overall only.*"))
if bundle.agreement is not None:
    display(Markdown("Self-placement (rows) against the criteria-based placement (columns), "
                     "and Cohen's κ:"))
    pairs = bundle.agreement[bundle.agreement["measure"] == "count"]
    display(pairs.pivot(index="self_placement", columns="criteria_placement",
                        values="value").reindex(index=phases, columns=phases).astype(int))
    display(bundle.agreement[bundle.agreement["measure"] != "count"]
            [["measure", "value", "note"]])

# %% [markdown]
# ## 7. Every table the run wrote, with intervals and tests
# n, percent and interval per column; letters name the phase columns a cell is significantly
# higher than (pairwise tests, adjusted as each table's specification says). `*` marks a cell
# the disclosure rule hides in published outputs.

# %%
def wide(table: pd.DataFrame) -> pd.DataFrame:
    """A tidy table of the run as one row per answer and one column per group."""
    if "stat" in table.columns:
        return table.pivot_table(index="stat", columns="col_level", values="value",
                                 aggfunc="first", sort=False).round(1)
    body = table[table["row_type"].isin(["level", "item", "net", "missing"])]

    def text(cell: pd.Series) -> str:
        if pd.isna(cell["pct"]):
            return ""
        interval = "" if pd.isna(cell["ci_low"]) else \
            f" ({cell['ci_low']:.1f}–{cell['ci_high']:.1f})"
        letters = cell["sig_letters"] if isinstance(cell["sig_letters"], str) else ""
        flag = " *" if str(cell["suppressed"]).lower() == "true" else ""
        return f"{int(cell['n'])} · {cell['pct']:.1f}%{interval} {letters}{flag}".rstrip()

    shown = body.assign(shown=body.apply(text, axis=1))
    view = shown.pivot_table(index="row_label", columns="col_level", values="shown",
                             aggfunc="first", sort=False)
    view = view[[c for c in dict.fromkeys(shown["col_level"]) if c in view.columns]]
    bases = shown.drop_duplicates("col_level").set_index("col_level")["base_n"]
    view.loc["Base (partnerships)"] = [f"{int(bases[c])}" for c in view.columns]
    return view


display(Markdown(f"Intervals are {level_text} {settings['ci_method']} intervals."))
for spec in context["tables"]:
    if table_ids and spec["id"] not in table_ids:
        continue
    display(Markdown(f"### {spec['title']}  \n`{spec['id']}` · {spec['section']}"))
    display(wide(bundle.tables[spec["id"]]))
    tests = bundle.tests[bundle.tests["table_id"] == spec["id"]]
    if len(tests):
        display(tests[["row_level", "method", "statistic", "df", "p_value"]]
                .rename(columns={"row_level": "row"}).fillna({"row": "whole table"}))
    for footnote in spec["footnotes"]:
        display(Markdown(f"*{footnote}*"))

# %% [markdown]
# ## 8. Check-all questions by phase
# The most common items of each check-all table (those of the phase-distinctive rule first,
# then every other one, under the section of the questionnaire it belongs to), one dot per
# phase with its interval.

# %%
groups = phases if bundle.has_phases else ["All"]
colours = ["#0072b2", "#e69f00", "#009e73", "#cc79a7", "#56b4e9"]
ruled = [t for t in rule.get("tables", []) if specs[t]["kind"] == "multi"]
others = [t["id"] for t in context["tables"] if t["kind"] == "multi" and t["id"] not in ruled
          and t["id"] in bundle.tables]
heading = None
for table_id in ruled + others:
    section = specs[table_id].get("section") if table_id in others else None
    if section and section != heading:
        display(Markdown(f"### {section}"))
        heading = section
    table = bundle.tables[table_id]
    items = table[table["row_type"].eq("item") & table["col_level"].eq("All")] \
        .sort_values("pct", ascending=False).head(top_items)
    figure = Figure(figsize=(7.5, 0.32 * len(items) + 1.4))
    axis = figure.subplots()
    for offset, (group, colour) in enumerate(zip(groups, colours)):
        cells = table[table["col_level"].eq(group)].set_index("row_level") \
            .reindex(items["row_level"])
        y = [i + 0.2 * (offset - (len(groups) - 1) / 2) for i in range(len(items))]
        axis.errorbar(cells["pct"], y, xerr=[cells["pct"] - cells["ci_low"],
                                             cells["ci_high"] - cells["pct"]],
                      fmt="o", markersize=4, color=colour, capsize=2, label=group)
    axis.set_yticks(range(len(items)), [label[:48] for label in items["row_label"]])
    axis.invert_yaxis()
    axis.set_xlim(0, 100)
    axis.set_xlabel(f"% of partnerships ({level_text} interval)")
    axis.set_title(specs[table_id]["title"], fontsize=10)
    axis.legend(loc="lower right", fontsize=8)
    show_figure(figure)

# %% [markdown]
# ## 9. Phase-distinctive findings
# Items whose rate in one phase exceeds every other phase by the rule's margin, with the
# adjusted test (the rule is in the table specification).

# %%
if not rule:
    display(Markdown("*This wave has no phase-distinctive rule (it did not ask for a phase), "
                     "so there are no phase-distinctive findings.*"))
else:
    display(Markdown(f"Rule: difference ≥ {rule['min_difference']} points, "
                     f"{rule['adjust']}-adjusted q < {rule['alpha']}, "
                     f"phase base ≥ {rule['min_base']}."))
    chosen = bundle.findings[bundle.findings["distinctive"].astype(str).str.lower() == "true"]
    display(chosen[["phase", "table_id", "item_label", "rate", "n", "base_n", "other_rates",
                    "difference", "p_value", "q_value"]]
            .sort_values(["phase", "difference"], ascending=[True, False]))

# %% [markdown]
# ## 10. Assumptions in force
# Every guess and design choice this run relies on (the run's copy of the assumptions log,
# `published/assumptions.csv`); those the report's tables cite come first.

# %%
assumptions = pd.read_csv(run / "published" / "assumptions.csv", dtype=str,
                          keep_default_na=False)
assumptions["cited by the tables"] = assumptions["id"].isin(context.get("assumptions", []))
display(assumptions.sort_values("cited by the tables", ascending=False, kind="stable")
        .reset_index(drop=True))
