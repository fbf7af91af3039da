"""Verdicts with their noise: paired comparisons of runs on per-question scores, and how far a study can see.

One module per job:

* ``resample``: bootstrap draws (count matrices over questions, clusters or seeds), percentile intervals and the
  bootstrap p-value.
* ``mcnemar``: McNemar's exact test for two runs' 0/1 answers to the same questions.
* ``holm``: Holm's step-down adjustment of a family of p-values.
* ``clustered``: the cluster-robust standard error of a mean (Miller 2024, Sec. 2.2).
* ``score_arrays``: the per-question table (``selection_ops.evaluation.questions``) as per-benchmark arrays.
* ``seeds``: per-seed benchmark means, the seed variance and its bootstrap stage.
* ``paired``: one benchmark, many pairs of runs: difference, interval, p-value, minimum detectable effect.
* ``aggregates``: MIG Appx. A.4's Avg_obj / Avg_sub / Avg differences from the per-benchmark replicates.
* ``verdicts``: the pairs of a report, Holm per benchmark family, the verdict table (``PAIR_COLUMNS``).
* ``power``: the minimum detectable effect and the questions / seeds a target difference needs.
* ``agreement``: do two studies order the same runs the same way (decision accuracy, Kendall, Spearman).
* ``correlation_ci``: bootstrap intervals of the report's correlations; control runs.
* ``informative``: benchmarks that score every run the same.
* ``commands``: the ``infosift power`` and ``infosift agreement`` commands.
"""
