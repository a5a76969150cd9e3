"""Callbacks: signed, SSRF-checked POSTs to a client's callback_url, and the durable outbox.

Below every kind of work (work/clips and work/compositions both import it) and beside nothing
kind-specific: target.py (which URLs may be called), send.py (one signed attempt and the retry
policy), links.py (what a kind needs to write its body), outbox.py (webhook events from the
store, claimed with a lease: delivered across restarts and instances, once per event).
"""
