"""The Flask blueprints, one module per resource the service offers."""
