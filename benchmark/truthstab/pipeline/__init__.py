"""The pipeline: one run configuration (:class:`~truthstab.pipeline.config.RunConfig`) and the runs that
read it, one job per module.

A score is dataset -> model -> activations -> layer choice -> probes -> behavioural track -> result ->
figures -> run folder (:func:`truthstab.pipeline.score.score`); `truthstab probe run`
(:func:`truthstab.pipeline.probe.probe_release`) and `truthstab activations extract`
(:func:`truthstab.pipeline.extract.extract_release`) are the same flow stopped earlier.

This file imports nothing, so the commands can read the configuration's defaults without loading a stage.
"""
