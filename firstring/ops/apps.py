from django.apps import AppConfig


class OpsConfig(AppConfig):
    name = "firstring.ops"
    label = "ops"
    verbose_name = "Operations"

    def ready(self) -> None:
        from django_tasks.signals import task_enqueued

        from firstring.ops.wakeup import notify_task_enqueued

        # Wakes an idle database-queue worker at once on PostgreSQL (see ops.wakeup).
        task_enqueued.connect(notify_task_enqueued, dispatch_uid="firstring-wake-worker")
