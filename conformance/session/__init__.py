"""The session's work, as the plugin's hooks call it: `setup` (the run's state from its options,
refused in one line before any container starts), `start` (the engine, the run context, the
image), `reports` (every form of the report and the certification bundle) and `finish` (results in
order, the verdict, every container removed). pytest reaches these only through `conformance.plugin`."""
