"""Dagster wiring of the infosift loop: definitions, partitions, jobs, the grid spec. No algorithms live here."""
