"""Beat detection (issue 13): a numpy beat tracker (tracker.py), pure computation.

Decoding and caching live in vidsvc/runner/beats.py; the route in vidsvc/http/beats.py.
"""
