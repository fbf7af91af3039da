"""Thin Dagster assets, one module per stage of the loop: pool -> annotation -> label_graph -> selection ->
training -> evaluation -> reporting. Each module holds a ``build_*_assets(grid)`` factory."""
