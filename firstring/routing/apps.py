from django.apps import AppConfig


class RoutingConfig(AppConfig):
    name = "firstring.routing"
    label = "routing"
    verbose_name = "Routing"

    def ready(self) -> None:
        # Every received message may need an agent: the router hears of it through the pipeline.
        from firstring.conversations import pipeline
        from firstring.routing.services.queue import tasks_for_messages

        pipeline.register_step("routing", tasks_for_messages)
        # The dashboards count service-level attainment as the live view does.
        from firstring.insights.rollup import rollup_source_register
        from firstring.routing.selectors import sla_rollup_rows

        rollup_source_register("routing.sla", sla_rollup_rows)
