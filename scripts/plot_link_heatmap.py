#!/usr/bin/env python3
"""Draws a mesh run's link utilisation as a picture of the mesh.

Reads the report's interconnect.per_router grids (docs/report.md; only the `mesh` kind has
them) and draws

  (a) the routers as grey squares at their grid positions (x to the right, y downwards, so
      north, y - 1, is up) and every directed link as an arrow between neighbours, coloured by
      its utilisation: flits sent over it per cycle of the whole run (report
      interconnect.per_router.link_utilisation; 1 = a flit in every cycle). The two directions
      of a link are drawn side by side, each on the right-hand side of its direction of travel.
      One colour bar serves all links.
  (b) unless --router-metric none: each router coloured by its time-averaged buffer occupancy
      (flits buffered, `occupancy`, the default) or by its stall cycles (cycles in which an
      input port held a flit ready to leave and sent nothing, summed over its ports, `stalls`).

Works for any W x H mesh. Needs matplotlib (Debian: apt-get install python3-matplotlib).

Example:
  build/aimcsim run --chip configs/hermes.yaml --workload workloads/synthetic/transpose \\
      --set traffic.rate=0.12 -q --out transpose.json
  /usr/bin/python3 scripts/plot_link_heatmap.py transpose.json transpose.png
"""

import argparse
import json
import sys
import textwrap

DIRECTIONS = {"east": (1, 0), "west": (-1, 0), "north": (0, -1), "south": (0, 1)}  # (dx, dy), y down


def fail(msg):
    print(f"plot_link_heatmap.py: error: {msg}", file=sys.stderr)
    sys.exit(1)


def load(path):
    try:
        with open(path) as f:
            report = json.load(f)
    except OSError as e:
        fail(f"cannot read {path}: {e.strerror}")
    except ValueError as e:
        fail(f"{path} is not JSON: {e}")
    ic = report.get("interconnect") if isinstance(report, dict) else None
    if not isinstance(ic, dict):
        fail(f"{path} has no interconnect section: is it an aimcsim report?")
    grids = ic.get("per_router")
    if not isinstance(grids, dict) or "link_utilisation" not in grids:
        fail(f"{path}: the interconnect (kind '{ic.get('kind', '?')}') reports no per_router grids; "
             "only the mesh kind has per-link statistics")
    links = grids["link_utilisation"]
    if not all(isinstance(links.get(d), list) for d in DIRECTIONS):
        fail(f"{path}: interconnect.per_router.link_utilisation lacks one of {', '.join(DIRECTIONS)}")
    h = len(links["east"])
    w = len(links["east"][0]) if h else 0
    if w == 0 or any(len(links[d]) != h or any(len(row) != w for row in links[d]) for d in DIRECTIONS):
        fail(f"{path}: interconnect.per_router grids are empty or not all {w} x {h}")
    return report, grids, w, h


