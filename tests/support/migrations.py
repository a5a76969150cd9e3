"""The schema every migrated store must have, SQLite and PostgreSQL alike: its tables, indexes,
the compositions table's columns and the migration versions (tests/unit/store/test_migrations*.py).
"""

from __future__ import annotations

TABLES = {"compositions", "processing_jobs", "job_metrics", "schema_migrations", "templates"}
TABLES |= {"callback_events"}
INDEXES = {
    "ix_compositions_status": ["status"],
    "ix_compositions_user_id": ["user_id"],
    "ix_compositions_created_at": ["created_at"],
    "ix_compositions_status_created_at": ["status", "created_at"],
    "ix_job_metrics_job_id": ["job_id"],
    "ix_job_metrics_job_type_created_at": ["job_type", "created_at"],
    "ix_compositions_cache_key": ["cache_key", "finished_at"],
    "ix_templates_created_at": ["created_at", "id"],
    "ix_callback_events_job_id": ["job_id"],
    "ix_callback_events_due": ["next_at"],
}
COMPOSITION_COLUMNS = (
    "id user_id kind config status progress progress_seq output_key thumbnail_key error attempts "
    "max_attempts lease_owner lease_token lease_expires_at cancel_requested created_at updated_at "
    "started_at finished_at metadata cache_key"
).split()
VERSIONS = ["0001", "0002", "0003", "0004", "0005"]
