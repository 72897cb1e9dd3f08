"""The reference model's dataset: schema, validation, reading batches, a seeded generator.

One schema serves the retrain job (which rejects a bad batch) and the monitor (which refuses
to score malformed recent data), so both agree on what a valid row is.
"""
