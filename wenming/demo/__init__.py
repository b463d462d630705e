"""Demo data and the scale generator.

A plain package, not an app: ``street`` builds the demo street that
``manage.py load_demo`` loads, ``synth`` the synthetic data of
``manage.py synth`` for load tests, and ``names`` / ``people`` the
generated names, phones and ID numbers both use.
"""
