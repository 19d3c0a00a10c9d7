"""Charts of the SGD-noise model (SPEC §9): a schedule's curve predicted from one constant-LR run."""
from __future__ import annotations

import altair as alt
import pandas as pd

from . import HEIGHT, WIDTH


def prediction(curve: pd.DataFrame, label: str, title: str = "") -> alt.Chart:
    """The reference's loss at equal τ and the predicted loss of schedule `label` against step, log-log
    (`analysis.schedules.predict_schedule`'s frame)."""
    data = curve[curve["step"] > 0]
    long = pd.concat([pd.DataFrame({"step": data["step"], "loss": data["loss_const"], "curve": "constant LR at equal τ"}),
                      pd.DataFrame({"step": data["step"], "loss": data["loss_pred"], "curve": f"predicted: {label}"})])
    return (
        alt.Chart(long, title=title, width=WIDTH, height=HEIGHT)
        .mark_line()
        .encode(x=alt.X("step", scale=alt.Scale(type="log"), title="step"),
                y=alt.Y("loss", scale=alt.Scale(type="log", nice=False), title="test loss"),
                color=alt.Color("curve", title=None),
                tooltip=["curve", "step", alt.Tooltip("loss", format=".4g")])
        .interactive()
    )
