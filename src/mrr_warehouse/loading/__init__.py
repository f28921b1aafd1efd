"""The steps of loading one file, which loader.FileLoad runs as a pipeline: read (reading.py) -> recognise the
request shape (shapes.py) -> validate and key each object (prepare.py) -> resolve references to what the
warehouse holds (references.py) -> judge and land (land.py). Counting and reporting live in report.py, the
per-file state every step shares in context.py, and the handling of each request shape in batches.py
(bulk arrays) and single.py (one-object requests)."""
