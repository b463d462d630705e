"""Benchmarks: ``python bench/run.py`` runs them all and updates BENCHMARKS.md.

Not part of the test suite; see BENCHMARKS.md for what is measured.
"""
