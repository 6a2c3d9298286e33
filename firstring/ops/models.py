from django.db import models


class WorkerHeartbeat(models.Model):
    """Each running worker refreshes its row, so /healthz can tell whether background work runs."""

    worker_id = models.CharField(max_length=64, unique=True)
    backend = models.CharField(max_length=16)
    host = models.CharField(max_length=255)
    pid = models.PositiveIntegerField()
    started_at = models.DateTimeField()
    seen_at = models.DateTimeField(db_index=True)

    def __str__(self) -> str:
        return f"{self.worker_id} ({self.backend})"