def title_of(report, path):
    ic = report["interconnect"]
    parts = [report.get("chip", {}).get("name", path)]
    tr = report.get("traffic")
    if isinstance(tr, dict):
        parts.append(f"{tr['pattern']} traffic at rate {tr['rate']:g} flits/node/cycle")
    else:
        parts.append(f"workload {report.get('workload', {}).get('name', '?')}")
    total = report.get("latency", {}).get("total_cycles")
    if total is not None:
        parts.append(f"{total} cycles")
    parts.append(f"mean link utilisation {ic.get('mean_link_utilisation', 0):.3f}, "
                 f"max {ic.get('max_link_utilisation', 0):.3f}")
    return ", ".join(parts)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("report", help="a JSON report of a run on a mesh (aimcsim run --out)")
    ap.add_argument("png", help="the picture to write")
    ap.add_argument("--router-metric", choices=["occupancy", "stalls", "none"], default="occupancy",
                    help="second panel: buffer occupancy (default), stall cycles, or none")
    ap.add_argument("--vmax", type=float,
                    help="utilisation at the top of the colour scale (default: the largest link's)")
    ap.add_argument("--dpi", type=int, default=100, help="resolution (default: 100)")
    args = ap.parse_args()

    report, grids, w, h = load(args.report)
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
        from matplotlib import cm, colors
        from matplotlib.patches import FancyArrow, Rectangle
    except ImportError:
        fail("matplotlib is missing (Debian: apt-get install python3-matplotlib)")

    links = grids["link_utilisation"]
    values = [links[d][y][x] for d in DIRECTIONS for y in range(h) for x in range(w) if links[d][y][x] is not None]
    vmax = args.vmax if args.vmax else max(values + [1e-9])
    norm = colors.Normalize(vmin=0, vmax=vmax)
    cmap = plt.get_cmap("viridis")

    panels = 1 if args.router_metric == "none" else 2
    cell = max(0.3, min(0.6, 4.8 / max(w, h)))  # inches per router
    fig_w = max(panels * (w * cell + 1.6) + 0.3, 5.0)
    fig_h = h * cell + 1.3
    fig, axes = plt.subplots(1, panels, figsize=(fig_w, fig_h), squeeze=False)
    axes = axes[0]

    box = 0.42  # router square side, in grid units (routers are 1 apart)
    ax = axes[0]
    for y in range(h):
        for x in range(w):
            ax.add_patch(Rectangle((x - box / 2, y - box / 2), box, box, facecolor="0.85", edgecolor="0.4", lw=0.6))
            if w * h <= 100:
                ax.text(x, y, str(y * w + x), ha="center", va="center", fontsize=max(4, 7 - max(w, h) // 8),
                        color="0.25")
    gap, side = box / 2 + 0.03, 0.1  # arrows start just outside the square, offset to their right
    for d, (dx, dy) in DIRECTIONS.items():
        rx, ry = -dy, dx  # right-hand side of (dx, dy) with y downwards
        for y in range(h):
            for x in range(w):
                u = links[d][y][x]
                if u is None:
                    continue
                x0, y0 = x + dx * gap + rx * side, y + dy * gap + ry * side
                length = 1 - 2 * gap
                ax.add_patch(FancyArrow(x0, y0, dx * length, dy * length, width=0.06,
                                        head_width=0.16, head_length=0.1, length_includes_head=True,
                                        color=cmap(norm(u)), lw=0))
    sm = cm.ScalarMappable(norm=norm, cmap=cmap)
    fig.colorbar(sm, ax=ax, fraction=0.046, pad=0.03, label="link utilisation (flits / cycle)")
    ax.set_title("(a) directed links", fontsize=9)

    if panels == 2:
        key, label = (("buffer_occupancy_flits", "mean flits buffered")
                      if args.router_metric == "occupancy" else ("stall_cycles", "stall cycles"))
        grid = grids.get(key)
        if not isinstance(grid, list) or len(grid) != h or any(len(row) != w for row in grid):
            fail(f"{args.report}: interconnect.per_router.{key} is missing or not {w} x {h}")
        ax2 = axes[1]
        im = ax2.imshow(grid, cmap="magma", origin="upper", extent=(-0.5, w - 0.5, h - 0.5, -0.5),
                        vmin=0, interpolation="nearest")
        if w * h <= 144:
            top = max(max(row) for row in grid) or 1
            for y in range(h):
                for x in range(w):
                    v = grid[y][x]
                    ax2.text(x, y, f"{v:.1f}" if isinstance(v, float) else f"{v}", ha="center", va="center",
                             fontsize=max(4, 7 - max(w, h) // 8), color="white" if v < 0.6 * top else "black")
        fig.colorbar(im, ax=ax2, fraction=0.046, pad=0.03, label=label)
        ax2.set_title(f"(b) routers: {label}", fontsize=9)

    for a in axes:
        a.set_xlim(-0.6, w - 0.4)
        a.set_ylim(h - 0.4, -0.6)  # y downwards: north (y - 1) is up
        a.set_aspect("equal")
        a.set_xticks(range(w))
        a.set_yticks(range(h))
        a.tick_params(labelsize=7, length=0)
        a.set_xlabel("x", fontsize=8)
        a.set_ylabel("y", fontsize=8)
        for s in a.spines.values():
            s.set_visible(False)
    fig.suptitle("\n".join(textwrap.wrap(title_of(report, args.report), int(fig_w * 13))), fontsize=8)
    fig.tight_layout()
    fig.savefig(args.png, dpi=args.dpi)
    plt.close(fig)


if __name__ == "__main__":
    main()
