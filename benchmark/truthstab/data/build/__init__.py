"""Generators of the truthstab releases: one module per domain, synthetic names, splits, templates.

Entry point: ``truthstab.data.build.pipeline.build_release(version, out_dir, seed)``, which builds a
version from its recipe (``recipes``): 1.0.0 with the frozen code of ``pipeline``, 2.0.0 with
``pipeline2`` (audited before it is written).
"""
