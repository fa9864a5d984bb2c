"""tradebook: French foreign trade by département, from DGDDI open data to a Jupyter Book."""

__version__ = "0.1.0"
