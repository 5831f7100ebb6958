"""dativo-infra: provision and tag the infrastructure Dativo ingestion jobs run on.

Importing this package is cheap: the Pulumi SDK and providers are imported
only by the program and the components, never by ``validate`` or ``export``.
"""
__version__ = "0.1.0"
