"""Demo data for trying Firstring: `firstring demo`, and `make run` on an empty database."""
