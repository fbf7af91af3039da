"""What a study is, in plain Python: its grid file (``grid``) and the keys of its cells (``cells``).

The assets build their partitions from these, so they sit below the Dagster wiring.
"""
