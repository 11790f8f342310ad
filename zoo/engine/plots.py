"""Plots written into run directories (matplotlib, no display needed).

Drawn on `matplotlib.figure.Figure`, never through pyplot, so that no backend is
chosen or switched: a notebook's inline figures keep working after a run.
"""

import matplotlib.figure


def training_curves(history: list, headline: str, path) -> None:
    """Loss and the headline metric per epoch, train vs validation, as one PNG."""
    names = ["loss"] if headline == "loss" else ["loss", headline]
    figure = matplotlib.figure.Figure(figsize=(5 * len(names), 3.6))
    axes = figure.subplots(1, len(names), squeeze=False)
    for axis, name in zip(axes[0], names):
        for split, style in (("train", "-"), ("validation", "--")):
            records = [r for r in history if r["split"] == split and name in r]
            axis.plot([r["epoch"] for r in records], [r[name] for r in records], style, marker="o",
                      markersize=3, label=split)
        axis.set_xlabel("epoch")
        axis.set_ylabel(name)
        axis.grid(alpha=0.3)
        axis.legend()
    # Fixed margins, wide enough for the tick labels: tight_layout would draw the figure
    # once more to measure them, half again the time of a small run's whole plot.
    figure.subplots_adjust(left=0.16 if len(names) == 1 else 0.08, right=0.98, bottom=0.14, top=0.96, wspace=0.28)
    figure.savefig(path, dpi=100)
