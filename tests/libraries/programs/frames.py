"""A pandas job that fails on its data: a 10 000-row DataFrame of mixed dtypes and a Series."""
import numpy as np
import pandas as pd

ROWS = 10_000


def summarise(frame):
    names = frame["name"]
    totals = frame.groupby("kind", observed=True)["amount"].sum()
    late = frame.loc[frame["amount"] > 1.0, "id"]
    return names.str.len().max(), totals, late.iloc[0]


frame = pd.DataFrame({
    "id": np.arange(ROWS),
    "amount": np.linspace(0.0, 1.0, ROWS),
    "name": ["row%d" % i for i in range(ROWS)],
    "when": pd.date_range("2024-01-01", periods=ROWS, freq="min"),
    "kind": pd.Categorical(["a", "b"] * (ROWS // 2)),
    "flag": np.arange(ROWS) % 2 == 0,
})
summarise(frame)
