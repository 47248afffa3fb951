#!/usr/bin/env python3
"""Draws models/hirl.curves.csv (written by `hirl-scale train hirl`) as screenshots/hirl-curves.svg: one small panel
per series, x = training iteration (behaviour cloning first), stage boundaries as dotted lines. Standard library only."""
import csv
import sys

src = sys.argv[1] if len(sys.argv) > 1 else "models/hirl.curves.csv"
out = sys.argv[2] if len(sys.argv) > 2 else "screenshots/hirl-curves.svg"
rows = list(csv.DictReader(open(src)))
series = [
    ("validation_score", "validation score (reward/min, higher is better)"),
    ("breach_rate", "P0/P1 breach rate in training episodes"),
    ("c_slo_adherence", "Commander: SLO adherence term"),
    ("c_cost", "Commander: cost term"),
    ("s_slo_adherence", "Soldiers: SLO adherence term"),
    ("s_cold_starts", "Soldiers: cold-start term"),
    ("s_oscillation", "Soldiers: oscillation term (replica changes per app-hour)"),
    ("s_cost", "Soldiers: cost term"),
    ("commander_kl", "Commander KL to pre-update policy"),
    ("soldier_kl", "Soldier KL to pre-update policy"),
    ("commander_value_loss", "Commander value loss"),
    ("soldier_value_loss", "Soldier value loss"),
]
W, H, cols = 360, 170, 2
pad = 34
n = len(rows)
svg = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{W*cols}" height="{H*((len(series)+1)//cols)}" font-family="sans-serif" font-size="11">',
       f'<rect width="100%" height="100%" fill="white"/>']
for k, (col, title) in enumerate(series):
    x0, y0 = (k % cols) * W, (k // cols) * H
    vals = [float(r[col]) for r in rows]
    pts = [(i, v) for i, v in enumerate(vals) if not (r := rows[i])["stage"].startswith("behaviour") or col == "validation_score"]
    lo, hi = min(v for _, v in pts), max(v for _, v in pts)
    if hi == lo:
        hi = lo + 1e-9
    sx = lambda i: x0 + pad + (W - 2 * pad) * i / max(n - 1, 1)
    sy = lambda v: y0 + H - pad + 8 - (H - 2 * pad) * (v - lo) / (hi - lo)
    svg.append(f'<text x="{x0+pad}" y="{y0+16}" font-weight="bold">{title}</text>')
    svg.append(f'<line x1="{x0+pad}" y1="{y0+H-pad+8}" x2="{x0+W-pad}" y2="{y0+H-pad+8}" stroke="#999"/>')
    svg.append(f'<text x="{x0+2}" y="{sy(hi)+4:.1f}" fill="#555">{hi:.3g}</text><text x="{x0+2}" y="{sy(lo)+4:.1f}" fill="#555">{lo:.3g}</text>')
    prev = None
    for i, r in enumerate(rows):
        if prev is not None and r["stage"] != prev:
            svg.append(f'<line x1="{sx(i)-2:.1f}" y1="{y0+24}" x2="{sx(i)-2:.1f}" y2="{y0+H-pad+8}" stroke="#bbb" stroke-dasharray="2,3"/>')
        prev = r["stage"]
    path = " ".join(f"{sx(i):.1f},{sy(v):.1f}" for i, v in pts)
    svg.append(f'<polyline points="{path}" fill="none" stroke="#1f77b4" stroke-width="1.6"/>')
    for i, v in pts:
        svg.append(f'<circle cx="{sx(i):.1f}" cy="{sy(v):.1f}" r="1.8" fill="#1f77b4"/>')
    svg.append(f'<text x="{x0+W/2-40}" y="{y0+H-6}" fill="#555">iteration (0 = cloning)</text>')
svg.append("</svg>")
open(out, "w").write("\n".join(svg))
print(f"wrote {out} ({n} iterations)")
