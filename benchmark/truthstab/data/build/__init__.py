"""Generators of the truthstab releases: one module per domain, synthetic names, splits, templates.

Entry point: ``truthstab.data.build.pipeline.build_release(version, out_dir, seed)``.
"""
