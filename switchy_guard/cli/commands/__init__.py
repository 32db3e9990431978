"""One module per verb group: ``register(verbs)`` adds its verbs to the parser (see
:class:`~switchy_guard.cli.options.Verbs`), each with a short run function over the
library API; :data:`switchy_guard.cli.parser.GROUPS` lists the groups in ``--help``
order. ``frameworks`` holds helpers of ``check`` and ``plan``, no verb of its own."""
