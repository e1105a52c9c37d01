"""The project's SQL models, shipped inside the package so that a plain `pip install .`
(the production image) carries them: setup/ (DDL), landing/, staging/ (views), marts/
(windowed tables), periods/ and views/ (analyst views). dora4_pipeline/sql.py runs them.

A package, not a folder beside the code, only so that the installer copies the `.sql`
files (package data, pyproject.toml); it holds no Python.
"""

from pathlib import Path

ROOT = Path(__file__).resolve().parent
