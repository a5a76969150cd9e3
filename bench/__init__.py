"""vidsvc's benchmark: `python -m bench [measure ...] [--quick]` (bench/README.md).

harness/ is how it measures, contenders/ what vidsvc is measured against, measures/ the
questions it asks (measures.MEASURES), seams.py the one place it reaches into vidsvc, and
results/ what it found.
"""
